#!/usr/bin/env bash
# Runs every function locally behind its own function URL, on a fake Intercom (or your real one).
#
#   scripts/run-local.sh            build, start, print the URLs and a curl to try, then follow the
#                                   logs; Ctrl-C stops everything it started
#   scripts/run-local.sh --check    CI smoke test: start, escalate a billing question, read the
#                                   conversation back, deliver a signed webhook and see it relayed,
#                                   all through the local URLs; stop; exit 0/1 (= LOCAL_STACK_SMOKE=1)
#   scripts/run-local.sh --fake     use the fake Intercom even when INTERCOM_ACCESS_TOKEN is set
#   scripts/run-local.sh --no-reload
#                                   do not rebuild and restart the functions when a file changes (a test run
#                                   that must not be restarted by an edit; --check implies it)
#   scripts/run-local.sh --concurrency N
#                                   up to N instances of each function at once (cargo lambda watch
#                                   --concurrency; default 1), e.g. to try concurrent retries
#   scripts/run-local.sh --no-iam   every function gets moto's dummy keys, which may do anything (debugging)
#   scripts/run-local.sh --template FILE
#                                   run the functions as FILE (a SAM template, YAML or JSON) deploys them, not
#                                   template.yaml (scripts/test-iam-bites.sh runs one that lacks a permission)
#
# Every function answers at http://127.0.0.1:$PORT/lambda-url/<function-name>/ (cargo lambda watch,
# which hot-reloads on code changes). Intercom is the fake (tests/fake-intercom, seeded with demo
# data) on 127.0.0.1:$FAKE_PORT — unless INTERCOM_ACCESS_TOKEN is set in your environment: then
# the functions talk to your real Intercom workspace with that token (never in --check mode).
#
# Each function runs with what template.yaml gives it (scripts/local-stack.py, scripts/lambda-runner.sh): its
# variables (Globals and its own) with the parameters' defaults or the local values chosen here, a variable you
# set keeping your value; the local secrets instead of the Secrets Manager secret; and AWS credentials of its own
# role, with the template's statements only. moto checks each of its requests against them, as IAM would, and
# the refusals are in iam-refusals.jsonl; --check fails on the first, naming the function and the action.
#
# The idempotency table is DynamoDB in moto (moto_server on 127.0.0.1:$MOTO_PORT), created from
# template.yaml's definition (scripts/create-table.py); the functions get AWS_ENDPOINT_URL, so nothing
# reaches AWS.
#
# The relay queue is an SQS FIFO queue (relay.fifo, dead-letter queue relay-dlq.fifo) on the same moto, made
# from template.yaml's RelayQueue and RelayDeadLetterQueue:
# intercom-webhook enqueues (RELAY_QUEUE_URL) and answers at once, and scripts/sqs-poller.py polls the queue
# and invokes relay-to-agent the way Lambda's event source mapping does (partial batch failures, retry after
# RELAY_RETRY_SECONDS (10 locally), dead-letter queue after RELAY_MAX_ATTEMPTS (5 locally) attempts).
#
# relay-to-agent relays to a local stand-in of the agent (scripts/agent-receiver.py on
# 127.0.0.1:$AGENT_PORT, which checks the signature and prints each event) unless you set
# AGENT_WEBHOOK_URL yourself.
#
# Environment: PORT (9000), FAKE_PORT (4011), AGENT_PORT (9010), MOTO_PORT (a free one),
# IDEMPOTENCY_TABLE (idempotency), RUST_LOG (info, the functions' level), EMULATOR_RUST_LOG (cargo lambda
# watch's own, unset; e.g. cargo_lambda_watch=debug,tower_http=debug to see each request it routes); any variable the
# functions read (ESCALATION_ROUTING, AGENT_WEBHOOK_URL, AGENT_AUTH, INTERCOM_REGION, ...) is passed through and
# beats the template's value. The local secrets: AGENT_API_KEY, INTERCOM_CLIENT_SECRET, AGENT_WEBHOOK_SECRET,
# HUB_ADMIN_KEY (each a local default unless set) and INTERCOM_ACCESS_TOKEN. Logs: .local/run-local/*.log
#
# Hub mode: TENANCY=hub scripts/run-local.sh runs one deployment for many workspaces: the fake serves
# FAKE_WORKSPACES of them (default 2), nothing is connected at start, and the banner prints the one curl that
# connects each (connect-workspace, with HUB_ADMIN_KEY); agents then call with each workspace's own key
# (AGENT_AUTH=API_KEY). --check runs scripts/hub-smoke.py: connect both, escalate the same session in each,
# A's key on B's conversation, a refused token, a disconnect.
set -euo pipefail
# The variables the caller set: theirs beat the template's (scripts/local-stack.py --caller-vars).
CALLER_VARS="$(compgen -e | tr '\n' ' ')"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }

