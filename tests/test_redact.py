"""Redaction rules, each tested on realistic secrets (shapes as providers issue them;
the values themselves are made up) and on look-alikes that must survive."""

from __future__ import annotations

import json

import pytest

from probes.redact import ENV_MASK, is_secret_name, redact_env, redact_obj, redact_text

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")

# (input, expected output): the golden table.
GOLDEN = [
    (f"Authorization: Bearer {JWT}", "Authorization: ***"),
    ("proxy-authorization=Basic dXNlcjpwYXNzd29yZA==", "proxy-authorization=***"),
    (f"sending bearer {JWT} upstream", "sending bearer *** upstream"),
    (f"cookie jar had {JWT} in it", "cookie jar had eyJ*** in it"),
    ("OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z rest", "OPENAI_API_KEY=*** rest"),
    ("key is sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wxyz-0123 ok", "key is sk-ant-api03-*** ok"),
    ("clone with ghp_16C7e42F292c6912E7710c838347Ae178B4a done", "clone with ghp_*** done"),
    ("slack xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy", "slack xoxb-***"),
    ("aws AKIAIOSFODNN7EXAMPLE used", "aws AKIA*** used"),
    ("connecting to postgres://agent:s3cr3t-P%40ss@db.internal:5432/app",
     "connecting to postgres://agent:***@db.internal:5432/app"),
    ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
    ('{"api_key": "abc123def", "model": "gpt-4o"}', '{"api_key": "***", "model": "gpt-4o"}'),
    ('level=info msg=login password="pa ss" user=bob',
     'level=info msg=login password="***" user=bob'),
    ("x-api-key: 9f8e7d6c5b4a", "x-api-key: ***"),
    ("run --password hunter2 --verbose", "run --password *** --verbose"),
    ("DB_PASSWORD=hunter2", "DB_PASSWORD=***"),
    ('{"env":[{"name":"DB_PASSWORD","value":"hunter2"},{"name":"PORT","value":"80"}]}',
     '{"env":[{"name":"DB_PASSWORD","value":"***redacted***"},{"name":"PORT","value":"80"}]}'),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----",
     "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----"),
]

# Text that looks busy but holds no secret: must come back unchanged.
UNTOUCHED = [
    "lastState.terminated: reason=OOMKilled exitCode=137 finishedAt=2024-07-18T10:00:00Z",
    "image docker.io/stefanprodan/podinfo@sha256:"
    "862ca45e61b32392f7941a1bdfdbe5ff8b6899070135f1bdca1c287d0057fc94",
    "usage prompt_tokens=512 completion_tokens=80 max_tokens=1024 tokens: 592",
    "postgres://db.internal:5432/app",
    "volume secretName: db-creds mounted",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "https://example.com/path?q=1",
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_redaction(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", [t for t, _ in GOLDEN] + UNTOUCHED)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


@pytest.mark.parametrize("text", UNTOUCHED)
def test_non_secrets_survive(text: str) -> None:
    assert redact_text(text) == text


def test_secret_names() -> None:
    for name in ("DB_PASSWORD", "openaiApiKey", "client_secret", "AUTH_TOKEN", "x-api-key",
                 "SESSION_TOKEN", "aws_secret_access_key", "SENTRY_DSN"):
        assert is_secret_name(name), name
    for name in ("LOG_LEVEL", "secretName", "TOKEN_PATH", "max_tokens", "author", "PORT",
                 "password_file", "tokenExpirationSeconds", "sessionId", "session_id"):
        assert not is_secret_name(name), name


def test_redact_env() -> None:
    assert redact_env("OPENAI_API_KEY", "sk-whatever-it-is") == ENV_MASK
    assert redact_env("DATABASE_URL", "mysql://root:toor@db/app") == "mysql://root:***@db/app"
    assert redact_env("LOG_LEVEL", "debug") == "debug"


def test_redact_obj_pod_env_and_nested() -> None:
    pod = {
        "spec": {"containers": [{
            "name": "agent",
            "args": ["--api-key", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"],
            "env": [
                {"name": "ANTHROPIC_API_KEY", "value": "not-shaped-like-a-key"},
                {"name": "REDIS_URL", "value": "redis://default:pw0rd@redis:6379"},
                {"name": "NODE_ENV", "value": "production"},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
            ],
        }]},
        "status": {"message": f"Authorization: Bearer {JWT}"},
    }
    original = json.dumps(pod)
    out = redact_obj(pod)
    assert json.dumps(pod) == original, "input must not be mutated"
    c = out["spec"]["containers"][0]
    assert c["args"] == ["--api-key", "sk-proj-***"]
    env = {e["name"]: e for e in c["env"]}
    assert env["ANTHROPIC_API_KEY"]["value"] == ENV_MASK
    assert env["REDIS_URL"]["value"] == "redis://default:***@redis:6379"
    assert env["NODE_ENV"]["value"] == "production"
    assert env["DB_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "db", "key": "pw"}}
    assert out["status"]["message"] == "Authorization: ***"
    assert "pw0rd" not in json.dumps(out) and "not-shaped" not in json.dumps(out)
