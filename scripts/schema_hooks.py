"""Schemathesis hooks for scripts/test-schema.sh: aim generated requests at data the fake Intercom holds, and
check that every refusal of a schema-valid request is a business answer, not a validation the schema missed.

The changes are made in `before_call`, which runs right before every request of every phase (a `map_case`
change is made once per generated case, and a case sent again, e.g. when a failure is replayed, would reuse an
idempotency key it already used).

Only these rules are bent, all ones JSON Schema cannot state and the schema's descriptions do:
- a snooze time must be in the future (the schema's bound cannot move with the clock);
- tag-conversation refuses a name both added and removed (case-insensitively), and an idempotency key sent in
  the header and the body must be the same key;
- a cursor is only ever one a previous page gave (here: one the fake gives, `offset:<n>`).
Ids, emails, team names and attribute names become ones the fake knows for most cases (a quarter stay as
generated, to meet the 404 and 422 answers too); everything else is sent as generated.
"""

import json
import os
import time
import uuid
import zlib
from collections.abc import MutableMapping

import schemathesis


def _list(name):
    return [v for v in os.environ.get(name, "").split(",") if v]


CONVERSATIONS = _list("SCHEMA_CONVERSATION_IDS")
CONTACTS = _list("SCHEMA_CONTACT_IDS")
EMAILS = _list("SCHEMA_CUSTOMER_EMAILS")
ADMINS = _list("SCHEMA_ADMIN_IDS")
TEAM_IDS = _list("SCHEMA_TEAM_IDS")
TEAM_NAMES = _list("SCHEMA_TEAM_NAMES")
# The workspace's writable custom contact attributes: {"name": "string" | "integer" | "float" | "boolean" | "date"}.
ATTRIBUTES = json.loads(os.environ.get("SCHEMA_ATTRIBUTES") or "{}")

# 4xx answers a schema-valid request may get, by status: the resource is missing, a human handles the
# conversation, the workspace has no such custom attribute (the fake refuses undefined ones, as Intercom does).
BUSINESS_CODES = {404: {"not_found"}, 409: {"human_handles_conversation"}, 422: {"unknown_attribute"}}


def _pick(pool, seed):
    """Most generated values become known ones (deterministically, from the generated value); a quarter stay."""
    if not pool:
        return None
    h = zlib.crc32(str(seed).encode())
    return None if h % 4 == 0 else pool[h % len(pool)]


def _unique(key):
    """A fresh idempotency key built on the generated one, so two requests (or two sends) never share a key."""
    return f"{str(key)[:200]}-{uuid.uuid4()}"


def _typed(value, data_type):
    """`value` as the attribute's type (null stays null: it clears the attribute)."""
    if value is None:
        return None
    number = zlib.crc32(json.dumps(value).encode()) % 100_000
    return {
        "string": value if isinstance(value, str) else str(value)[:255],
        "integer": number,
        "date": 1_700_000_000 + number,
        "float": number / 8,
        "boolean": bool(number % 2),
    }.get(data_type, value)


def _aim(params):
    for field, pool in (
        ("conversationId", CONVERSATIONS),
        ("contactId", CONTACTS),
        ("userEmail", EMAILS),
        ("adminId", ADMINS),
        ("teamId", TEAM_IDS),
        ("teamName", TEAM_NAMES),
    ):
        if isinstance(params.get(field), str) and params[field] != "0":
            params[field] = _pick(pool, params[field]) or params[field]
    if isinstance(params.get("cursor"), str):
        params["cursor"] = f"offset:{zlib.crc32(params['cursor'].encode()) % 60}"
    attributes = params.get("attributes")
    if isinstance(attributes, dict) and ATTRIBUTES:
        names = sorted(ATTRIBUTES)
        aimed = {}
        for name, value in attributes.items():
            known = _pick(names, name)
            if known is None:
                aimed[name] = value
            else:
                aimed[known] = _typed(value, ATTRIBUTES[known])
        params["attributes"] = aimed


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    body = case.body if isinstance(case.body, dict) else None
    for params in (body, case.query):
        if isinstance(params, MutableMapping):
            _aim(params)
    # Headers are a case-insensitive mapping, not a dict.
    headers = case.headers if isinstance(case.headers, MutableMapping) else None
    header_key = None
    if headers is not None and headers.get("Idempotency-Key"):
        header_key = headers["Idempotency-Key"] = _unique(headers["Idempotency-Key"])
    if body is not None:
        if isinstance(body.get("idempotencyKey"), str):
            body["idempotencyKey"] = header_key or _unique(body["idempotencyKey"])
        if body.get("action") == "snooze" and body.get("snoozedUntil") is not None:
            until = int(time.time()) + 3600
            body["snoozedUntil"] = str(until) if isinstance(body["snoozedUntil"], str) else until
        if isinstance(body.get("tags"), list) and isinstance(body.get("removeTags"), list):
            added = {t.strip().lower() for t in body["tags"] if isinstance(t, str)}
            body["removeTags"] = [t for t in body["removeTags"] if t.strip().lower() not in added]


@schemathesis.check
def refusals_are_business_answers(ctx, response, case):
    """A 4xx to a schema-valid request names a business reason (the status alone would also pass a 422 for a
    reused key or a 409 for a key in use, which these requests never cause)."""
    if not 400 <= response.status_code < 500 or response.status_code in (401, 405):
        return None
    try:
        code = response.json()["error"]["code"]
    except Exception:  # noqa: BLE001 - a body that is not the error schema fails here
        code = None
    allowed = BUSINESS_CODES.get(response.status_code, set())
    if code not in allowed:
        raise AssertionError(
            f"a schema-valid request was refused with {response.status_code} {code!r}: "
            f"{response.text[:300]} — the schema admits what the function refuses"
        )
    return None
