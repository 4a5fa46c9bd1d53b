#!/usr/bin/env bash
# A real n8n receives our relay and calls our MCP tools: integrations/n8n/intercom-events.workflow.json, end to end.
#
#   scripts/test-n8n.sh
#
# Installs the n8n pinned in integrations/n8n/package.json (+ its package-lock.json) with `npm ci` into a cache
# outside the repository (N8N_INSTALL_DIR, default ~/.cache/intercom-actions/n8n-<version>-<lock hash>; reused
# while the lock and the Node.js version are the same), starts the local stack (scripts/run-local.sh --fake, in
# the background) with AGENT_WEBHOOK_URL pointing at n8n, and n8n itself on SQLite with no account, the
# workflow imported and activated through n8n's CLI. Then, through the stack and straight at n8n's webhook:
#   - a message our integration wrote (create-conversation) is relayed and ignored (not the customer's);
#   - a forged, an unsigned and a tampered relay are answered 401 and run no tool;
#   - a validly signed event with handling "human" is answered "ignored" and runs no tool;
#   - the customer's reply in an AI-handled conversation reaches n8n through the relay, and n8n reads the
#     conversation and posts a note through the MCP endpoint (the fake Intercom shows the note);
#   - the customer's reply in an escalated (human-handled) conversation reaches n8n and runs no tool.
# Stops everything it started; exit 0 when all holds.
#
# Environment: PORT (9500), FAKE_PORT (4511), AGENT_PORT (9510, unused: the relay goes to n8n), N8N_PORT (5678),
# N8N_INSTALL_DIR, N8N_STACK_TIMEOUT_S (1200: the stack's build and start). Logs: target/test-n8n/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

T0=$SECONDS
INTEGRATION_DIR="$ROOT/integrations/n8n"
WORKFLOW="$INTEGRATION_DIR/intercom-events.workflow.json"
LOG_DIR="$ROOT/target/test-n8n"
PORT="${PORT:-9500}"
FAKE_PORT="${FAKE_PORT:-4511}"
AGENT_PORT="${AGENT_PORT:-9510}"
N8N_PORT="${N8N_PORT:-5678}"
STACK_TIMEOUT_S="${N8N_STACK_TIMEOUT_S:-1200}"
BASE_URL="http://127.0.0.1:$PORT/lambda-url"
FAKE_URL="http://127.0.0.1:$FAKE_PORT"
N8N_WEBHOOK="http://127.0.0.1:$N8N_PORT/webhook/intercom-events"
AI_ADMIN_ID=991267 # the demo's Ada AI (run-local.sh's INTERCOM_ADMIN_ID)
# The workflow's node names the checks look for.
MCP_NODES='["Read the conversation (MCP)", "Post a note (MCP)"]'

# --- tools ------------------------------------------------------------------------------------------
require_cmd node "n8n needs Node.js 20.19 or later (up to 24): https://nodejs.org or apt-get install -y nodejs"
require_cmd npm "npm comes with Node.js"
require_cmd curl "Install it: apt-get install -y curl"
require_cmd python3 "Install Python 3: apt-get install -y python3"
N8N_VERSION="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["dependencies"]["n8n"])' "$INTEGRATION_DIR/package.json")"
NODE_VERSION="$(node --version)"
python3 - "$NODE_VERSION" <<'PY' || die "n8n $N8N_VERSION needs Node.js >= 20.19 and <= 24.x (this is $NODE_VERSION)"
import sys
major, minor = (int(x) for x in sys.argv[1].lstrip("v").split(".")[:2])
sys.exit(0 if (major, minor) >= (20, 19) and major <= 24 else 1)
PY
for p in "$PORT" "$FAKE_PORT" "$AGENT_PORT" "$N8N_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] || die "PORT, FAKE_PORT, AGENT_PORT and N8N_PORT must be port numbers (got '$p')"
done
require_free_port "$N8N_PORT" "n8n" N8N_PORT
require_free_port "$PORT" "the function URLs" PORT
require_free_port "$FAKE_PORT" "the fake Intercom" FAKE_PORT

rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
stop_bg_on_exit

# --- install the pinned n8n (cached) ----------------------------------------------------------------
LOCK_HASH="$(sha256sum "$INTEGRATION_DIR/package-lock.json" | cut -c1-12)"
N8N_INSTALL_DIR="${N8N_INSTALL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/intercom-actions/n8n-$N8N_VERSION-$LOCK_HASH}"
N8N="$N8N_INSTALL_DIR/node_modules/.bin/n8n"
STAMP="$N8N_INSTALL_DIR/.installed"
install_started=$SECONDS
if [[ -x "$N8N" && "$(cat "$STAMP" 2>/dev/null)" == "$N8N_VERSION $LOCK_HASH $NODE_VERSION" ]]; then
  log "n8n $N8N_VERSION: cached in $N8N_INSTALL_DIR"
  INSTALL_WHAT="cached"
else
  log "installing n8n $N8N_VERSION with npm ci into $N8N_INSTALL_DIR (several minutes the first time)"
  # sqlite3 has no prebuilt binary reachable from the npm registry alone: node-gyp compiles it, with the
  # Node.js headers of nodedir (the distribution's, when it ships them) instead of downloading them.
  if [[ -z "$(npm config get nodedir 2>/dev/null | grep -v '^undefined$' || true)" && -f /usr/include/node/node_version.h ]]; then
    export npm_config_nodedir=/usr
  fi
  staging="$N8N_INSTALL_DIR.tmp.$$"
  rm -rf "$staging"
  mkdir -p "$staging"
  cp "$INTEGRATION_DIR/package.json" "$INTEGRATION_DIR/package-lock.json" "$staging/"
  # Install scripts off (they compile optional native add-ons, e.g. ssh2's and cpu-features', and send
  # @scarf/scarf's install analytics), then build the one native module n8n cannot start without.
  if ! (cd "$staging" && npm ci --no-audit --no-fund --ignore-scripts && npm rebuild sqlite3) >"$LOG_DIR/npm-ci.log" 2>&1; then
    tail_log "$LOG_DIR/npm-ci.log" 40
    rm -rf "$staging"
    die "npm ci of n8n $N8N_VERSION failed (log: $LOG_DIR/npm-ci.log)"
  fi
  (cd "$staging" && node -e 'require("sqlite3")') || die "n8n's sqlite3 did not build (log: $LOG_DIR/npm-ci.log)"
  rm -rf "$N8N_INSTALL_DIR"
  mv "$staging" "$N8N_INSTALL_DIR"
  echo "$N8N_VERSION $LOCK_HASH $NODE_VERSION" >"$STAMP"
  INSTALL_WHAT="installed"
fi
INSTALL_S=$((SECONDS - install_started))
log "n8n $N8N_VERSION ready ($INSTALL_WHAT in ${INSTALL_S}s), Node.js $NODE_VERSION"

# --- secrets of this run ----------------------------------------------------------------------------
random_secret() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
AGENT_WEBHOOK_SECRET="$(random_secret)"
AGENT_API_KEY="$(random_secret)"
RUN_ID="$(python3 -c 'import secrets; print(secrets.token_hex(4))')"

# --- the local stack (background; it builds first) --------------------------------------------------
stack_started=$SECONDS
log "starting the local stack (scripts/run-local.sh --fake --no-reload) on ports $PORT/$FAKE_PORT, relaying to $N8N_WEBHOOK"
# Unset what would change what reaches n8n (e.g. WEBHOOK_HUMAN_HANDLED=drop) or how the actions authenticate.
start_bg "$LOG_DIR/run-local.log" env -u INTERCOM_ACCESS_TOKEN -u AGENT_AUTH -u WEBHOOK_HUMAN_HANDLED -u WEBHOOK_LOOP_GUARD \
  -u WEBHOOK_TOPICS -u REPLY_MODE -u MCP_ALLOWED_ORIGINS -u MCP_ALLOWED_HOSTS -u AI_TEAM_IDS \
  PORT="$PORT" FAKE_PORT="$FAKE_PORT" AGENT_PORT="$AGENT_PORT" AGENT_WEBHOOK_URL="$N8N_WEBHOOK" \
  AGENT_WEBHOOK_SECRET="$AGENT_WEBHOOK_SECRET" AGENT_API_KEY="$AGENT_API_KEY" \
  "$ROOT/scripts/run-local.sh" --fake --no-reload
