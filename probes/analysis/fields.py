"""Named values the analyses read from ``LogEvent.fields``, with the spellings services use.

Ingestion keeps fields under the names the service logged; this table says which names
mean the same thing, so an analysis asks for "version" and finds ``stateVersion`` too.
"""

from __future__ import annotations

from typing import Any

from probes.events import LogEvent

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "version": ("version", "stateVersion", "state_version", "ver", "rev", "revision"),
    "history_len": ("history_len", "historyLen", "history_length", "historyLength",
                    "message_count", "messageCount", "messages_len", "n_messages",
                    "messages_in_state", "turns", "turn_count"),
    "key": ("key", "stateKey", "state_key", "record_key", "recordKey"),
    "user": ("user", "userId", "user_id", "uid", "enduser.id"),
    "expected": ("expected", "expected_id", "expectedId"),
    "value": ("value", "actual", "got"),
}

IDENTITY_FIELDS: tuple[str, ...] = (
    "customerId", "customer_id", "tenantId", "tenant_id", "accountId", "account_id",
    "userId", "user_id", "orderId", "order_id", "claimId", "claim_id", "user",
    "span_request_id",
)
"""Per-request identities: one request should see one value of each. Ingestion keeps
the user under the role name ``user``; the raw spellings serve ``--field`` overrides and
future roles."""


def field_value(ev: LogEvent, name: str) -> Any:
    """The first present alias of ``name`` in the event's fields, or None."""
    if not ev.fields:
        return None
    for alias in FIELD_ALIASES.get(name, (name,)):
        v = ev.fields.get(alias)
        if v is not None and v != "":
            return v
    return None


def as_int(v: Any) -> int | None:
    """An integer from an int, a float with no fraction or a decimal string; else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v.strip())
    return None
