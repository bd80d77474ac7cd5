"""Write ``corpus.json``: one entry per kind of secret, as services log it.

Each value has the shape its issuer gives it (prefix, alphabet, length, checksum-free
parts), drawn from a seeded generator: real-shaped, never real. Shapes are taken from
the issuers' documentation and from the detect-secrets and gitleaks rule tables; the
log phrasings (an env dump after a label, a retry message, a JSON body logged inside a
JSON line, a PEM key in a config dump) are the ones the attack on issue 12 used.
``secrets`` lists what must not survive in any output; ``kept`` what may (a prefix).
Run ``python3 tests/secrets/make_corpus.py`` to regenerate (deterministic).
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

R = random.Random(12)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def draw(alphabet: str, n: int) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


def pem(label: str, n_bytes: int = 1190) -> tuple[str, list[str]]:
    body = base64.b64encode(bytes(R.getrandbits(8) for _ in range(n_bytes))).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    text = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
    return text, [lines[0], lines[len(lines) // 2], lines[-2]]


def jwt() -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=")
    claims = base64.urlsafe_b64encode(json.dumps(
        {"sub": draw(HEX, 24), "iat": 1763770000, "scope": "agent"}).encode()).decode()
    return f"{head}.{claims.rstrip('=')}.{draw(URLSAFE, 86)}"


def main() -> None:
    kinds: list[dict[str, object]] = []

    def add(kind: str, text: str, *secrets: str) -> None:
        kinds.append({"kind": kind, "text": text, "secrets": list(secrets)})

    v = draw(ALNUM, 48)
    add("openai key after a label", f"env dump: OPENAI_API_KEY=sk-proj-{v}", v)
    v = draw(ALNUM + "!#%", 20)
    add("password pair after a label", f"env dump: DB_PASSWORD={v} PORT=8080", v)
    v = draw(ALNUM, 32)
    add("token pair after a label", f"retry: token={v} attempt=2", v)
    v = draw(ALNUM, 40)
    add("client_secret in a JSON body (escaped in the line)",
        "oauth body " + json.dumps({"client_id": "agent-web", "client_secret": v}), v)
    v = draw(ALNUM, 24)
    add("password nested in a JSON body",
        "config " + json.dumps({"db": {"user": "agent", "password": v}}), v)
    v = draw(ALNUM, 18)
    add("k8s env entry in a JSON body",
        "applied " + json.dumps({"env": [{"name": "DB_PASSWORD", "value": v}]}), v)
    text, parts = pem("RSA PRIVATE KEY")
    add("PEM RSA key longer than the excerpt", "loaded key " + text, *parts)
    text, parts = pem("PRIVATE KEY")
    cut = text[: text.index("-----END")]
    add("PEM key whose END line is missing", "tls key " + cut, *parts)
    text, parts = pem("OPENSSH PRIVATE KEY", 800)
    add("OpenSSH private key", "deploy key " + text, *parts)
    text, parts = pem("PGP PRIVATE KEY BLOCK", 900)
    add("PGP private key block", "signing key " + text, *parts)
    text, parts = pem("PRIVATE KEY")
    key_id = draw(HEX, 40)
    sa = {"type": "service_account", "project_id": "agent-prod", "private_key_id": key_id,
          "private_key": text, "client_email": "agent@agent-prod.iam.gserviceaccount.com",
          "client_id": "1" + draw("0123456789", 20), "token_uri":
          "https://oauth2.googleapis.com/token"}
    add("GCP service-account JSON", "GOOGLE_CREDENTIALS=" + json.dumps(sa), key_id, *parts)
    v = base64.b64encode(bytes(R.getrandbits(8) for _ in range(64))).decode()
    add("Azure storage connection string",
        f"DefaultEndpointsProtocol=https;AccountName=agentstore;AccountKey={v};"
        "EndpointSuffix=core.windows.net", v)
    v = base64.b64encode(bytes(R.getrandbits(8) for _ in range(32))).decode()
    add("Azure Service Bus connection string",
        "Endpoint=sb://agent-bus.servicebus.windows.net/;SharedAccessKeyName="
        f"RootManageSharedAccessKey;SharedAccessKey={v}", v)
    v = draw(ALNUM, 43)
    add("Azure SAS URL", "GET https://agentstore.blob.core.windows.net/runs/r1.json?sv=2022-11-02"
        f"&ss=b&srt=o&sp=r&se=2026-12-31T00:00:00Z&sig={v}%3D failed", v)
    v = draw(URLSAFE, 20)
    add("GitLab personal access token",
        f"git clone https://gitlab.com/acme/agent.git token glpat-{v}", v)
    v = draw(URLSAFE, 24)
    add("GitLab runner token", f"runner registered with glrt-{v}", v)
    v = draw(ALNUM, 24)
    add("Slack webhook URL", f"notify https://hooks.slack.com/services/T0{draw(ALNUM, 8).upper()}"
        f"/B0{draw(ALNUM, 8).upper()}/{v} failed", v)
    v = f"{draw('0123456789', 11)}-{draw('0123456789', 13)}-{draw(ALNUM, 24)}"
    add("Slack bot token", f"slack client xoxb-{v}", v)
    v1, v2 = draw(URLSAFE, 22), draw(URLSAFE, 43)
    add("SendGrid API key", f"mail send with SG.{v1}.{v2}", v1, v2)
    v = draw(HEX, 32)
    add("Twilio API key", f"twilio key SK{v}", v)
    v = draw(HEX, 32)
    add("Twilio account SID", f"twilio account AC{v}", v)
    v = draw(HEX, 32)
    add("Sentry DSN", f"sentry init dsn https://{v}@o450123.ingest.sentry.io/5501234", v)
    v = draw(ALNUM, 60)
    add("Sentry org token", f"sentry-cli auth sntrys_{v}", v)
    kid, sec = "AKIA" + draw(string.ascii_uppercase + "234567", 16), draw(B64, 40)
    add("bare AWS secret next to its key id", f"boto credentials {kid} {sec}", kid[4:], sec)
    kid, sec = "AKIA" + draw(string.ascii_uppercase + "234567", 16), draw(B64, 40)
    add("AWS key pair as assignments",
        f"aws_access_key_id={kid} aws_secret_access_key={sec}", kid[4:], sec)
    v = draw(ALNUM, 36)
    add("GitHub classic token", f"push with ghp_{v}", v)
    v = draw(ALNUM, 22) + "_" + draw(ALNUM, 59)
    add("GitHub fine-grained token", f"checkout github_pat_{v}", v)
    v = draw(URLSAFE, 93) + "AA"
    add("Anthropic API key", f"anthropic client key sk-ant-api03-{v}", v)
    v1, v2 = draw(ALNUM, 20), draw(ALNUM, 20)
    add("OpenAI legacy key", f"openai key sk-{v1}T3BlbkFJ{v2}", v1, v2)
    v = draw(ALNUM, 24)
    add("Stripe secret key", f"stripe charge with sk_live_{v}", v)
    v = draw(ALNUM, 24)
    add("Stripe restricted key", f"stripe rk_live_{v}", v)
    v = draw(URLSAFE, 35)
    add("Google API key", f"gemini call key=AIza{v}", v)
    v = draw(URLSAFE, 28)
    add("Google OAuth client secret", f"oauth client secret GOCSPX-{v}", v)
    v = draw(URLSAFE, 120)
    add("Google OAuth access token", f"calling vertex with ya29.{v}", v)
    v = draw(ALNUM, 34)
    add("Hugging Face token", f"hub download using hf_{v}", v)
    v = jwt()
    add("bearer JWT header", f"upstream call Authorization: Bearer {v}", v.split(".")[2])
    v = base64.b64encode(f"agent:{draw(ALNUM, 16)}".encode()).decode()
    add("basic auth header", f"proxy sent Authorization: Basic {v}", v)
    v = draw(ALNUM, 16)
    add("postgres URL password", f"connect postgresql://agent:{v}@db.internal:5432/app", v)
    v = draw(ALNUM, 16)
    add("mongodb+srv URL password",
        f"mongo mongodb+srv://agent:{v}@cluster0.ab1cd.mongodb.net/app?retryWrites=true", v)
    v = draw(ALNUM, 16)
    add("redis URL password", f"queue rediss://default:{v}@cache.internal:6380/0", v)
    v = draw(ALNUM, 36)
    add("npm token in .npmrc", f"npmrc //registry.npmjs.org/:_authToken=npm_{v}", v)
    v = "AgEIcHlwaS5vcmc" + draw(URLSAFE, 140)
    add("PyPI token", f"twine upload -p pypi-{v}", v[15:])
    v = "M" + draw(URLSAFE, 23) + "." + draw(URLSAFE, 6) + "." + draw(URLSAFE, 27)
    add("Discord bot token", f"discord login {v}", v)
    v = draw("0123456789", 10) + ":" + draw(URLSAFE, 35)
    add("Telegram bot token", f"telegram api https://api.telegram.org/bot{v}/sendMessage", v)
    v = draw("0123456789abcdef", 32)
    add("Mailchimp API key", f"mailchimp key {v}-us14", v)
    v = draw(URLSAFE, 43)
    add("Square OAuth secret", f"square secret sq0csp-{v}", v)
    v = draw(ALNUM, 24)
    add("cookie header", f"request headers Cookie: theme=dark; sid={v}", v)
    v = draw(ALNUM, 16)
    add("password command-line flag", f"spawned worker --db-password {v} --workers 4", v)
    v = draw(ALNUM, 32)
    add("Python dict repr", f"kwargs={{'api_key': '{v}', 'model': 'gpt-4o'}}", v)
    v = draw(HEX, 32)
    add("x-api-key header", f"forwarding x-api-key: {v}", v)
    v = draw(ALNUM, 52)
    add("Groq API key", f"groq client gsk_{v}", v)
    v1, v2 = draw(HEX, 32), draw(HEX, 10)
    add("LangSmith API key", f"tracing to langsmith lsv2_pt_{v1}_{v2}", v1)
    v = draw(HEX, 64)
    add("OpenRouter key", f"router key sk-or-v1-{v}", v)
    v = draw(HEX, 64)
    add("DigitalOcean token", f"doctl auth dop_v1_{v}", v)
    v = draw(HEX, 32)
    add("Databricks token", f"databricks host token dapi{v}", v)
    v = draw(URLSAFE, 90)
    add("Vault token", f"vault login hvs.{v}", v)
    v = draw(HEX, 32)
    add("Shopify access token", f"shopify admin shpat_{v}", v)
    v = draw(ALNUM, 32)
    add("Tavily API key", f"search tool tvly-{v}", v)
    v = draw(URLSAFE, 64)
    add("Pinecone API key", f"vector store pcsk_{v[:6]}_{v[6:]}", v[6:])
    v = draw(ALNUM, 37)
    add("Replicate token", f"replicate r8_{v}", v)
    v = draw(ALNUM, 40)
    add("passphrase in YAML", f"loaded yaml signing:\n  passphrase: {v}\n  algo: ed25519", v)
    out = Path(__file__).with_name("corpus.json")
    out.write_text(json.dumps({"kinds": kinds}, indent=1) + "\n", encoding="utf-8")
    print(f"{len(kinds)} kinds -> {out}")


if __name__ == "__main__":
    main()