CHECK="${LOCAL_STACK_SMOKE:-0}"
[[ "$CHECK" == 1 || "$CHECK" == true ]] && CHECK=1 || CHECK=0
FORCE_FAKE=0
NO_RELOAD=0
CONCURRENCY=""
IAM=1
TEMPLATE="template.yaml"
while (($#)); do
  case "$1" in
    --check | --smoke) CHECK=1 ;;
    --fake) FORCE_FAKE=1 ;;
    --no-reload) NO_RELOAD=1 ;;
    --concurrency)
      (($# >= 2)) || die "--concurrency needs a number, e.g. --concurrency 4"
      CONCURRENCY=$2
      shift
      ;;
    --concurrency=*) CONCURRENCY=${1#--concurrency=} ;;
    --no-iam) IAM=0 ;;
    --template)
      (($# >= 2)) || die "--template needs a file, e.g. --template template.yaml"
      TEMPLATE=$2
      shift
      ;;
    --template=*) TEMPLATE=${1#--template=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
[[ -z "$CONCURRENCY" || "$CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || die "--concurrency must be a whole number from 1 (got '$CONCURRENCY')"
[[ -f "$TEMPLATE" ]] || die "no template at $TEMPLATE"
TENANCY="${TENANCY:-single}"
case "$TENANCY" in
  single) HUB=0 ;;
  hub) HUB=1 ;;
  *) die "TENANCY must be single (default) or hub (got '$TENANCY')" ;;
esac
FAKE_WORKSPACES="${FAKE_WORKSPACES:-$((HUB ? 2 : 1))}"
[[ "$FAKE_WORKSPACES" =~ ^[1-9][0-9]?$ ]] || die "FAKE_WORKSPACES must be a whole number from 1 to 99 (got '$FAKE_WORKSPACES')"
TEMPLATE="$(cd "$(dirname "$TEMPLATE")" && pwd)/$(basename "$TEMPLATE")"

PORT="${PORT:-9000}"
FAKE_PORT="${FAKE_PORT:-4011}"
AGENT_PORT="${AGENT_PORT:-9010}"
MOTO_PORT="${MOTO_PORT:-$(free_port)}"
for p in "$PORT" "$FAKE_PORT" "$AGENT_PORT" "$MOTO_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] || die "PORT, FAKE_PORT, AGENT_PORT and MOTO_PORT must be port numbers (got '$p')"
done
[[ "$(printf '%s\n' "$PORT" "$FAKE_PORT" "$AGENT_PORT" "$MOTO_PORT" | sort -u | wc -l)" == 4 ]] ||
  die "PORT, FAKE_PORT, AGENT_PORT and MOTO_PORT must differ"
IDEMPOTENCY_TABLE="${IDEMPOTENCY_TABLE:-idempotency}"
BASE_URL="http://127.0.0.1:$PORT/lambda-url"
INVOKE_URL="http://127.0.0.1:$PORT/2015-03-31/functions"
LOG_DIR="$ROOT/.local/run-local"
mkdir -p "$LOG_DIR"
WATCH_LOG="$LOG_DIR/functions.log"
FAKE_LOG="$LOG_DIR/fake-intercom.log"
AGENT_LOG="$LOG_DIR/agent-receiver.log"
MOTO_LOG="$LOG_DIR/moto.log"
POLLER_LOG="$LOG_DIR/sqs-poller.log"
IAM_LOG="$LOG_DIR/iam-refusals.jsonl"
# Each function's environment and credentials (mode 600, removed when the stack stops: they hold the secrets).
ENV_DIR="$LOG_DIR/env"
RELAY_RETRY_SECONDS="${RELAY_RETRY_SECONDS:-10}"
RELAY_MAX_ATTEMPTS="${RELAY_MAX_ATTEMPTS:-5}"
WEBHOOK_FIXTURE="$ROOT/shared/src/webhook/fixtures/conversation.user.replied.json"

# Real Intercom only when the user asked for it with their own token, and never for the smoke test.
USE_FAKE=1
if [[ -n "${INTERCOM_ACCESS_TOKEN:-}" && "$CHECK" == 0 && "$FORCE_FAKE" == 0 ]]; then
  USE_FAKE=0
fi
# The stand-in agent, unless the user relays to their own (never in --check mode).
USE_RECEIVER=0
if [[ -f "$ROOT/scripts/agent-receiver.py" && ("$CHECK" == 1 || -z "${AGENT_WEBHOOK_URL:-}") ]]; then
  USE_RECEIVER=1
fi

# --- tools --------------------------------------------------------------------------------------
require_cmd curl "Install it: apt-get install -y curl"
require_cmd python3 "Install Python 3: apt-get install -y python3 python3-pip"
require_cmd setsid "It is part of util-linux: apt-get install -y util-linux"
ensure_cargo_lambda
ensure_moto
ensure_local_stack_python

require_free_port "$PORT" "the function URLs" PORT
((USE_FAKE == 0)) || require_free_port "$FAKE_PORT" "the fake Intercom" FAKE_PORT
((USE_RECEIVER == 0)) || require_free_port "$AGENT_PORT" "the stand-in agent (scripts/agent-receiver.py)" AGENT_PORT
require_free_port "$MOTO_PORT" "moto (the local DynamoDB)" MOTO_PORT

# --- stop everything we started, however we leave --------------------------------------------------
TAIL_PID=""
# shellcheck disable=SC2317 # called by the traps
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$TAIL_PID" ]]; then kill "$TAIL_PID" 2>/dev/null || true; fi
  if ((${#BG_PIDS[@]})); then
    log "stopping the local stack"
    stop_all_bg
  fi
  rm -rf "$ENV_DIR"
  if ((CHECK == 0 && IAM)) && ! local_stack report --iam-log "$IAM_LOG"; then
    warn "moto refused the requests above: template.yaml does not grant them (log: $IAM_LOG)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ------------------------------------------------------------------------------------------
log "building the functions and the fake Intercom (debug)"
build_args=()
for fn in "${FUNCTIONS[@]}"; do build_args+=(-p "$fn"); done
((USE_FAKE == 0)) || build_args+=(-p fake-intercom)
cargo build --bins "${build_args[@]}" || die "cargo build failed (see above)"
# `cargo lambda watch` starts each function with `cargo run --bin <name>`; building each the same way
# now means the first request does not wait for a compile.
for fn in "${FUNCTIONS[@]}"; do
  cargo build --quiet --bin "$fn" || die "cargo build --bin $fn failed"
done
TARGET_DIR="$(cargo_target_dir)"
[[ -n "$TARGET_DIR" ]] || die "could not find cargo's target directory (cargo metadata failed)"

# --- what the functions get ---------------------------------------------------------------------------
# Nothing here is exported to cargo lambda watch: scripts/local-stack.py writes each function's variables, from
# the template, into $ENV_DIR, and the values chosen here reach it as template parameters (--param), resource
# names (--name), variables for every function (--set) or secrets (--secret: for the functions the template gives
# the secret). RUST_LOG is the functions' (LogLevel); cargo-lambda reads RUST_LOG too, and at `info` it would print
# its whole configuration.
FUNCTION_RUST_LOG="${RUST_LOG:-info}"
unset RUST_LOG
stack_args=(--template "$TEMPLATE" --param "LogLevel=$FUNCTION_RUST_LOG"
  --param "EscalationRouting=${ESCALATION_ROUTING:-billing=Billing,legal=Legal,*=Support}"
  --param "RelayRetrySeconds=$RELAY_RETRY_SECONDS" --param "RelayMaxAttempts=$RELAY_MAX_ATTEMPTS"
  --name "IdempotencyTable=$IDEMPOTENCY_TABLE" --name RelayQueue=relay.fifo --name RelayDeadLetterQueue=relay-dlq.fifo)
INTERCOM_CLIENT_SECRET="${INTERCOM_CLIENT_SECRET:-local-client-secret}"
AGENT_WEBHOOK_SECRET="${AGENT_WEBHOOK_SECRET:-local-agent-webhook-secret}"
# The bearer key of the mcp function (it always requires one; the actions do only with AGENT_AUTH=API_KEY).
AGENT_API_KEY="${AGENT_API_KEY:-local-agent-api-key}"
HUB_ADMIN_KEY="${HUB_ADMIN_KEY:-local-hub-admin-key}"
unset INTERCOM_SECRET_ARN # local runs never read Secrets Manager
# connect-workspace answers the webhook URL (and the doctor pings it): the local webhook function's.
stack_args+=(--set "WEBHOOK_BASE_URL=$BASE_URL/intercom-webhook")
if ((HUB)); then
  # A hub's workspaces bring their own tokens and admins; agents use each workspace's key.
  ((USE_FAKE)) || die "TENANCY=hub runs on the fake Intercom only (its workspaces are what gets connected)"
  stack_args+=(--param Tenancy=hub --param "AgentAuth=${AGENT_AUTH:-API_KEY}")
  stack_args+=(--set "INTERCOM_API_BASE=http://127.0.0.1:$FAKE_PORT")
  unset INTERCOM_ACCESS_TOKEN
elif ((USE_FAKE)); then
  stack_args+=(--set "INTERCOM_API_BASE=http://127.0.0.1:$FAKE_PORT")
  INTERCOM_ACCESS_TOKEN="local-dev-token"
  # The demo's Ada AI: the AI's admin in the hand-off rule.
  stack_args+=(--param "IntercomAdminId=${INTERCOM_ADMIN_ID:-991267}")
else
  unset INTERCOM_API_BASE
fi
if ((USE_RECEIVER)); then
  AGENT_WEBHOOK_URL="http://127.0.0.1:$AGENT_PORT/webhook/intercom-events" # beats yours in --check mode
  stack_args+=(--param "AgentWebhookUrl=$AGENT_WEBHOOK_URL")
fi
((IAM)) || stack_args+=(--no-iam)
for secret in INTERCOM_ACCESS_TOKEN INTERCOM_CLIENT_SECRET AGENT_WEBHOOK_SECRET AGENT_API_KEY HUB_ADMIN_KEY; do
  stack_args+=(--secret "$secret")
done
# The store and the queue are moto's: every AWS call goes there, signed with each function's own keys.
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
ADMIN_ENV="$ENV_DIR/admin.env" # the scripts' own keys (user local-admin, every action)

# --- start ------------------------------------------------------------------------------------------
: >"$IAM_LOG"
start_moto "$MOTO_PORT" "$MOTO_LOG" 60 "$IDEMPOTENCY_TABLE" "$IAM_LOG"
moto_pid=$BG_PID
log "each function's environment and role, from $(basename "$TEMPLATE") (scripts/local-stack.py)"
INTERCOM_ACCESS_TOKEN="${INTERCOM_ACCESS_TOKEN:-}" INTERCOM_CLIENT_SECRET="$INTERCOM_CLIENT_SECRET" \
  AGENT_WEBHOOK_SECRET="$AGENT_WEBHOOK_SECRET" AGENT_API_KEY="$AGENT_API_KEY" HUB_ADMIN_KEY="$HUB_ADMIN_KEY" \
  AGENT_WEBHOOK_URL="${AGENT_WEBHOOK_URL:-}" \
  local_stack setup --endpoint-url "$MOTO_URL" --out "$ENV_DIR" --caller-vars "$CALLER_VARS" "${stack_args[@]}" ||
  die "could not give the functions their environment and roles (log: $MOTO_LOG)"
RELAY_QUEUE_URL="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["RelayQueue"]["Ref"])' "$ENV_DIR/resources.json")"
RELAY_DLQ_URL="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["RelayDeadLetterQueue"]["Ref"])' "$ENV_DIR/resources.json")"
# What scripts/doctor.sh --local reads: where this stack is (the keys stay in the env files, mode 600).
(umask 077 && printf '%s' "$HUB_ADMIN_KEY" >"$ENV_DIR/hub-admin-key")
python3 - "$LOG_DIR/doctor.json" <<PY
import json, sys
json.dump({"connectUrl": "$BASE_URL/connect-workspace/", "hubAdminKeyFile": "$ENV_DIR/hub-admin-key",
           "agentAuth": "$( ((HUB)) && echo "${AGENT_AUTH:-API_KEY}" || echo "${AGENT_AUTH:-AWS_IAM}")",
           "awsEndpointUrl": "$MOTO_URL", "awsCredentialsFile": "$ADMIN_ENV",
           "relayQueueUrl": "$RELAY_QUEUE_URL", "relayDeadLetterQueueUrl": "$RELAY_DLQ_URL"}, open(sys.argv[1], "w"), indent=2)
PY
log "relay queue: $RELAY_QUEUE_URL (retry after ${RELAY_RETRY_SECONDS}s, dead-letter queue after $RELAY_MAX_ATTEMPTS attempts)"
# Fails the smoke test at the first request moto refused, naming the function, the action and the resource.
iam_check() {
  if ((IAM)) && [[ -s "$IAM_LOG" ]] && ! local_stack report --iam-log "$IAM_LOG"; then
    tail_log "$WATCH_LOG" 20
    die "a function lacks a permission its code uses: grant it in template.yaml (refusals: $IAM_LOG)"
  fi
}

if ((USE_FAKE)); then
  # The fake sends Intercom's signed webhooks to the webhook function, as a real workspace's app would.
  # With several workspaces each one's webhooks go to .../webhook/intercom-events/<its id>, signed with its own secret.
  start_fake_intercom "$TARGET_DIR/debug/fake-intercom" "$FAKE_PORT" "$FAKE_LOG" 60 --workspaces "$FAKE_WORKSPACES" \
    --webhook-url "$BASE_URL/intercom-webhook/webhook/intercom-events" --webhook-secret "$INTERCOM_CLIENT_SECRET"
  fake_pid=$BG_PID
fi

if ((USE_RECEIVER)); then
  log "starting the stand-in agent (scripts/agent-receiver.py) on 127.0.0.1:$AGENT_PORT"
  AGENT_WEBHOOK_SECRET="$AGENT_WEBHOOK_SECRET" start_bg "$AGENT_LOG" python3 -u "$ROOT/scripts/agent-receiver.py" "$AGENT_PORT"
  agent_pid=$BG_PID
  if ! wait_for_log_line "$AGENT_LOG" "listening on http://" 30 "$agent_pid"; then
    tail_log "$AGENT_LOG"
    die "the stand-in agent did not start (log: $AGENT_LOG)"
  fi
fi

log "starting cargo lambda watch on 127.0.0.1:$PORT"
watch_args=(--invoke-address 127.0.0.1 --invoke-port "$PORT")
((CHECK == 0 && NO_RELOAD == 0)) || watch_args+=(--ignore-changes)
[[ -z "$CONCURRENCY" ]] || watch_args+=(--concurrency "$CONCURRENCY")
start_watch "$WATCH_LOG" "$ENV_DIR" "${watch_args[@]}"
watch_pid=$BG_PID
if ! wait_for_port "$PORT" 120 "$watch_pid"; then
  tail_log "$WATCH_LOG"
  die "cargo lambda watch did not start (log: $WATCH_LOG)"
fi

# Each function process starts on its first request: send every one a harmless request (GET on the
# actions is refused with 405, HEAD on the webhook is Intercom's URL check) and wait for an answer.
log "starting the ${#FUNCTIONS[@]} functions"
not_ready=()
for fn in "${FUNCTIONS[@]}"; do
  if [[ "$fn" == intercom-webhook ]]; then
    method=(-I) url="$BASE_URL/$fn/webhook/intercom-events"
  elif [[ " ${QUEUE_CONSUMERS[*]} " == *" $fn "* ]]; then
    # An empty SQS batch through the Invoke API, as the event source mapping would call it.
    method=(-H 'content-type: application/json' -d '{"Records":[]}') url="$INVOKE_URL/$fn/invocations"
  else
    method=() url="$BASE_URL/$fn/"
  fi
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 180 "${method[@]}" "$url" || true)"
  if [[ "$code" =~ ^[234] ]]; then
    log "  $fn: ready (HTTP $code to ${method[*]:-GET})"
  else
    not_ready+=("$fn")
    warn "  $fn: not ready (HTTP ${code:-no answer}); see $WATCH_LOG"
  fi
done
if ((${#not_ready[@]})); then
  tail_log "$WATCH_LOG" 40
  if ((CHECK)); then die "functions did not answer: ${not_ready[*]}"; fi
  warn "some functions did not answer: ${not_ready[*]} (they will be retried on the next request)"
fi
if ((CHECK)); then
  iam_check
  if [[ -d /proc/self ]]; then
    log "smoke test: each function process has exactly its template environment"
    local_stack verify --out "$ENV_DIR" --target-dir "$TARGET_DIR" --caller-vars "$CALLER_VARS" ||
      die "the functions do not run with their template environment (scripts/lambda-runner.sh, $ENV_DIR)"
  fi
fi

log "starting the SQS poller (relay-to-agent's event source mapping, scripts/sqs-poller.py)"
# It polls with relay-to-agent's own keys, as Lambda's event source mapping polls with the function's role.
start_bg "$POLLER_LOG" "$(moto_python)" -u "$ROOT/scripts/sqs-poller.py" --endpoint-url "$MOTO_URL" --queue-url "$RELAY_QUEUE_URL" \
  --invoke-url "$INVOKE_URL/relay-to-agent/invocations" --credentials "$ENV_DIR/relay-to-agent.env"
poller_pid=$BG_PID
if ! wait_for_log_line "$POLLER_LOG" "polling " 30 "$poller_pid"; then
  tail_log "$POLLER_LOG"
  die "the SQS poller did not start (log: $POLLER_LOG)"
fi

ESCALATE_BODY='{"sessionId":"demo-1","userEmail":"jane@example.com","confidence":0.82,"category":"billing","lastMessage":"I was charged twice this month"}'

# --- smoke test in hub mode (CI) ---------------------------------------------------------------------
if ((CHECK && HUB)); then
  log "smoke test (hub mode): connect the fake's workspaces, act in each, nothing crossing between them"
  (umask 077 && printf '%s' "$HUB_ADMIN_KEY" >"$ENV_DIR/hub-admin-key")
  hub_failures=0
  python3 "$ROOT/scripts/hub-smoke.py" --base "$BASE_URL" --fake "http://127.0.0.1:$FAKE_PORT" \
    --admin-key-file "$ENV_DIR/hub-admin-key" || hub_failures=$?
  iam_check
  log "smoke test: stopping"
  stop_all_bg
  if ((hub_failures)); then
    tail_log "$WATCH_LOG" 40
    die "local stack smoke test (hub mode) failed ($hub_failures problem(s)); logs in $LOG_DIR"
  fi
  log "local stack smoke test (hub mode) passed"
  exit 0
fi

# --- smoke test (CI) --------------------------------------------------------------------------------
if ((CHECK)); then
  failures=0
  check() { # check NAME EXPECTED_STATUS BODY_FILE PYTHON_CONDITION (on `d`, the parsed JSON)
    local name=$1 want=$2 file=$3 cond=$4
    iam_check # a refused AWS call explains a failure below better than the answer does
    if python3 - "$file" "$cond" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2], {"d": d}) else 1)
PY
      log "  ok: $name"
    else
      warn "  FAILED: $name (HTTP $want expected); answer: $(head -c 600 "$file")"
      failures=$((failures + 1))
    fi
  }
  body_file="$LOG_DIR/smoke-answer.json"

  log "smoke test: the idempotency table exists in moto, as template.yaml defines it"
  if "$(moto_python)" "$ROOT/scripts/create-table.py" --endpoint-url "$MOTO_URL" --table "$IDEMPOTENCY_TABLE" --check \
    --credentials "$ADMIN_ENV"; then
    log "  ok: table $IDEMPOTENCY_TABLE exists"
  else
    warn "  FAILED: table $IDEMPOTENCY_TABLE is missing or differs from template.yaml (log: $MOTO_LOG)"
    failures=$((failures + 1))
  fi

  log "smoke test: escalate a billing question"
  code="$(curl -s -o "$body_file" -w '%{http_code}' --max-time 60 "$BASE_URL/escalate/" \
    -H 'content-type: application/json' -d "$ESCALATE_BODY" || true)"
  [[ "$code" == 200 ]] || warn "escalate answered HTTP ${code:-nothing}"
  check "escalate opens a conversation" 200 "$body_file" \
    "d.get('escalated') is True and str(d.get('conversationId', '')).isdigit()"
  conversation_id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("conversationId",""))' "$body_file" 2>/dev/null || true)"

  if ((USE_FAKE)); then
    racers=${CONCURRENCY:-1}
    ((racers >= 4)) || racers=4
    log "smoke test: $racers escalations of one session at once (cargo lambda watch --concurrency ${CONCURRENCY:-1}) open one conversation"
    before="$(curl -s --max-time 10 "http://127.0.0.1:$FAKE_PORT/__fake/state" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["conversations"]))' || echo x)"
    race_body='{"sessionId":"smoke-race","userEmail":"jane@example.com","confidence":0.1,"lastMessage":"I want a person"}'
    race_pids=()
    for i in $(seq 1 "$racers"); do
      curl -s -o "$LOG_DIR/race-$i.json" -w '%{http_code}' --max-time 60 "$BASE_URL/escalate/" \
        -H 'content-type: application/json' -d "$race_body" >"$LOG_DIR/race-$i.status" &
      race_pids+=($!)
    done
    wait "${race_pids[@]}" || true
    after="$(curl -s --max-time 10 "http://127.0.0.1:$FAKE_PORT/__fake/state" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["conversations"]))' || echo y)"
    statuses="" unexpected=0
    for i in $(seq 1 "$racers"); do
      code="$(cat "$LOG_DIR/race-$i.status")"
      statuses+="$code "
      [[ "$code" == 200 || "$code" == 409 ]] || unexpected=1
    done
    if [[ "$before" =~ ^[0-9]+$ && "$after" == $((before + 1)) && "$unexpected" == 0 ]]; then
      log "  ok: one conversation for one session (answers: $statuses)"
    else
      warn "  FAILED: $racers same-session escalations opened $((after - before)) conversation(s) (answers: $statuses)"
      failures=$((failures + 1))
    fi
  fi

  log "smoke test: read it back with get-conversation"
  code="$(curl -s -o "$body_file" -w '%{http_code}' --max-time 60 "$BASE_URL/get-conversation/" \
    -H 'content-type: application/json' -d "{\"conversationId\":\"${conversation_id:-0}\"}" || true)"
  [[ "$code" == 200 ]] || warn "get-conversation answered HTTP ${code:-nothing}"
  check "get-conversation returns it" 200 "$body_file" \
    "str(d.get('conversationId')) == '${conversation_id:-missing}'"

  log "smoke test: the webhook answers Intercom's HEAD check"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -I "$BASE_URL/intercom-webhook/webhook/intercom-events" || true)"
  if [[ "$code" == 200 ]]; then log "  ok: webhook HEAD"; else
    warn "  FAILED: webhook HEAD answered HTTP ${code:-nothing}"
    failures=$((failures + 1))
  fi

  if ((USE_RECEIVER)) && [[ -f "$WEBHOOK_FIXTURE" ]]; then
    log "smoke test: a signed Intercom delivery is queued, and relayed, signed, to the agent by relay-to-agent"
    signature="sha1=$(SECRET="$INTERCOM_CLIENT_SECRET" python3 -c 'import hmac, hashlib, os, sys; print(hmac.new(os.environ["SECRET"].encode(), open(sys.argv[1], "rb").read(), hashlib.sha1).hexdigest())' \
      "$WEBHOOK_FIXTURE")"
    code="$(curl -s -o "$body_file" -w '%{http_code}' --max-time 30 "$BASE_URL/intercom-webhook/webhook/intercom-events" \
      -H 'content-type: application/json' -H "X-Hub-Signature: $signature" --data-binary "@$WEBHOOK_FIXTURE" || true)"
    if [[ "$code" == 200 ]] && grep -q '"queued"' "$body_file"; then log "  ok: webhook queued the delivery"; else
      warn "  FAILED: webhook answered HTTP ${code:-nothing}: $(head -c 400 "$body_file")"
      failures=$((failures + 1))
    fi
    # The poller picks it up within a second or two; give a cold relay-to-agent up to 60 s.
    for _ in $(seq 1 120); do
      curl -s -o "$body_file" --max-time 10 "http://127.0.0.1:$AGENT_PORT/received" || echo '[]' >"$body_file"
      grep -q 'conversation.user.replied' "$body_file" && break
      sleep 0.5
    done
    check "the agent received it, validly signed" 200 "$body_file" \
      "any(e.get('valid') and (e.get('event') or {}).get('topic') == 'conversation.user.replied' for e in d)"
  fi

  if ((USE_RECEIVER && USE_FAKE)) && [[ -n "$conversation_id" ]]; then
    log "smoke test: the customer answers in the escalated conversation; the agent hears it is a human's"
    curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$FAKE_PORT/__fake/conversations/$conversation_id/customer_reply" \
      -H 'content-type: application/json' -d '{"body":"Any news on my refund?"}' || true
    curl -s -o /dev/null --max-time 40 -X POST "http://127.0.0.1:$FAKE_PORT/__fake/webhooks/flush" || true
    human_reply="any(e.get('valid') and (e.get('event') or {}).get('topic') == 'conversation.user.replied' and str(((e.get('event') or {}).get('conversation') or {}).get('id')) == '$conversation_id' and (e.get('event') or {}).get('handling') == 'human' for e in d)"
    # The delivery goes through the queue and the poller to relay-to-agent: give it up to 60 s.
    for _ in $(seq 1 120); do
      curl -s -o "$body_file" --max-time 10 "http://127.0.0.1:$AGENT_PORT/received" || echo '[]' >"$body_file"
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2], {"d": d}) else 1)' \
        "$body_file" "$human_reply" 2>/dev/null && break
      sleep 0.5
    done
    check "the customer's reply reached the agent with handling human" 200 "$body_file" "$human_reply"
  fi

  iam_check
  ((IAM == 0)) || log "  ok: moto refused no AWS request of any function (each had only its template role)"
  if ((USE_FAKE)); then
    log "smoke test: the doctor finds the stack healthy, then names an archived data attribute"
    if "$ROOT/scripts/doctor.sh" --local >"$LOG_DIR/doctor.out" 2>&1; then
      log "  ok: doctor exit 0 on the healthy stack ($(grep -c '^ok:' "$LOG_DIR/doctor.out") checks)"
    else
      warn "  FAILED: the doctor on the healthy stack: $(grep -E 'PROBLEM|cannot run' "$LOG_DIR/doctor.out" | head -5)"
      failures=$((failures + 1))
    fi
    # Archived through Intercom's own API, as an admin might in Settings → Data → People.
    attribute_id="$(curl -s --max-time 10 -H 'Authorization: Bearer local-dev-token' -H 'Intercom-Version: 2.16' \
      "http://127.0.0.1:$FAKE_PORT/data_attributes?model=contact" |
      python3 -c 'import json,sys; print(next(str(a["id"]) for a in json.load(sys.stdin)["data"] if a["name"] == "escalation_count"))' || true)"
    curl -s -o /dev/null --max-time 10 -X PUT -H 'Authorization: Bearer local-dev-token' -H 'content-type: application/json' \
      "http://127.0.0.1:$FAKE_PORT/data_attributes/${attribute_id:-0}" -d '{"archived":true}' || true
    doctor_rc=0
    "$ROOT/scripts/doctor.sh" --local >"$LOG_DIR/doctor.out" 2>&1 || doctor_rc=$?
    if [[ "$doctor_rc" == 1 ]] && grep -q 'PROBLEM: .*escalation_count is archived' "$LOG_DIR/doctor.out"; then
      log "  ok: doctor exit 1 naming it: $(grep 'escalation_count' "$LOG_DIR/doctor.out" | head -1)"
    else
      warn "  FAILED: the doctor did not name the archived attribute (exit $doctor_rc): $(tail -5 "$LOG_DIR/doctor.out")"
      failures=$((failures + 1))
    fi
  fi

  log "smoke test: stopping"
  stop_all_bg
  for p in "$PORT" "$FAKE_PORT" "$MOTO_PORT"; do
    if port_in_use "$p"; then
      warn "  FAILED: port $p is still in use after stopping ($(port_owner "$p"))"
      failures=$((failures + 1))
    fi
  done
  if ((failures)); then
    tail_log "$WATCH_LOG" 40
    die "local stack smoke test failed ($failures problem(s)); logs in $LOG_DIR"
  fi
  log "local stack smoke test passed"
  exit 0
