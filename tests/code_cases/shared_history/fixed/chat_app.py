"""FIXED: history loaded per session from a store, built per request."""
from flask import Flask, request

app = Flask(__name__)
PLUGINS = []
PLUGINS.append("audit")  # start-up registration, not per request


@app.post("/chat")
def chat():
    messages = load_messages(request.json["session_id"])
    messages.append({"role": "user", "content": request.json["message"]})
    save_messages(request.json["session_id"], messages)
    return {"n": len(messages)}
