#!/usr/bin/env python3
"""The local stack's smoke test in hub mode (TENANCY=hub scripts/run-local.sh --check): one deployment, the fake's
workspaces connected with one call each, and nothing crossing between them.

    scripts/hub-smoke.py --base http://127.0.0.1:9000/lambda-url --fake http://127.0.0.1:4011 --admin-key-file F

Each check prints "ok: ..." or "FAILED: ..."; the exit status is the number of failures (0 when all hold).
Secrets are read from files or the fake's control route and never printed.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request

FAILURES = []


def call(method, url, body=None, key=None, timeout=60):
    """(status, parsed JSON or None) of one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if key:
        request.add_header("authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def check(name, condition, answer=None):
    if condition:
        print(f"[hub-smoke]   ok: {name}", flush=True)
    else:
        shown = json.dumps(answer)[:500] if answer is not None else ""
        print(f"[hub-smoke]   FAILED: {name} {shown}", flush=True)
        FAILURES.append(name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the function URLs' base, …/lambda-url")
    parser.add_argument("--fake", required=True, help="the fake Intercom's base URL")
    parser.add_argument("--admin-key-file", required=True, help="a file holding HUB_ADMIN_KEY")
    args = parser.parse_args()
    admin_key = open(args.admin_key_file).read().strip()
    connect_url = f"{args.base}/connect-workspace/"

    status, workspaces = call("GET", f"{args.fake}/__fake/workspaces")
    check("the fake serves two workspaces", status == 200 and isinstance(workspaces, list) and len(workspaces) >= 2)
    if FAILURES:
        return len(FAILURES)
    a, b = workspaces[0], workspaces[1]

    print("[hub-smoke] connect each workspace with one call", flush=True)
    keys = {}
    for ws in (a, b):
        status, answer = call("POST", connect_url, {"accessToken": ws["accessToken"], "clientSecret": ws["clientSecret"]},
                              key=admin_key)
        answer = answer or {}
        check(f"{ws['workspaceId']} connected (201) and its attributes created",
              status == 201 and answer.get("workspaceId") == ws["workspaceId"]
              and sorted(answer.get("createdAttributes") or []) == ["escalation_count", "last_ai_session"], answer)
        check(f"{ws['workspaceId']}: the answer holds no secret",
              ws["accessToken"] not in json.dumps(answer) and ws["clientSecret"] not in json.dumps(answer))
        keys[ws["workspaceId"]] = answer.get("agentApiKey")
    status, answer = call("POST", connect_url, {"accessToken": "not-a-token", "clientSecret": "x"}, key=admin_key)
    check("a token Intercom refuses is 401 invalid_token", status == 401 and (answer or {}).get("error", {}).get("code") == "invalid_token", answer)
    status, answer = call("GET", connect_url, key=keys.get(a["workspaceId"]))
    check("an agent key is never the hub's key (401)", status == 401, answer)
    status, answer = call("GET", connect_url, key=admin_key)
    listed = sorted(w["workspaceId"] for w in (answer or {}).get("workspaces", []))
    check("GET lists both", status == 200 and listed == sorted([a["workspaceId"], b["workspaceId"]]), answer)

    print("[hub-smoke] the same session in both workspaces escalates once in each", flush=True)
    session = {"sessionId": "hub-smoke-1", "userEmail": "jane@example.com", "confidence": 0.2,
               "category": "billing", "lastMessage": "I was charged twice"}
    opened = {}
    for ws in (a, b):
        status, answer = call("POST", f"{args.base}/escalate/", session, key=keys[ws["workspaceId"]])
        answer = answer or {}
        check(f"{ws['workspaceId']}: escalate opens a conversation", status == 200 and answer.get("escalated") is True
              and not answer.get("alreadyEscalated"), answer)
        opened[ws["workspaceId"]] = str(answer.get("conversationId"))
    status, state = call("GET", f"{args.fake}/__fake/state?workspace={b['workspaceId']}")
    conversations = (state or {}).get("conversations", {})
    # The fake keys its conversations by id (a list of records in older versions of its state).
    ids_b = {str(k) for k in conversations} if isinstance(conversations, dict) else {str(c.get("id")) for c in conversations}
    check("B's conversation is in B", opened[b["workspaceId"]] in ids_b, state and list(ids_b))
    check("A's conversation is not in B", opened[a["workspaceId"]] not in ids_b)

    status, answer = call("POST", f"{args.base}/get-conversation/", {"conversationId": opened[b["workspaceId"]]},
                          key=keys[a["workspaceId"]])
    check("A's key on B's conversation is 404, with nothing of B", status == 404 and "charged twice" not in json.dumps(answer), answer)
    status, answer = call("POST", f"{args.base}/get-conversation/", {"conversationId": opened[a["workspaceId"]]},
                          key=keys[a["workspaceId"]])
    check("A's key reads A's conversation", status == 200, answer)
    status, answer = call("POST", f"{args.base}/get-conversation/", {"conversationId": opened[a["workspaceId"]]},
                          key="iak_" + "0" * 64)
    check("an unknown key is 401", status == 401, answer)

    print("[hub-smoke] disconnect: its key is refused at once", flush=True)
    status, answer = call("DELETE", connect_url, {"workspaceId": b["workspaceId"]}, key=admin_key)
    check("B disconnected", status == 200 and (answer or {}).get("disconnected") is True, answer)
    status, answer = call("POST", f"{args.base}/get-conversation/", {"conversationId": opened[b["workspaceId"]]},
                          key=keys[b["workspaceId"]])
    check("B's key is 401 after the disconnect", status == 401, answer)
    status, answer = call("POST", f"{args.base}/get-conversation/", {"conversationId": opened[a["workspaceId"]]},
                          key=keys[a["workspaceId"]])
    check("A still works", status == 200, answer)
    return len(FAILURES)


if __name__ == "__main__":
    sys.exit(main())