STACK_PID=$BG_PID

# --- n8n: SQLite in a fresh user folder, no account, the workflow imported and activated ------------
n8n_started=$SECONDS
N8N_HOME="$LOG_DIR/n8n-home"
mkdir -p "$N8N_HOME"
export N8N_USER_FOLDER="$N8N_HOME" DB_TYPE=sqlite
N8N_ENCRYPTION_KEY="$(random_secret)"
export N8N_ENCRYPTION_KEY
export N8N_PORT N8N_LISTEN_ADDRESS=127.0.0.1 N8N_HOST=127.0.0.1 N8N_PROTOCOL=http WEBHOOK_URL="http://127.0.0.1:$N8N_PORT/"
# Nothing leaves the machine: no telemetry, version checks or templates.
export N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false N8N_TEMPLATES_ENABLED=false
export N8N_PERSONALIZATION_ENABLED=false N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true
# The workflow reads these two from the environment (the default before n8n 2.0 lets expressions read it).
export N8N_BLOCK_ENV_ACCESS_IN_NODE=false AGENT_WEBHOOK_SECRET INTERCOM_MCP_URL="$BASE_URL/mcp/"
# Every execution is kept, so the checks can see which nodes ran.
export EXECUTIONS_DATA_SAVE_ON_SUCCESS=all EXECUTIONS_DATA_SAVE_ON_ERROR=all

n8n_cli() { # n8n_cli WHAT ARGS... — one CLI command, its output in n8n-cli.log
  local what=$1
  shift
  if ! "$N8N" "$@" </dev/null >>"$LOG_DIR/n8n-cli.log" 2>&1; then
    tail_log "$LOG_DIR/n8n-cli.log" 30
    die "n8n $* failed: could not $what (log: $LOG_DIR/n8n-cli.log)"
  fi
}
CREDENTIALS_FILE="$LOG_DIR/credentials.json"
(
  umask 077
  python3 - "$AGENT_API_KEY" >"$CREDENTIALS_FILE" <<'PY'
import json, sys
# The credential the workflow's MCP Client nodes name; its token is the agent key.
print(json.dumps([{"id": "intercomMcpKey01", "name": "Intercom MCP (agent_api_key)", "type": "httpBearerAuth",
                   "data": {"token": sys.argv[1]}}]))
PY
)
log "n8n: importing the credential and the workflow, activating it"
n8n_cli "import the credential" import:credentials --input="$CREDENTIALS_FILE"
rm -f "$CREDENTIALS_FILE"
n8n_cli "import $WORKFLOW" import:workflow --input="$WORKFLOW"
n8n_cli "activate the workflow" update:workflow --all --active=true
grep -q 'Successfully imported 1 workflow' "$LOG_DIR/n8n-cli.log" || die "n8n did not import the workflow (log: $LOG_DIR/n8n-cli.log)"

log "starting n8n $N8N_VERSION on 127.0.0.1:$N8N_PORT"
start_bg "$LOG_DIR/n8n.log" "$N8N" start
N8N_PID=$BG_PID
if ! wait_for_log_line "$LOG_DIR/n8n.log" 'Activated workflow "Intercom events|problem activating' 180 "$N8N_PID" ||
  ! grep -q 'Activated workflow "Intercom events' "$LOG_DIR/n8n.log"; then
  tail_log "$LOG_DIR/n8n.log" 40
  die "n8n did not start with the workflow active (log: $LOG_DIR/n8n.log)"
