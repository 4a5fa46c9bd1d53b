#!/usr/bin/env bash
# The published agent API (agent-tools/openapi.json) against the functions themselves, with Schemathesis
# (PyPI `schemathesis`, v4): starts the local stack (scripts/run-local.sh --fake, API-key auth) on its own
# ports, opens a few conversations to aim at, then generates schema-valid requests for every operation and
# checks that none gets a 5xx, a status or body outside the document, or a refusal that is not a business
# answer (scripts/schema_hooks.py). Stops everything it started.
#
# Schemathesis talks to the functions through scripts/emulator-read-retry.py, which resends a read when, and only
# when, cargo lambda watch lost the function's answer and answered with its own 500 or not at all (an emulator
# bug described there; never a function's answer, never a write). Afterwards scripts/check-invocations.py checks, from the
# functions' own log, that every invocation was answered by its function within 5 s (the proxy's wait for a read).
#
#   scripts/test-schema.sh
#
# Environment: PORT (9410), FAKE_PORT (9411), AGENT_PORT (9412), MOTO_PORT (9413), PROXY_PORT (9414);
# SCHEMA_MAX_EXAMPLES (25 per operation), SCHEMA_SEED (20260314), SCHEMA_MAX_TIME (180 s for the Schemathesis run).
# Logs and the JUnit report: target/test-schema/
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

export PORT="${PORT:-9410}" FAKE_PORT="${FAKE_PORT:-9411}" AGENT_PORT="${AGENT_PORT:-9412}" MOTO_PORT="${MOTO_PORT:-9413}"
PROXY_PORT="${PROXY_PORT:-9414}"
MAX_EXAMPLES="${SCHEMA_MAX_EXAMPLES:-25}"
SEED="${SCHEMA_SEED:-20260314}"
MAX_TIME="${SCHEMA_MAX_TIME:-180}"
LOG_DIR="$ROOT/target/test-schema"
mkdir -p "$LOG_DIR"
STACK_LOG="$LOG_DIR/run-local.log"
BASE_URL="http://127.0.0.1:$PORT/lambda-url"
PROXY_URL="http://127.0.0.1:$PROXY_PORT/lambda-url"
PROXY_LOG="$LOG_DIR/emulator-read-retry.log"
export AGENT_AUTH=API_KEY AGENT_API_KEY="schema-test-key-$RANDOM$RANDOM"
AUTH="Authorization: Bearer $AGENT_API_KEY"

stop_bg_on_exit

# --- tools ------------------------------------------------------------------------------------------
command -v schemathesis >/dev/null 2>&1 || pip_install "schemathesis==4.32.5"
log "$(schemathesis --version)"

# --- the local stack ---------------------------------------------------------------------------------
log "starting the local stack (scripts/run-local.sh --fake --no-reload) on port $PORT; log: $STACK_LOG"
# The emulator's debug log says which invocation went to which function: scripts/check-invocations.py needs it.
EMULATOR_RUST_LOG=cargo_lambda_watch=debug start_bg "$STACK_LOG" scripts/run-local.sh --fake --no-reload
stack_pid=$BG_PID
if ! wait_for_log_line "$STACK_LOG" "Local stack is up" 600 "$stack_pid"; then
  tail_log "$STACK_LOG" 40
  die "the local stack did not start (log: $STACK_LOG)"
fi

require_free_port "$PROXY_PORT" "the read-retry proxy" PROXY_PORT
start_bg "$PROXY_LOG" python3 -u "$ROOT/scripts/emulator-read-retry.py" "$PROXY_PORT" "$PORT"
if ! wait_for_port "$PROXY_PORT" 30 "$BG_PID"; then
  tail_log "$PROXY_LOG"
  die "scripts/emulator-read-retry.py did not start (log: $PROXY_LOG)"
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
# From the log directory: Schemathesis and Hypothesis write .schemathesis/ and .hypothesis/ where they run, which
# keeps the workspace clean (and the stack runs with --no-reload, so no edit can restart the functions mid-run).
run_schemathesis() {
  (cd "$LOG_DIR" && PYTHONDONTWRITEBYTECODE=1 SCHEMATHESIS_HOOKS="$ROOT/scripts/schema_hooks.py" \
    schemathesis --config-file "$ROOT/scripts/schemathesis.toml" run \
    "$ROOT/agent-tools/openapi.json" --url "$PROXY_URL" -H "$AUTH" \
    --mode positive --phases examples,fuzzing --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --generation-database none --max-time "$MAX_TIME" --workers 1 \
    --checks all --exclude-checks negative_data_rejection,use_after_free,ensure_resource_availability,object_level_authorization \
    --request-timeout 90 --no-color --report junit --report-dir "$LOG_DIR")
}
status=0
run_schemathesis || status=$?
resent=$(grep -c '^emulator-read-retry: resending' "$PROXY_LOG" || true)
((resent == 0)) || warn "cargo lambda watch lost $resent read answers (its own 500 or none); scripts/emulator-read-retry.py resent them: $PROXY_LOG"
log "schemathesis finished in $((SECONDS - started))s (exit $status); JUnit report in $LOG_DIR"
# Every invocation answered by the function itself, none slower than 5 s: so a resent read was the emulator's
# loss, never a function that hung or was slow (the fake answers in milliseconds).
python3 "$ROOT/scripts/check-invocations.py" "$ROOT/.local/run-local/functions.log" 5000 \
  "${AGENT_ACTIONS[@]}" || status=1
# Each function ran with only its template role: an AWS request moto refused is a permission template.yaml lacks.
local_stack report --iam-log "$ROOT/.local/run-local/iam-refusals.jsonl" || status=1
if ((status != 0)); then
  grep -E ' (ERROR|WARN) ' "$ROOT/.local/run-local/functions.log" 2>/dev/null | tail -n 20 >&2 || true
  die "schemathesis found requests the functions and agent-tools/openapi.json disagree on (see above)"
fi
log "the functions answer as agent-tools/openapi.json says"
