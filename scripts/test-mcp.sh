#!/usr/bin/env bash
# The `mcp` function end to end through the official MCP Python SDK (PyPI `mcp`): starts the fake Intercom and
# `cargo lambda watch` on free ports, runs tests/mcp/test_mcp.py against http://127.0.0.1:<port>/lambda-url/mcp/,
# then, if it installs, lists and calls tools with the MCP Inspector CLI. Stops everything it started.
# The function runs as template.yaml deploys it (scripts/local-stack.py): its environment, and AWS credentials of
# its own role, which moto checks; a request moto refuses fails the test, naming the action.
#
#   scripts/test-mcp.sh            (MCP_TEST_SKIP_INSPECTOR=1 skips the Inspector step)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

LOG_DIR="$ROOT/target/test-mcp"
mkdir -p "$LOG_DIR"
KEY="mcp-test-key-$RANDOM$RANDOM"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

stop_bg_on_exit

# --- tools ------------------------------------------------------------------------------------------
ensure_cargo_lambda
ensure_moto
ensure_local_stack_python
python3 -c 'import mcp, jsonschema, pytest' 2>/dev/null || pip_install mcp jsonschema pytest
log "MCP Python SDK $(python3 -c 'import importlib.metadata as m; print(m.version("mcp"))')"

# --- build ------------------------------------------------------------------------------------------
log "building the mcp function and the fake Intercom (debug)"
cargo build --bin mcp --bin fake-intercom -p mcp -p fake-intercom || die "cargo build failed (see above)"
TARGET_DIR="$(cargo_target_dir)"
[[ -n "$TARGET_DIR" ]] || die "could not find cargo's target directory (cargo metadata failed)"

# --- start ------------------------------------------------------------------------------------------
FAKE_PORT="$(free_port)"
WATCH_PORT="$(free_port)"
while [[ "$WATCH_PORT" == "$FAKE_PORT" ]]; do WATCH_PORT="$(free_port)"; done
start_fake_intercom "$TARGET_DIR/debug/fake-intercom" "$FAKE_PORT" "$LOG_DIR/fake-intercom.log" 60

# The idempotency table every write needs, in moto's DynamoDB, as the local stack has it; then the function's
# environment and role from template.yaml, and moto's IAM checks on.
MOTO_PORT="$(free_port)"
IAM_LOG="$LOG_DIR/iam-refusals.jsonl"
: >"$IAM_LOG"
ENV_DIR="$LOG_DIR/env"
start_moto "$MOTO_PORT" "$LOG_DIR/moto.log" 60 idempotency "$IAM_LOG"
INTERCOM_ACCESS_TOKEN=x AGENT_API_KEY="$KEY" local_stack setup --endpoint-url "http://127.0.0.1:$MOTO_PORT" \
  --out "$ENV_DIR" --param 'EscalationRouting=billing=Billing,legal=Legal,*=Support' --name IdempotencyTable=idempotency \
  --set "INTERCOM_API_BASE=http://127.0.0.1:$FAKE_PORT" --secret INTERCOM_ACCESS_TOKEN --secret AGENT_API_KEY ||
  die "could not give the function its environment and role (log: $LOG_DIR/moto.log)"
# Nothing of this shell's reaches the function but what the env file says (no --caller-vars: a test is hermetic).
unset AGENT_AUTH MCP_ALLOWED_ORIGINS MCP_ALLOWED_HOSTS RUST_LOG AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
  AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION INTERCOM_SECRET_ARN

log "starting cargo lambda watch on 127.0.0.1:$WATCH_PORT"
start_watch "$LOG_DIR/watch.log" "$ENV_DIR" --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT"
watch_pid=$BG_PID
if ! wait_for_port "$WATCH_PORT" 120 "$watch_pid"; then
  tail_log "$LOG_DIR/watch.log"
  die "cargo lambda watch did not start (log: $LOG_DIR/watch.log)"
fi
MCP_URL="http://127.0.0.1:$WATCH_PORT/lambda-url/mcp/"
# The function process starts on its first request (GET: 405 before the key is checked).
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 180 "$MCP_URL" || true)"
[[ "$code" == 405 ]] || {
  tail_log "$LOG_DIR/watch.log" 40
  die "the mcp function did not answer GET with 405 (HTTP ${code:-nothing})"
}