fi
wait_for_port "$N8N_PORT" 60 "$N8N_PID" || die "n8n does not listen on $N8N_PORT (log: $LOG_DIR/n8n.log)"
N8N_START_S=$((SECONDS - n8n_started))
log "n8n is up with the workflow active (${N8N_START_S}s)"

log "waiting for the local stack (build and start; up to ${STACK_TIMEOUT_S}s)"
if ! wait_for_log_line "$LOG_DIR/run-local.log" 'Local stack is up' "$STACK_TIMEOUT_S" "$STACK_PID"; then
  tail_log "$LOG_DIR/run-local.log" 40
  die "the local stack did not start (log: $LOG_DIR/run-local.log; its own logs: .local/run-local/)"
fi
STACK_START_S=$((SECONDS - stack_started))
log "the local stack is up (${STACK_START_S}s)"

# --- helpers for the checks -------------------------------------------------------------------------
checks_started=$SECONDS
failures=0
passed=0
ok() {
  log "  ok: $*"
  passed=$((passed + 1))
}
fail() {
  warn "  FAILED: $*"
  failures=$((failures + 1))
}

# executions FILE — n8n's saved executions, oldest first, as [{id, status, nodes (the nodes that ran), error,
# body (the relayed event)}], read from its SQLite database with n8n's own sqlite3 and flatted.
cat >"$LOG_DIR/executions.js" <<'JS'
const path = require('path');
const dir = process.env.N8N_INSTALL_DIR;
const sqlite3 = require(path.join(dir, 'node_modules/sqlite3'));
const { parse } = require(path.join(dir, 'node_modules/flatted'));
const db = new sqlite3.Database(process.argv[2], sqlite3.OPEN_READONLY);
const sql = 'SELECT e.id, e.status, d.data FROM execution_entity e JOIN execution_data d ON d.executionId = e.id ORDER BY e.id';
db.all(sql, (err, rows) => {
  if (err) { console.error(err.message); process.exit(1); }
  console.log(JSON.stringify(rows.map((row) => {
    const result = parse(row.data).resultData || {};
    const runData = result.runData || {};
    const relay = (runData['Intercom relay'] || [])[0];
    const item = relay && relay.data && relay.data.main[0] && relay.data.main[0][0];
    return { id: row.id, status: row.status, nodes: Object.keys(runData),
             error: result.error ? result.error.message : null, body: item ? item.json.body : null };
  })));
  db.close();
});
JS
executions() {
  N8N_INSTALL_DIR="$N8N_INSTALL_DIR" node "$LOG_DIR/executions.js" "$N8N_HOME/.n8n/database.sqlite" >"$1" 2>>"$LOG_DIR/executions.err" ||
    echo '[]' >"$1"
}

