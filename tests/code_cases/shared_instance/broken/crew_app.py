"""Python twin of seed 002: one Crew built at import, used by a FastAPI route."""
from crewai import Agent, Crew, Task
from fastapi import FastAPI

app = FastAPI()
analyst = Agent(role="Analyst", goal="Summarize customer cases")  # expect: code.shared_instance
crew = Crew(agents=[analyst], tasks=[])  # expect: code.shared_instance


@app.post("/summarize")
async def summarize(body: dict):
    task = Task(description=f"Summarize {body['customer_id']}", agent=analyst)
    crew.tasks = [task]  # expect: code.stateful_tool
    return crew.kickoff()