fi

# --- interactive: print how to use it, then follow the logs ----------------------------------------
{
  echo
  if ((USE_FAKE)); then
    echo "Local stack is up, on the fake Intercom at http://127.0.0.1:$FAKE_PORT (demo data; state: /__fake/state)."
  else
    echo "Local stack is up, on your REAL Intercom workspace (INTERCOM_ACCESS_TOKEN from your environment)."
    echo "Every action below changes real conversations and contacts."
  fi
  echo
  echo "Function URLs:"
  for fn in "${AGENT_ACTIONS[@]}"; do printf '  %-24s POST %s/%s/\n' "$fn" "$BASE_URL" "$fn"; done
  printf '  %-24s POST %s/%s/webhook/intercom-events\n' intercom-webhook "$BASE_URL" intercom-webhook
  printf '  %-24s POST %s/%s/  (MCP; Authorization: Bearer <AGENT_API_KEY>)\n' mcp "$BASE_URL" mcp
  printf '  %-24s POST|GET|PATCH|DELETE %s/%s/  (Authorization: Bearer <HUB_ADMIN_KEY>)\n' connect-workspace "$BASE_URL" connect-workspace
  echo
  if ((HUB)); then
    (umask 077 && printf '%s' "$HUB_ADMIN_KEY" >"$ENV_DIR/hub-admin-key")
    echo "Hub mode: $FAKE_WORKSPACES fake workspaces, none connected yet. Connect workspace N (1, 2, ...) with one call"
    echo "(the token and client secret come from the fake's /__fake/workspaces; the hub admin key from $ENV_DIR/hub-admin-key):"
    echo
    echo "  N=1; curl -s $BASE_URL/connect-workspace/ -H \"Authorization: Bearer \$(cat $ENV_DIR/hub-admin-key)\" \\"
    echo "    -d \"\$(curl -s http://127.0.0.1:$FAKE_PORT/__fake/workspaces | python3 -c 'import json,sys; w=json.load(sys.stdin)[int(sys.argv[1])-1]; print(json.dumps({\"accessToken\":w[\"accessToken\"],\"clientSecret\":w[\"clientSecret\"]}))' \$N)\""
    echo
    echo "The answer's agentApiKey (shown once) is that workspace's key: send it as Authorization: Bearer <key> to every"
    echo "action below (and to the MCP endpoint); GET / PATCH / DELETE connect-workspace list, change and disconnect."
    echo
  fi
  echo "Try it — escalate a billing question to a human:"
  echo
  if ((HUB)); then
    echo "  curl -s $BASE_URL/escalate/ -H 'content-type: application/json' -H 'Authorization: Bearer <agentApiKey>' -d '$ESCALATE_BODY'"
  else
    echo "  curl -s $BASE_URL/escalate/ -H 'content-type: application/json' -d '$ESCALATE_BODY'"
  fi
  echo
  echo "then read the conversation it opened (use the conversationId from the answer):"
  echo
  echo "  curl -s $BASE_URL/get-conversation/ -H 'content-type: application/json' -d '{\"conversationId\":\"<id>\"}'"
  echo
  echo "Deliver a signed Intercom webhook (it is relayed to ${AGENT_WEBHOOK_URL:-nowhere: AGENT_WEBHOOK_URL is unset}):"
  echo
  echo "  s=\$(sed -n 's/^INTERCOM_CLIENT_SECRET=//p' $ENV_DIR/intercom-webhook.env)"
  echo "  f=shared/src/webhook/fixtures/conversation.user.replied.json; curl -s $BASE_URL/intercom-webhook/webhook/intercom-events \\"
  echo "    -H \"X-Hub-Signature: sha1=\$(openssl dgst -sha1 -hmac \"\$s\" \"\$f\" | sed 's/.* //')\" --data-binary @\"\$f\""
  echo
  echo "Local secrets (shown by their first 4 characters; each function's are in $ENV_DIR/<function>.env"
  echo "while the stack runs, e.g. sed -n 's/^AGENT_API_KEY=//p' $ENV_DIR/mcp.env):"
  echo "  AGENT_API_KEY=$(mask "$AGENT_API_KEY")  INTERCOM_CLIENT_SECRET=$(mask "$INTERCOM_CLIENT_SECRET")  AGENT_WEBHOOK_SECRET=$(mask "$AGENT_WEBHOOK_SECRET")  HUB_ADMIN_KEY=$(mask "$HUB_ADMIN_KEY")"
  echo
  if ((IAM)); then
    echo "AWS permissions: each function has only its role in $(basename "$TEMPLATE"); moto refuses anything else and"
    echo "  records it in $IAM_LOG (shown below as it happens). --no-iam turns this off."
  else
    echo "AWS permissions: not checked (--no-iam): every function has moto's dummy keys."
  fi
  echo
  echo "Idempotency table: $IDEMPOTENCY_TABLE in moto's DynamoDB at $MOTO_URL"
  echo "  (set -a; . $ADMIN_ENV; set +a; aws dynamodb scan --endpoint-url $MOTO_URL --table-name $IDEMPOTENCY_TABLE)"
  echo
  echo "Relay queue: $RELAY_QUEUE_URL, polled for relay-to-agent by scripts/sqs-poller.py (sqs-poller.log);"
  echo "  events the agent refuses $RELAY_MAX_ATTEMPTS times land in relay-dlq.fifo"
  echo
  logs="functions.log, moto.log, iam-refusals.jsonl, sqs-poller.log"
  ((USE_FAKE == 0)) || logs+=", fake-intercom.log"
  ((USE_RECEIVER == 0)) || logs+=", agent-receiver.log"
  echo "Logs: $LOG_DIR/ ($logs)"
  if ((NO_RELOAD)); then
    echo "Code changes do not reload the functions (--no-reload). Ctrl-C stops everything. Function logs follow."
  else
    echo "Code changes reload the functions. Ctrl-C stops everything. Function logs follow."
  fi
  echo
} >&2

tail_files=("$WATCH_LOG" "$POLLER_LOG")
((IAM == 0)) || tail_files+=("$IAM_LOG")
((USE_RECEIVER == 0)) || tail_files+=("$AGENT_LOG")
tail -n 0 -q -F "${tail_files[@]}" 2>/dev/null &
TAIL_PID=$!
# `wait` (unlike a foreground command) lets the INT/TERM traps run as soon as a signal arrives.
while kill -0 "$watch_pid" 2>/dev/null && kill -0 "$moto_pid" 2>/dev/null && kill -0 "$poller_pid" 2>/dev/null && { ((USE_FAKE == 0)) || kill -0 "$fake_pid" 2>/dev/null; } &&
  { ((USE_RECEIVER == 0)) || kill -0 "$agent_pid" 2>/dev/null; }; do
  sleep 1 &
  wait $! || true
done
tail_log "$WATCH_LOG"
((USE_FAKE == 0)) || tail_log "$FAKE_LOG"
die "a background process stopped unexpectedly (logs: $LOG_DIR)"