# holds FILE PYTHON_CONDITION — the condition on `d` (FILE's JSON) and the helpers below holds.
holds() {
  python3 - "$1" "$2" "$MCP_NODES" "$AI_ADMIN_ID" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
MCP_NODES = json.loads(sys.argv[3])
AI_ADMIN = sys.argv[4]

def for_conversation(cid, topic=None):
    """The executions of relayed events of conversation cid (and topic)."""
    return [e for e in d if isinstance(e.get("body"), dict)
            and str((e["body"].get("conversation") or {}).get("id")) == str(cid)
            and (topic is None or e["body"].get("topic") == topic)]

def ran_tool(e):
    return any(n in e["nodes"] for n in MCP_NODES)

def conversation(cid):
    cs = d["conversations"]
    cs = cs.values() if isinstance(cs, dict) else cs
    return next((c for c in cs if str(c.get("id")) == str(cid)), None)

def parts(cid):
    c = conversation(cid)
    return (c or {}).get("parts") or []

def all_text():
    cs = d["conversations"]
    return json.dumps(list(cs.values()) if isinstance(cs, dict) else cs)

sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# wait_until WHAT TIMEOUT_S FETCH CONDITION — re-runs FETCH (writes $probe) until CONDITION holds on it.
probe="$LOG_DIR/probe.json"
wait_until() {
  local deadline=$((SECONDS + $2)) fetch=$3 condition=$4
  while ((SECONDS < deadline)); do
    $fetch "$probe"
    holds "$probe" "$condition" 2>/dev/null && return 0
    sleep 1
  done
  return 1
}
fake_state() { curl -s --max-time 10 "$FAKE_URL/__fake/state" >"$1" || echo '{"conversations": []}' >"$1"; }

# sign BODY_FILE SECRET — the relay's X-Signature value for that exact body.
sign() {
  python3 -c 'import hmac, hashlib, sys; print("sha256=" + hmac.new(sys.argv[2].encode(), open(sys.argv[1], "rb").read(), hashlib.sha256).hexdigest())' "$1" "$2"
}
# post_to_n8n BODY_FILE OUT_FILE [HEADER...] — POST straight to n8n's webhook; prints the status.
post_to_n8n() {
  local body=$1 out=$2
  shift 2
  curl -s -o "$out" -w '%{http_code}' --max-time 30 "$N8N_WEBHOOK" -H 'content-type: application/json' "$@" --data-binary "@$body" || true
}
# event FILE CONVERSATION_ID HANDLING TEXT — a relayed customer message as relay-to-agent shapes it.
event() {
  python3 - "$@" <<'PY'
import json, sys, time, uuid
path, cid, handling, text = sys.argv[1:5]
now = int(time.time())
event = {"topic": "conversation.user.replied", "notificationId": f"notif_{uuid.uuid4()}", "createdAt": now,
         "deliveryAttempts": 1, "conversation": {"id": cid, "state": "open", "open": True},
         "contact": {"email": "jane@example.com"},
         "message": {"partId": "1", "text": text, "authorType": "user", "createdAt": now},
         "origin": "customer", "handling": handling, "owner": None, "handoff": None}
open(path, "w").write(json.dumps(event, separators=(",", ":")))
PY
}

# --- 1. a message the integration wrote is relayed to n8n and not answered ---------------------------
log "1. create-conversation opens an AI-handled conversation; n8n receives it and leaves it (not the customer's message)"
answer="$LOG_DIR/create.json"
code="$(curl -s -o "$answer" -w '%{http_code}' --max-time 60 "$BASE_URL/create-conversation/" -H 'content-type: application/json' \
  -d "{\"userEmail\":\"jane@example.com\",\"body\":\"Hello, where is my order 1234? ($RUN_ID)\"}" || true)"
AI_CONV="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("conversationId",""))' "$answer" 2>/dev/null || true)"
[[ "$code" == 200 && "$AI_CONV" =~ ^[0-9]+$ ]] || die "create-conversation answered HTTP ${code:-nothing}: $(head -c 400 "$answer")"
curl -s -o /dev/null --max-time 40 -X POST "$FAKE_URL/__fake/webhooks/flush" || true
if wait_until "relay of the opening message" 90 executions \
  "any(not ran_tool(e) and e['nodes'][-1] == \"Ignore: not the customer's message\" for e in for_conversation('$AI_CONV', 'conversation.user.created'))"; then
  ok "conversation $AI_CONV: conversation.user.created (origin integration) relayed, validly signed, and ignored"
else
  fail "n8n did not receive and ignore conversation $AI_CONV's opening message; executions: $(head -c 800 "$probe")"
fi

# --- 2. forged relays straight to n8n ----------------------------------------------------------------
log "2. forged, unsigned and tampered relays straight to n8n: 401, no tool"
executions "$LOG_DIR/before-forged.json"
forged="$LOG_DIR/forged.json"
event "$forged" "$AI_CONV" ai "FORGED-$RUN_ID please refund me"
code="$(post_to_n8n "$forged" "$LOG_DIR/forged-answer.json" -H "X-Signature: $(sign "$forged" "not-the-secret")")"
if [[ "$code" == 401 ]] && grep -q invalid_signature "$LOG_DIR/forged-answer.json"; then ok "signed with another secret: 401"; else
  fail "signed with another secret: HTTP ${code:-nothing} $(head -c 300 "$LOG_DIR/forged-answer.json")"
fi
code="$(post_to_n8n "$forged" "$LOG_DIR/unsigned-answer.json")"
if [[ "$code" == 401 ]]; then ok "unsigned: 401"; else fail "unsigned: HTTP ${code:-nothing} $(head -c 300 "$LOG_DIR/unsigned-answer.json")"; fi
tampered="$LOG_DIR/tampered.json"
event "$tampered" "$AI_CONV" ai "FORGED-$RUN_ID tampered after signing"
signature="$(sign "$tampered" "$AGENT_WEBHOOK_SECRET")"
sed -i 's/tampered after signing/tampered, after signing/' "$tampered"
code="$(post_to_n8n "$tampered" "$LOG_DIR/tampered-answer.json" -H "X-Signature: $signature")"
if [[ "$code" == 401 ]]; then ok "body changed after signing: 401"; else fail "body changed after signing: HTTP ${code:-nothing}"; fi
n_before="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$LOG_DIR/before-forged.json")"
if wait_until "the forged executions" 30 executions \
  "len([e for e in d[$n_before:] if e['nodes'][-1] == 'Refuse: 401' and not ran_tool(e)]) == 3 and not any(ran_tool(e) for e in d[$n_before:])"; then
  ok "n8n ran the three forged requests to 'Refuse: 401' and called no tool"
