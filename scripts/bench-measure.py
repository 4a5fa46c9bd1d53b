#!/usr/bin/env python3
"""Measures one Lambda bootstrap binary against a Lambda Runtime API emulator
(`cargo lambda watch --only-lambda-apis`), for scripts/bench.sh.

Cold start: an invocation is queued first, then the binary is spawned; the time from spawn to the
answer of that invocation is the cold start (process start, runtime init, first invocation). Repeated
--runs times with a fresh process each time: first with --noop-spec (a request answered without any
call out, comparable with hello world; with --baseline-bin, each one right after a cold start of the
baseline, so that both see the same load on a shared machine), then with --spec (a real action on the
fake Intercom). Peak RSS is the kernel's high-water mark (VmHWM) of the
function process, read just before it is stopped. Warm: --warm sequential invocations on the last
process, over one keep-alive connection.

Prints one JSON object on stdout. Exit code 0 even when the function misbehaves: the JSON says so
("error"), so the caller can report it in its table.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid


def build_event(spec, seq, substitutions):
    """A function-URL (API Gateway HTTP API v2) event, like the one cargo lambda watch builds."""
    body = spec.get("body", {})
    if "bodyFile" in spec:
        with open(spec["bodyFile"], "rb") as f:
            body_text = f.read().decode("utf-8")
    elif isinstance(body, str):
        body_text = body
    else:
        body_text = json.dumps(body, separators=(",", ":"))
    subs = dict(substitutions, seq=str(seq), uuid=uuid.uuid4().hex)
    for key, value in subs.items():
        body_text = body_text.replace("{{%s}}" % key, value)
    method = spec.get("method", "POST")
    path = spec.get("path", "/")
    headers = {"content-type": "application/json", "user-agent": "bench", "host": "localhost"}
    headers.update(spec.get("headers", {}))
    if spec.get("hubSignatureSecret"):
        mac = hmac.new(spec["hubSignatureSecret"].encode(), body_text.encode(), hashlib.sha1)
        headers["x-hub-signature"] = "sha1=" + mac.hexdigest()
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "bench",
            "domainName": "localhost",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body_text,
        "isBase64Encoded": False,
    }


class Invoker:
    """POST /2015-03-31/functions/_/invocations on the emulator, keep-alive."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def invoke(self, event):
        payload = json.dumps(event).encode()
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                    self.conn.connect()
                    self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.conn.request(
                    "POST",
                    "/2015-03-31/functions/_/invocations",
                    body=payload,
                    headers={"content-type": "application/json"},
                )
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, data
            except (ConnectionError, http.client.HTTPException):
                # a keep-alive connection the emulator closed: retry once on a new one
                self.close()
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def function_status(http_status, data):
    """The HTTP status the function URL would answer, from the function's response document."""
    if http_status != 200:
        return "invoke-%d" % http_status
    try:
        doc = json.loads(data)
    except ValueError:
        return "unparsable"
    if isinstance(doc, dict) and "statusCode" in doc:
        return str(doc["statusCode"])
    if isinstance(doc, dict) and "errorType" in doc:
        return "error:" + str(doc["errorType"])
    return "200"


def response_json_body(data):
    try:
        doc = json.loads(data)
        body = doc.get("body") or ""
        if doc.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        return json.loads(body) if body else None
    except (ValueError, AttributeError, TypeError):
        return None


