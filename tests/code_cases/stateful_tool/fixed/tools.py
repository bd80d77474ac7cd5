"""FIXED: the tool passes its input through; a per-request object holds request data."""
from crewai.tools import BaseTool
from fastapi import FastAPI, Request


class CaseTool(BaseTool):
    name: str = "case"
    description: str = "Look a case up"

    def __init__(self, region: str) -> None:
        super().__init__()
        self.region = region

    def _run(self, customer_id: str) -> str:
        return f"Processing {customer_id} in {self.region}"


class Pricing:
    currency = "EUR"


app = FastAPI()


@app.post("/quote")
async def quote(request: Request):
    body = await request.json()
    pricing = Pricing()
    pricing.currency = body["currency"]
    return {"ok": True}
