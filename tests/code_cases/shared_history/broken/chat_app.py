"""Python twin of seeds 000/001: a module-level message list grown by every request."""
from flask import Flask, request

app = Flask(__name__)
messages: list[dict[str, str]] = []
transcript = []


@app.post("/chat")
def chat():
    messages.append({"role": "user", "content": request.json["message"]})  # expect: code.shared_history
    remember(request.json["message"])
    return {"n": len(messages)}


def remember(line: str) -> None:
    transcript.extend([line])  # expect: code.shared_history
