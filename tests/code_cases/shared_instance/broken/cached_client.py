"""A cached factory and a global slot: both hand one object to every request."""
from functools import lru_cache

from autogen_agentchat.agents import AssistantAgent
from autogen_ext.models.openai import OpenAIChatCompletionClient
from flask import Flask, request

app = Flask(__name__)
_team = None


@lru_cache(maxsize=1)
def model_client():
    return OpenAIChatCompletionClient(model="gpt-4o-mini")  # expect: code.shared_instance


def get_team():
    global _team
    if _team is None:
        _team = AssistantAgent("support", model_client=model_client())  # expect: code.shared_instance
    return _team


@app.route("/ask", methods=["POST"])
async def ask():
    return await get_team().run(task=request.json["prompt"])