# --- the Python SDK tests ---------------------------------------------------------------------------
log "running tests/mcp/test_mcp.py against $MCP_URL"
status=0
MCP_URL="$MCP_URL" MCP_KEY="$KEY" FAKE_URL="http://127.0.0.1:$FAKE_PORT" \
  python3 -m pytest -q -p anyio "$ROOT/tests/mcp/test_mcp.py" || status=$?

# --- the MCP Inspector CLI (best effort: it needs npm and the registry) -------------------------------
if [[ "${MCP_TEST_SKIP_INSPECTOR:-0}" != 1 ]] && command -v npm >/dev/null 2>&1; then
  INSPECTOR_DIR="$ROOT/.local/inspector"
  if ! grep -qs -- '--header' "$INSPECTOR_DIR/node_modules/@modelcontextprotocol/inspector-cli/build/index.js"; then
    log "installing the MCP Inspector into $INSPECTOR_DIR"
    mkdir -p "$INSPECTOR_DIR"
    # 0.17.5: the newest whose CLI runs on Node 20 (2.x needs Node >= 22.19) and has --header (0.16+).
    npm install --prefix "$INSPECTOR_DIR" --no-audit --no-fund --silent "@modelcontextprotocol/inspector@${MCP_INSPECTOR_VERSION:-0.17.5}" >&2 ||
      warn "the MCP Inspector did not install; skipping it"
  fi
  if [[ -x "$INSPECTOR_DIR/node_modules/.bin/mcp-inspector" ]]; then
    inspect_once() {
      timeout 60 "$INSPECTOR_DIR/node_modules/.bin/mcp-inspector" --cli "$MCP_URL" --transport http \
        --header "Authorization: Bearer $KEY" "$@"
    }
    # cargo lambda watch has answered a request with its own 500 (`httpstatuses.com/500`, a body our function
    # never sends) in ~1 of 3 fresh-clone runs: it acknowledges a function's answer before reading its body and
    # can lose a large one (scripts/emulator-read-retry.py says more). That alone earns one more try: the Inspector's
    # calls write nothing (tools/list, a dry-run escalate).
    inspect() {
      local out err="$LOG_DIR/inspector-stderr.log" rc=0
      out="$(inspect_once "$@" 2>"$err")" || rc=$?
      if ((rc != 0)) && grep -qs "httpstatuses.com/500" "$err" <(printf '%s' "$out"); then
        warn "  the local emulator answered with its own 500; trying once more"
        rc=0
        out="$(inspect_once "$@" 2>"$err")" || rc=$?
      fi
      cat "$err" >&2
      printf '%s\n' "$out"
      return "$rc"
    }
    log "MCP Inspector: tools/list"
    if inspect --method tools/list >"$LOG_DIR/inspector-list.json" &&
      python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["tools"]; assert len(t)==9, t; print(" ".join(x["name"] for x in t))' \
        "$LOG_DIR/inspector-list.json"; then
      log "  ok: the Inspector lists the tools"
    else
      warn "  FAILED: the Inspector could not list the tools: $(head -c 600 "$LOG_DIR/inspector-list.json")"
      status=1
    fi
    log "MCP Inspector: tools/call escalate (dry run)"
    if inspect --method tools/call --tool-name escalate --tool-arg sessionId=inspector-1 --tool-arg confidence=0.1 \
      --tool-arg 'lastMessage=I want a human' --tool-arg dryRun=true >"$LOG_DIR/inspector-call.json" &&
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["structuredContent"]["escalated"] is True, d' \
        "$LOG_DIR/inspector-call.json"; then
      log "  ok: the Inspector calls a tool"
    else
      warn "  FAILED: the Inspector tool call: $(head -c 600 "$LOG_DIR/inspector-call.json")"
      status=1
    fi
  fi
fi

if ! local_stack report --iam-log "$IAM_LOG"; then
  warn "FAILED: the mcp function lacks a permission its code uses: grant it in template.yaml (refusals: $IAM_LOG)"
  status=1
fi
rm -rf "$ENV_DIR" # the key and the role's credentials
if ((status)); then
  tail_log "$LOG_DIR/watch.log" 40
  die "MCP tests failed (logs in $LOG_DIR)"
fi
log "MCP tests passed"
