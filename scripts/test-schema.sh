#!/usr/bin/env bash
# The published agent API (agent-tools/openapi.json) against the functions themselves, with Schemathesis
# (PyPI `schemathesis`, v4): starts the local stack (scripts/run-local.sh --fake, API-key auth) on its own
# ports, opens a few conversations to aim at, then generates schema-valid requests for every operation and
# checks that none gets a 5xx, a status or body outside the document, or a refusal that is not a business
# answer (scripts/schema_hooks.py). Stops everything it started.
#
#   scripts/test-schema.sh
#
# Environment: PORT (9410), FAKE_PORT (9411), AGENT_PORT (9412), MOTO_PORT (9413); SCHEMA_MAX_EXAMPLES (25 per
# operation), SCHEMA_SEED (20260314), SCHEMA_MAX_TIME (180 s for the Schemathesis run). Logs and the JUnit report:
# target/test-schema/
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

export PORT="${PORT:-9410}" FAKE_PORT="${FAKE_PORT:-9411}" AGENT_PORT="${AGENT_PORT:-9412}" MOTO_PORT="${MOTO_PORT:-9413}"
MAX_EXAMPLES="${SCHEMA_MAX_EXAMPLES:-25}"
SEED="${SCHEMA_SEED:-20260314}"
MAX_TIME="${SCHEMA_MAX_TIME:-180}"
LOG_DIR="$ROOT/target/test-schema"
mkdir -p "$LOG_DIR"
STACK_LOG="$LOG_DIR/run-local.log"
BASE_URL="http://127.0.0.1:$PORT/lambda-url"
export AGENT_AUTH=API_KEY AGENT_API_KEY="schema-test-key-$RANDOM$RANDOM"
AUTH="Authorization: Bearer $AGENT_API_KEY"

stop_bg_on_exit

# --- tools ------------------------------------------------------------------------------------------
command -v schemathesis >/dev/null 2>&1 || pip_install "schemathesis==4.32.5"
log "$(schemathesis --version)"

# --- the local stack ---------------------------------------------------------------------------------
log "starting the local stack (scripts/run-local.sh --fake) on port $PORT; log: $STACK_LOG"
start_bg "$STACK_LOG" scripts/run-local.sh --fake
stack_pid=$BG_PID
if ! wait_for_log_line "$STACK_LOG" "Local stack is up" 600 "$stack_pid"; then
  tail_log "$STACK_LOG" 40
  die "the local stack did not start (log: $STACK_LOG)"
fi

# --- what the generated requests aim at ----------------------------------------------------------------
call() { # call FUNCTION JSON — prints the answer; fails unless 200
  curl -sf --max-time 60 "$BASE_URL/$1/" -H 'content-type: application/json' -H "$AUTH" -d "$2"
}
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
conversations=() contacts=()
for who in jane@example.com schema-1@example.com; do
  answer="$(call create-conversation "{\"userEmail\":\"$who\",\"body\":\"Where is my parcel?\"}")" ||
    die "create-conversation for $who failed; the stack's log: $STACK_LOG"
  conversations+=("$(field conversationId <<<"$answer")")
  contacts+=("$(field contactId <<<"$answer")")
done
answer="$(call escalate '{"sessionId":"schema-seed","userEmail":"jane@example.com","confidence":0.1,"lastMessage":"A person, please"}')" ||
  die "escalate failed; the stack's log: $STACK_LOG"
conversations+=("$(field conversationId <<<"$answer")")
export SCHEMA_CONVERSATION_IDS SCHEMA_CONTACT_IDS SCHEMA_CUSTOMER_EMAILS=jane@example.com,schema-1@example.com
SCHEMA_CONVERSATION_IDS="$(IFS=,; echo "${conversations[*]}")"
SCHEMA_CONTACT_IDS="$(IFS=,; echo "${contacts[*]}")"
# The fake's admins, teams and custom contact attributes (the demo workspace), for the hooks to aim at.
fake() { curl -sf --max-time 30 "http://127.0.0.1:$FAKE_PORT/$1" -H 'Authorization: Bearer local-dev-token'; }
workspace="$(
  { fake admins && echo && fake teams && echo && fake 'data_attributes?model=contact'; } | python3 -c '