def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def stop(proc):
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", required=True, help="host:port of the Runtime API emulator")
    ap.add_argument("--bin", required=True, help="the bootstrap binary")
    ap.add_argument("--spec", help="JSON file: {method, path, headers, body | bodyFile, hubSignatureSecret}")
    ap.add_argument(
        "--noop-spec",
        help="a request the function answers without calling anything (a 400, a HEAD): measured first, "
        "--runs times, as the cold start comparable with hello world",
    )
    ap.add_argument(
        "--baseline-bin",
        help="a baseline binary (hello world): one cold start of it right before each --noop-spec cold start, "
        "so the ratio compares runs made under the same machine load",
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one answer")
    ap.add_argument("--log", default=os.devnull, help="where the function's stdout/stderr go")
    ap.add_argument("--sub", action="append", default=[], help="KEY=VALUE, replaces {{KEY}} in the body")
    ap.add_argument("--capture", help="a top-level field of the first answer's JSON body to report")
    args = ap.parse_args()

    host, port = args.api.rsplit(":", 1)
    port = int(port)
    spec = {}
    if args.spec:
        with open(args.spec) as f:
            spec = json.load(f)
    substitutions = dict(s.split("=", 1) for s in args.sub)

    env = dict(os.environ)
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": "http://%s:%d/.rt" % (host, port),
            "AWS_LAMBDA_FUNCTION_NAME": "_",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        }
    )
    result = {"bin": args.bin, "cold_ms": [], "status": None, "rss_kb": None, "error": None}
    log = open(args.log, "ab")
    state = {"seq": 0, "proc": None}

    def spawn_and_answer(binary, run_spec):
        """One cold start of `binary`: queue an invocation, spawn, wait for the answer.
        Returns (proc, elapsed ms, answer) or (proc, None, error text)."""
        state["seq"] += 1
        event = build_event(run_spec, state["seq"], substitutions)
        answer = {}

        def first_invocation():
            inv = Invoker(host, port, args.timeout)
            try:
                answer["status"], answer["data"] = inv.invoke(event)
            except Exception as e:  # noqa: BLE001 - reported in the JSON
                answer["exc"] = "%s: %s" % (type(e).__name__, e)
            answer["t"] = time.perf_counter()
            inv.close()

        waiter = threading.Thread(target=first_invocation, daemon=True)
        waiter.start()
        time.sleep(0.15)  # the invocation is queued before the process exists
        t0 = time.perf_counter()
        proc = state["proc"] = subprocess.Popen(
            [binary], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
        waiter.join(args.timeout + 5)
        if waiter.is_alive() or "exc" in answer:
            exited = proc.poll()
            return proc, None, "no answer to the first invocation%s%s" % (
                " (%s)" % answer["exc"] if "exc" in answer else "",
                "; the process exited with %s" % exited if exited is not None else "",
            )
        return proc, round((answer["t"] - t0) * 1000, 2), answer

    def baseline_run(run_spec):
        """A cold start of --baseline-bin right before the function's: both see the same machine load."""
        proc, ms, answer = spawn_and_answer(args.baseline_bin, run_spec)
        stop(proc)
        state["proc"] = None
        if ms is None:
            raise RuntimeError("the baseline %s: %s" % (args.baseline_bin, answer))
        result.setdefault("baseline_cold_ms", []).append(ms)

    def cold_runs(run_spec, times, key, status_key, warm, paired=False):
        for run in range(times):
            if paired:
                baseline_run(run_spec)
            proc, ms, answer = spawn_and_answer(args.bin, run_spec)
            if ms is None:
                result["error"] = answer
                return False
            result.setdefault(key, []).append(ms)
            if run == 0:
                result[status_key] = function_status(answer["status"], answer["data"])
                if args.capture and key == "cold_ms":
                    body = response_json_body(answer["data"])
                    if isinstance(body, dict) and body.get(args.capture) is not None:
                        result["captured"] = str(body[args.capture])
            if proc.poll() is not None:
                result["error"] = "the process exited (code %s) after its first invocation" % proc.returncode
                return False

            if warm and run == times - 1 and args.warm > 0:
                inv = Invoker(host, port, args.timeout)
                latencies, statuses = [], {}
                started = time.perf_counter()
                for _ in range(args.warm):
                    state["seq"] += 1
                    ev = build_event(run_spec, state["seq"], substitutions)
                    a = time.perf_counter()
                    code, data = inv.invoke(ev)
                    latencies.append((time.perf_counter() - a) * 1000)
                    s = function_status(code, data)
                    statuses[s] = statuses.get(s, 0) + 1
                total = time.perf_counter() - started
                inv.close()
                latencies.sort()
                result["warm"] = {
                    "n": args.warm,
                    "per_s": round(args.warm / total, 1),
                    "p50_ms": round(statistics.median(latencies), 2),
                    "p90_ms": round(latencies[int(0.9 * (len(latencies) - 1))], 2),
                    "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
                    "max_ms": round(latencies[-1], 2),
                    "statuses": statuses,
                }
            hwm = vm_hwm_kb(proc.pid)
            if hwm is not None:
                result["rss_kb"] = max(result["rss_kb"] or 0, hwm)
            stop(proc)
            state["proc"] = None
        return True

    try:
        ok = True
        if args.noop_spec:
            with open(args.noop_spec) as f:
                noop = json.load(f)
            ok = cold_runs(noop, args.runs, "cold_noop_ms", "noop_status", warm=False, paired=bool(args.baseline_bin))
        if ok:
            cold_runs(spec, args.runs, "cold_ms", "status", warm=True)
    except Exception as e:  # noqa: BLE001 - reported in the JSON
        result["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if state["proc"] is not None:
            stop(state["proc"])
        log.close()

    if result.get("cold_noop_ms"):
        result["cold_noop_p50_ms"] = round(statistics.median(result["cold_noop_ms"]), 2)
    if result.get("baseline_cold_ms"):
        result["baseline_cold_p50_ms"] = round(statistics.median(result["baseline_cold_ms"]), 2)
    if result["cold_ms"]:
        result["cold_p50_ms"] = round(statistics.median(result["cold_ms"]), 2)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
