#!/usr/bin/env python3
"""A stand-in for the agent's webhook endpoint, for the local stack.

Listens on 127.0.0.1:PORT, checks each POST's `X-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body with
AGENT_WEBHOOK_SECRET), prints one line per event, and keeps what it received for `GET /received`
(`[{"valid": bool, "idempotencyKey": ..., "event": {...}}]`).

    AGENT_WEBHOOK_SECRET=s python3 scripts/agent-receiver.py 9010

AGENT_RECEIVER_DELAY_SECONDS (default 0) makes it a slow agent: each POST is answered after that long
(scripts/bench.sh uses it to show the webhook's acknowledgement does not wait for the agent).
"""
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("AGENT_WEBHOOK_SECRET", "").encode()
RECEIVED = []
DELAY_SECONDS = float(os.environ.get("AGENT_RECEIVER_DELAY_SECONDS", "0") or 0)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(self.headers.get("x-signature", ""), expected)
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        RECEIVED.append({"valid": valid, "idempotencyKey": self.headers.get("idempotency-key"), "event": event})
        summary = (event or {}).get("summary", "")
        print(f"agent-receiver: {'signed' if valid else 'BAD SIGNATURE'} {summary}", flush=True)
        if DELAY_SECONDS > 0:
            time.sleep(DELAY_SECONDS)
        self.send_response(200 if valid else 401)
        self.end_headers()

    def do_GET(self):
        payload = json.dumps(RECEIVED).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9010
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    print(f"agent-receiver listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