import json, sys
admins, teams, attributes = (json.loads(line) for line in sys.stdin if line.strip())
print(",".join(str(a["id"]) for a in admins["admins"]))
print(",".join(str(t["id"]) for t in teams["teams"]))
print(",".join(t["name"] for t in teams["teams"]))
internal = {"ai_escalation"}  # shared::validate::INTERNAL_ATTRIBUTES: refused by design
print(json.dumps({a["name"]: a["data_type"] for a in attributes["data"]
                  if a.get("custom") and not a.get("archived") and a["name"].lower() not in internal}))
'
)" || die "could not read the fake Intercom's admins, teams and attributes; the stack's log: $STACK_LOG"
export SCHEMA_ADMIN_IDS SCHEMA_TEAM_IDS SCHEMA_TEAM_NAMES SCHEMA_ATTRIBUTES
{ read -r SCHEMA_ADMIN_IDS; read -r SCHEMA_TEAM_IDS; read -r SCHEMA_TEAM_NAMES; read -r SCHEMA_ATTRIBUTES; } <<<"$workspace"
log "aiming at conversations $SCHEMA_CONVERSATION_IDS, contacts $SCHEMA_CONTACT_IDS, admins $SCHEMA_ADMIN_IDS, teams $SCHEMA_TEAM_NAMES, attributes $SCHEMA_ATTRIBUTES"

# --- Schemathesis -----------------------------------------------------------------------------------------
# Positive data only: the schema is written without the padding the functions trim, so some requests it
# refuses are accepted (negative_data_rejection would report those). No coverage phase: it took minutes per
# operation on these patterns and does not apply the hooks; the stateful phase needs links the document lacks.
log "schemathesis: every operation, $MAX_EXAMPLES examples each, seed $SEED (at most ${MAX_TIME}s)"
started=$SECONDS
# From the log directory: Schemathesis and Hypothesis write .schemathesis/ and .hypothesis/ where they run, and
# a new file in the workspace makes cargo lambda watch rebuild and restart every function mid-run (60 s timeouts).
run_schemathesis() {
  (cd "$LOG_DIR" && PYTHONDONTWRITEBYTECODE=1 SCHEMATHESIS_HOOKS="$ROOT/scripts/schema_hooks.py" \
    schemathesis --config-file "$ROOT/scripts/schemathesis.toml" run \
    "$ROOT/agent-tools/openapi.json" --url "$BASE_URL" -H "$AUTH" \
    --mode positive --phases examples,fuzzing --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --generation-database none --max-time "$MAX_TIME" --workers 1 \
    --checks all --exclude-checks negative_data_rejection,use_after_free,ensure_resource_availability,object_level_authorization \
    --request-timeout 60 --no-color --report junit --report-dir "$LOG_DIR")
}
# One worker: with two, a get-conversation read while the other worker's writes changed the same conversation
# got cargo lambda watch's own 500 (`{"type":"https://httpstatuses.com/500",...}`, no line in the function's
# log, no panic) once or twice per run; alone, or with one worker, 5,000+ cases passed. Should that body still be
# every failure of a run, the run is repeated once with the same seed (a function's own 5xx never has it).
only_emulator_errors() {
  grep -q "doesn't exist as a binary" "$ROOT/.local/run-local/functions.log" 2>/dev/null || return 1
  python3 - "$LOG_DIR" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
newest = max(glob.glob(os.path.join(sys.argv[1], "junit-*.xml")), key=os.path.getmtime)
failures = [f for tc in ET.parse(newest).iter("testcase") for f in tc if f.tag in ("failure", "error")]
sys.exit(0 if failures and all("httpstatuses.com/500" in (f.text or "") for f in failures) else 1)
PY
}
status=0
run_schemathesis || status=$?
if ((status != 0)) && only_emulator_errors; then
  warn "every failure was the local emulator's own 500 (cargo lambda watch could not route a request), not a" \
    "function's answer: running Schemathesis once more with the same seed"
  status=0
  run_schemathesis || status=$?
fi
log "schemathesis finished in $((SECONDS - started))s (exit $status); JUnit report in $LOG_DIR"
if ((status != 0)); then
  grep -E ' (ERROR|WARN) ' "$ROOT/.local/run-local/functions.log" 2>/dev/null | tail -n 20 >&2 || true
  die "schemathesis found requests the functions and agent-tools/openapi.json disagree on (see above)"
fi
log "the functions answer as agent-tools/openapi.json says"