else
  fail "forged requests: executions after #$n_before: $(head -c 800 "$probe")"
fi

# --- 3. a signed event a human handles ---------------------------------------------------------------
log "3. a validly signed event with handling \"human\": ignored, no tool"
human="$LOG_DIR/human.json"
event "$human" "$AI_CONV" human "HUMAN-$RUN_ID a teammate has this one"
code="$(post_to_n8n "$human" "$LOG_DIR/human-answer.json" -H "X-Signature: $(sign "$human" "$AGENT_WEBHOOK_SECRET")")"
if [[ "$code" == 200 ]] && grep -q human_handles_conversation "$LOG_DIR/human-answer.json"; then
  ok "handling human: 200 $(cat "$LOG_DIR/human-answer.json")"
else
  fail "handling human: HTTP ${code:-nothing} $(head -c 300 "$LOG_DIR/human-answer.json")"
fi

# --- 4. the customer writes in the AI's conversation: n8n reads it and posts a note through MCP ------
log "4. the customer replies in conversation $AI_CONV (AI-handled): relayed to n8n, which calls get_conversation and reply_to_conversation"
customer_text="It still has not arrived ($RUN_ID)"
curl -s -o /dev/null --max-time 10 "$FAKE_URL/__fake/conversations/$AI_CONV/customer_reply" -H 'content-type: application/json' \
  -d "{\"body\":\"$customer_text\"}" || true
curl -s -o /dev/null --max-time 40 -X POST "$FAKE_URL/__fake/webhooks/flush" || true
note_condition="[p for p in parts('$AI_CONV') if p.get('part_type') == 'note' and str((p.get('author') or {}).get('id')) == '$AI_ADMIN_ID' and 'n8n read conversation $AI_CONV (open, handling: ai' in (p.get('body') or '') and '$customer_text' in (p.get('body') or '')]"
if wait_until "n8n's note" 120 fake_state "len($note_condition) >= 1"; then
  ok "the fake Intercom shows the note n8n posted as the AI's admin: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([p["body"] for c in (d["conversations"].values() if isinstance(d["conversations"], dict) else d["conversations"]) if str(c["id"])==sys.argv[2] for p in c["parts"] if p.get("part_type")=="note"][0][:200])' "$probe" "$AI_CONV")"
  if holds "$probe" "len($note_condition) == 1"; then ok "exactly one note"; else fail "more than one note from n8n in $AI_CONV"; fi
else
  fail "no note from n8n in conversation $AI_CONV after 120 s; its parts: $(head -c 800 "$probe")"
