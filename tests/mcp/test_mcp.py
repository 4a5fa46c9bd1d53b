"""The `mcp` function through the official MCP Python SDK, against the fake Intercom.

Run by scripts/test-mcp.sh, which starts the fake Intercom and `cargo lambda watch` and sets:
  MCP_URL   the function URL (http://127.0.0.1:<port>/lambda-url/mcp/)
  MCP_KEY   the agent api key the function expects
  FAKE_URL  the fake Intercom (its state is at /__fake/state)
"""

import json
import os
import urllib.request
import uuid
from contextlib import asynccontextmanager

import httpx2
import jsonschema
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

MCP_URL = os.environ["MCP_URL"]
MCP_KEY = os.environ["MCP_KEY"]
FAKE_URL = os.environ["FAKE_URL"]

TOOLS = [
    "create_conversation",
    "reply_to_conversation",
    "update_user_attributes",
    "get_conversation",
    "tag_conversation",
    "assign_conversation",
    "manage_conversation",
    "escalate",
    "find_conversations",
]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@asynccontextmanager
async def session(key=MCP_KEY):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(MCP_URL, http_client=http) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                yield s


def fake_state():
    with urllib.request.urlopen(FAKE_URL + "/__fake/state", timeout=10) as r:
        return json.load(r)


def conversation(state, conversation_id):
    return state["conversations"][str(conversation_id)]


def tag_names(state, conversation_id):
    names = {str(t["id"]): t["name"] for t in state["tags"]}
    return [names.get(str(t["tag_id"])) for t in conversation(state, conversation_id)["tags"]]


async def call(s, name, arguments):
    result = await s.call_tool(name, arguments)
    assert not result.is_error, f"{name} refused: {result.structured_content}"
    # The text content and structuredContent carry the same JSON.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def test_initialize_names_the_server_and_a_supported_version():
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {MCP_KEY}"}) as http:
        async with streamable_http_client(MCP_URL, http_client=http) as (read, write):
            async with ClientSession(read, write) as s:
                result = await s.initialize()
                assert result.server_info.name == "intercom-actions"
                assert result.protocol_version in ("2025-11-25", "2025-06-18", "2025-03-26")
                assert result.capabilities.tools is not None
                assert "escalate" in (result.instructions or "")
                await s.send_ping()


async def test_every_tool_is_listed_with_valid_json_schemas_and_annotations():
    async with session() as s:
        listed = (await s.list_tools()).tools
    assert [t.name for t in listed] == TOOLS
    for tool in listed:
        for schema in (tool.input_schema, tool.output_schema):
            assert schema["type"] == "object", tool.name
            jsonschema.Draft202012Validator.check_schema(schema)
        assert tool.description and len(tool.description) > 80, tool.name
        a = tool.annotations
        assert None not in (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint), tool.name
    by_name = {t.name: t for t in listed}
    assert by_name["get_conversation"].annotations.read_only_hint is True
    assert by_name["reply_to_conversation"].annotations.idempotent_hint is False
    assert "dryRun" in by_name["escalate"].description
    assert "escalate" in by_name["reply_to_conversation"].description
    assert by_name["reply_to_conversation"].input_schema["properties"]["messageType"]["enum"] == ["comment", "note"]


async def test_every_tool_acts_on_the_fake_intercom():
    email = f"mcp-{uuid.uuid4().hex[:8]}@example.com"
    async with session() as s:
        created = await call(s, "create_conversation", {"userEmail": email, "body": "My parcel never arrived"})
        cid = created["conversationId"]
        state = fake_state()
        assert created["contactCreated"] is True
        assert any(c["email"] == email for c in state["contacts"])
        assert conversation(state, cid)["source"]["body"].find("My parcel never arrived") >= 0

        replied = await call(s, "reply_to_conversation", {"conversationId": cid, "body": "Sorry! Checking now."})
        assert replied["messageType"] == "comment"
        parts = conversation(fake_state(), cid)["parts"]
        assert any(p["part_type"] == "comment" and "Checking now" in (p["body"] or "") for p in parts)

        await call(s, "update_user_attributes", {"userEmail": email, "attributes": {"support_tier": "premium"}})
        contact = next(c for c in fake_state()["contacts"] if c["email"] == email)
        assert contact["custom_attributes"]["support_tier"] == "premium"

        history = await call(s, "get_conversation", {"conversationId": cid})
        assert history["conversationId"] == cid
        assert any("Checking now" in m["text"] for m in history["messages"])

        tagged = await call(s, "tag_conversation", {"conversationId": cid, "tags": ["shipping"]})
        assert tagged["added"] == ["shipping"]
        assert tag_names(fake_state(), cid) == ["shipping"]

        await call(s, "assign_conversation", {"conversationId": cid, "teamName": "Support"})
        team = conversation(fake_state(), cid)["team_assignee_id"]
        assert team is not None and str(team) in [str(t["id"]) for t in fake_state()["teams"] if t["name"] == "Support"]

        found = await call(s, "find_conversations", {"userEmail": email, "state": "any"})
        assert cid in [c["conversationId"] for c in found["conversations"]], found

        closed = await call(s, "manage_conversation", {"conversationId": cid, "action": "close"})
        assert closed["state"] == "closed"
        assert conversation(fake_state(), cid)["state"] == "closed"


