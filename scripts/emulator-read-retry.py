#!/usr/bin/env python3
"""A pass-through proxy in front of `cargo lambda watch` that resends a *read* the emulator itself lost.

    python3 scripts/emulator-read-retry.py LISTEN_PORT UPSTREAM_PORT

Why: `cargo lambda watch` (1.9.2) acknowledges a function's answer (`POST .../invocation/<id>/response` → 200)
before it has read the answer's body, then reads the body on the waiting request's task. With a large answer and
busy cores the function's runtime may drop that connection first, and the emulator answers the caller with its own
500 `{"type":"https://httpstatuses.com/500","status":500,"title":"Internal Server Error"}`, though the function
answered 200 (its emulator log shows `/response ... status=200`, then the function URL `status=500`). Measured
on this stack: 3 of 200 get-conversation reads of a 164 KB answer with both cores busy, 0 of 200 with idle cores,
0 of 400 for a 1 KB answer under the same load. AWS Lambda reads the whole answer; this is an emulator artefact.

The same race can also leave the emulator waiting for a body that never completes: the caller then gets no answer
at all (seen once in ~1,900 Schemathesis cases: a 60 s read timeout on a get-conversation the function had
answered).

So a read (GET or POST to get-conversation, POST to find-conversations) that comes back with exactly that body, or
with no answer within READ_TIMEOUT_SECONDS, is sent again, up to four times (after 0.2, 0.4, ... s: the loss comes
in bursts of load), and each resend is logged. Nothing else is touched: a write is never resent (it would run
twice), and our functions never send that body, so a function's own 5xx always reaches the caller. That a resent
read was the emulator's loss and not a slow or hung function is checked from the functions' own log afterwards
(scripts/check-invocations.py: every invocation answered, none slower than its limit).
"""
import http.client
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMULATOR_500 = b'{"type":"https://httpstatuses.com/500","status":500,"title":"Internal Server Error"}'
READS = {("GET", "get-conversation"), ("POST", "get-conversation"), ("POST", "find-conversations")}
RESENDS = 4
READ_TIMEOUT_SECONDS = 5  # the functions answer a read from the fake in < 0.2 s, even on 2 busy cores
WRITE_TIMEOUT_SECONDS = 120
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
UPSTREAM = ("127.0.0.1", 0)


def function_of(path):
    """`/lambda-url/<function>/...` → `<function>`."""
    parts = path.split("?", 1)[0].split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "lambda-url" else ""


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host", "content-length"}}
        is_read = (self.command, function_of(self.path)) in READS
        for attempt in range(RESENDS + 1):
            timeout = READ_TIMEOUT_SECONDS if is_read else WRITE_TIMEOUT_SECONDS
            upstream = http.client.HTTPConnection(*UPSTREAM, timeout=timeout)
            lost = None
            try:
                upstream.request(self.command, self.path, body=body if body or self.command != "GET" else None,
                                 headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                if answer.status == 500 and payload == EMULATOR_500:
                    lost = "its own 500"
            except socket.timeout:
                if not is_read or attempt == RESENDS:
                    raise
                lost = f"no answer in {timeout} s"
            finally:
                upstream.close()
            if is_read and lost and attempt < RESENDS:
                print(f"emulator-read-retry: resending {self.command} {self.path}: cargo lambda watch lost the "
                      f"function's answer ({lost}), try {attempt + 2}", file=sys.stderr, flush=True)
                time.sleep(0.2 * (attempt + 1))
                continue
            break
        self.send_response(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = forward

    def log_message(self, *args):
        pass


def main():
    global UPSTREAM
    if len(sys.argv) != 3:
        sys.exit("usage: emulator-read-retry.py LISTEN_PORT UPSTREAM_PORT")
    UPSTREAM = ("127.0.0.1", int(sys.argv[2]))
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Proxy)
    print(f"emulator-read-retry: listening on http://127.0.0.1:{sys.argv[1]} → 127.0.0.1:{sys.argv[2]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