fi
executions "$probe"
if holds "$probe" "any(e['status'] == 'success' and e['nodes'][-1] == 'Post a note (MCP)' and 'Read the conversation (MCP)' in e['nodes'] and e['body'].get('handling') == 'ai' for e in for_conversation('$AI_CONV', 'conversation.user.replied'))"; then
  ok "n8n's execution of the relayed reply ran both MCP Client nodes and succeeded"
else
  fail "no successful execution through both MCP nodes for $AI_CONV: $(head -c 800 "$probe")"
fi

# --- 5. the customer writes in an escalated conversation: relayed as human-handled, no tool ----------
log "5. escalate (billing → the Billing team), the customer replies: relayed to n8n with handling human, no tool"
code="$(curl -s -o "$answer" -w '%{http_code}' --max-time 60 "$BASE_URL/escalate/" -H 'content-type: application/json' \
  -d "{\"sessionId\":\"n8n-$RUN_ID\",\"userEmail\":\"jane@example.com\",\"confidence\":0.82,\"category\":\"billing\",\"lastMessage\":\"I was charged twice ($RUN_ID)\"}" || true)"
HUMAN_CONV="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("conversationId",""))' "$answer" 2>/dev/null || true)"
[[ "$code" == 200 && "$HUMAN_CONV" =~ ^[0-9]+$ ]] || die "escalate answered HTTP ${code:-nothing}: $(head -c 400 "$answer")"
curl -s -o /dev/null --max-time 40 -X POST "$FAKE_URL/__fake/webhooks/flush" || true
curl -s -o /dev/null --max-time 10 "$FAKE_URL/__fake/conversations/$HUMAN_CONV/customer_reply" -H 'content-type: application/json' \
  -d "{\"body\":\"Any news on my refund? ($RUN_ID)\"}" || true
curl -s -o /dev/null --max-time 40 -X POST "$FAKE_URL/__fake/webhooks/flush" || true
if wait_until "the human-handled reply" 120 executions \
  "any(e['body'].get('handling') == 'human' and e['nodes'][-1] == \"Ignore: a teammate's turn\" for e in for_conversation('$HUMAN_CONV', 'conversation.user.replied'))"; then
  ok "conversation $HUMAN_CONV: the customer's reply reached n8n with handling human and was ignored"
else
  fail "n8n did not receive and ignore the customer's reply in $HUMAN_CONV: $(head -c 800 "$probe")"
fi
if holds "$probe" "not any(ran_tool(e) for e in for_conversation('$HUMAN_CONV'))"; then
  ok "no tool ran for conversation $HUMAN_CONV"
else
  fail "a tool ran for the human-handled conversation $HUMAN_CONV"
fi

# --- 6. nothing the refused events carried reached Intercom -------------------------------------------
sleep 2
fake_state "$probe"
if holds "$probe" "'FORGED-$RUN_ID' not in all_text() and 'HUMAN-$RUN_ID' not in all_text() and not any('n8n read conversation' in (p.get('body') or '') for p in parts('$HUMAN_CONV'))"; then
  ok "the fake Intercom holds nothing from the forged, the tampered or the human-handled events"
else
  fail "something from a refused event reached Intercom"
fi
CHECKS_S=$((SECONDS - checks_started))

# --- stop ---------------------------------------------------------------------------------------------
log "stopping n8n and the local stack"
stop_all_bg
for p in "$N8N_PORT" "$PORT" "$FAKE_PORT"; do
  if port_in_use "$p"; then fail "port $p is still in use after stopping ($(port_owner "$p"))"; fi
done

log "times: n8n install ${INSTALL_S}s ($INSTALL_WHAT), n8n start ${N8N_START_S}s, stack build+start ${STACK_START_S}s (in parallel), checks ${CHECKS_S}s, total $((SECONDS - T0))s"
if ((failures)); then
  warn "logs: $LOG_DIR (run-local.log, n8n.log, n8n-cli.log) and .local/run-local/"
  die "n8n end to end: $passed passed, $failures failed"
fi
log "n8n $N8N_VERSION end to end: all checks hold"
echo "n8n: $passed passed, 0 failed"
