"""Python twins: a CrewAI tool keeping call input on self, and a shared tool object."""
from crewai.tools import BaseTool
from fastapi import FastAPI, Request


class CaseTool(BaseTool):
    name: str = "case"
    description: str = "Look a case up"
    customer_id: str = ""

    def _run(self, customer_id: str) -> str:
        self.customer_id = customer_id  # expect: code.stateful_tool
        return f"Processing {self.customer_id}"


class Pricing:
    currency = "EUR"


pricing = Pricing()
app = FastAPI()


@app.post("/quote")
async def quote(request: Request):
    body = await request.json()
    pricing.currency = body["currency"]  # expect: code.stateful_tool
    return {"ok": True}
