"""Python twin of seed 002 FIXED: agent and crew built per request."""
from crewai import Agent, Crew, Task
from fastapi import FastAPI

app = FastAPI()


def build_crew(customer_id: str) -> Crew:
    analyst = Agent(role="Analyst", goal="Summarize customer cases")
    task = Task(description=f"Summarize {customer_id}", agent=analyst)
    return Crew(agents=[analyst], tasks=[task])


@app.post("/summarize")
async def summarize(body: dict):
    crew = build_crew(body["customer_id"])
    return crew.kickoff()
