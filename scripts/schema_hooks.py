"""Schemathesis hooks for scripts/test-schema.sh: aim generated requests at data the fake Intercom holds, and
check that every refusal of a schema-valid request is a business answer, not a validation the schema missed.

Only two rules are bent here, both ones JSON Schema cannot state and the schema's descriptions do:
- a snooze time must be in the future (the schema's bound cannot move with the clock);
- tag-conversation refuses a name both added and removed (case-insensitively), and an idempotency key sent in
  the header and the body must be the same key.
Everything else a generated request holds is sent as generated.
"""

import os
import time
import uuid
import zlib

import schemathesis

CONVERSATIONS = [c for c in os.environ.get("SCHEMA_CONVERSATION_IDS", "").split(",") if c]
CONTACTS = [c for c in os.environ.get("SCHEMA_CONTACT_IDS", "").split(",") if c]
EMAILS = [e for e in os.environ.get("SCHEMA_CUSTOMER_EMAILS", "").split(",") if e]

# 4xx answers a schema-valid request may get, by status: the resource is missing, a human handles the
# conversation, the workspace has no such custom attribute (the fake refuses undefined ones, as Intercom does).
BUSINESS_CODES = {404: {"not_found"}, 409: {"human_handles_conversation"}, 422: {"unknown_attribute"}}


def _pick(pool, seed):
    """Most generated ids become real ones (deterministically, from the generated value); a quarter stay random."""
    if not pool:
        return None
    h = zlib.crc32(str(seed).encode())
    return None if h % 4 == 0 else pool[h % len(pool)]


def _unique(key):
    """A fresh idempotency key built on the generated one, so two different requests never share a key."""
    return f"{str(key)[:200]}-{uuid.uuid4()}"


@schemathesis.hook
def map_case(ctx, case):
    body = case.body if isinstance(case.body, dict) else None
    for params in (body, case.query):
        if isinstance(params, dict):
            if "conversationId" in params:
                params["conversationId"] = _pick(CONVERSATIONS, params["conversationId"]) or params["conversationId"]
            if isinstance(params.get("contactId"), str):
                params["contactId"] = _pick(CONTACTS, params["contactId"]) or params["contactId"]
            if isinstance(params.get("userEmail"), str):
                params["userEmail"] = _pick(EMAILS, params["userEmail"]) or params["userEmail"]
    headers = case.headers if isinstance(case.headers, dict) else None
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
    return case


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