async def test_a_retried_write_with_its_idempotency_key_posts_once():
    email = f"mcp-{uuid.uuid4().hex[:8]}@example.com"
    key = str(uuid.uuid4())
    async with session() as s:
        cid = (await call(s, "create_conversation", {"userEmail": email, "body": "Hello"}))["conversationId"]
        args = {"conversationId": cid, "body": "Your refund is on its way.", "messageType": "note", "idempotencyKey": key}
        first = await call(s, "reply_to_conversation", args)
        again = await call(s, "reply_to_conversation", args)
        assert again == first
        parts = conversation(fake_state(), cid)["parts"]
        assert sum("refund is on its way" in (p["body"] or "") for p in parts) == 1
        other = await s.call_tool("reply_to_conversation", {**args, "body": "Something else"})
        assert other.is_error and other.structured_content["error"]["code"] == "idempotency_key_reused"


async def test_a_refused_call_is_a_tool_error_naming_the_field():
    async with session() as s:
        result = await s.call_tool("reply_to_conversation", {"conversationId": "not-a-number", "body": "hi"})
    assert result.is_error is True
    error = result.structured_content["error"]
    assert (error["code"], error["field"]) == ("invalid_request", "conversationId")
    assert json.loads(result.content[0].text)["error"]["field"] == "conversationId"


async def test_an_unknown_tool_is_a_json_rpc_error():
    async with session() as s:
        with pytest.raises(Exception) as raised:
            await s.call_tool("delete_everything", {})
    assert "unknown tool" in str(raised.value)


@pytest.mark.parametrize("key", ["wrong-key", None])
async def test_a_wrong_or_missing_key_is_401(key):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    async with httpx2.AsyncClient() as http:
        r = await http.post(MCP_URL, json=body, headers={**headers, "Accept": "application/json, text/event-stream"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


async def test_transport_rules_for_a_server_without_sessions():
    auth = {"Authorization": f"Bearer {MCP_KEY}", "Accept": "application/json, text/event-stream"}
    ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
    async with httpx2.AsyncClient() as http:
        assert (await http.get(MCP_URL, headers=auth)).status_code == 405
        assert (await http.delete(MCP_URL, headers=auth)).status_code == 405
        r = await http.post(MCP_URL, json=ping, headers={**auth, "MCP-Protocol-Version": "1999-01-01"})
        assert r.status_code == 400
        r = await http.post(MCP_URL, json=ping, headers={**auth, "Origin": "https://evil.example"})
        assert r.status_code == 403
        r = await http.post(MCP_URL, json=ping, headers={**auth, "MCP-Protocol-Version": "2025-06-18"})
        assert (r.status_code, r.json()["result"]) == (200, {})
        assert r.headers["content-type"].startswith("application/json")
        assert "mcp-session-id" not in r.headers


async def test_an_escalation_end_to_end():
    session_id = f"mcp-{uuid.uuid4().hex[:8]}"
    args = {"sessionId": session_id, "userEmail": "jane@example.com", "confidence": 0.9, "category": "billing",
            "lastMessage": "I was charged twice this month",
            "transcript": [{"role": "customer", "text": "Hi"}, {"role": "ai", "text": "Hello, how can I help?"}]}
    async with session() as s:
        dry = await call(s, "escalate", {**args, "dryRun": True})
        assert (dry["escalated"], dry["dryRun"], dry["conversationId"]) == (True, True, None)

        first = await call(s, "escalate", args)
        assert first["escalated"] is True and first["alreadyEscalated"] is False
        assert first["reasons"] == ["sensitive_category:billing"]
        cid = first["conversationId"]
        state = fake_state()
        conv = conversation(state, cid)
        assert "ai-escalation" in tag_names(state, cid)
        assert any(p["part_type"] == "note" and "Hello, how can I help?" in (p["body"] or "") for p in conv["parts"])

        again = await call(s, "escalate", args)
        assert (again["conversationId"], again["alreadyEscalated"]) == (cid, True)
