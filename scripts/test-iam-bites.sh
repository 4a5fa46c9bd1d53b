#!/usr/bin/env bash
# Proves that the local stack's IAM check bites: writes a copy of template.yaml without one permission the smoke test
# needs, runs `scripts/run-local.sh --check` on that copy, and passes only if the smoke test fails naming the
# function and the action moto refused. Run by scripts/test.sh after the smoke test (~25 s: the stack stops at the
# first refusal).
#
#   scripts/test-iam-bites.sh [LOGICAL_ID ACTION]    (default: EscalateFunction dynamodb:PutItem)
#
# PORT, FAKE_PORT, AGENT_PORT and MOTO_PORT are passed to scripts/run-local.sh.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

LOGICAL_ID="${1:-EscalateFunction}"
ACTION="${2:-dynamodb:PutItem}"
DIR="$ROOT/.local/test-iam-bites"
mkdir -p "$DIR"
COPY="$DIR/template-without-${ACTION//:/-}.json"
OUT="$DIR/run-local.log"

ensure_moto
ensure_local_stack_python

# The copy: template.yaml as JSON (a SAM template either way), the action taken out of the function's statements.
BINARY="$("$(moto_python)" - "$ROOT/template.yaml" "$COPY" "$LOGICAL_ID" "$ACTION" <<'PY'
import json, sys
from samtranslator.yaml_helper import yaml_parse

source, copy, logical_id, action = sys.argv[1:]
template = yaml_parse(open(source).read())
function = template["Resources"].get(logical_id) or sys.exit(f"template.yaml has no resource {logical_id}")
removed = 0
for policy in function["Properties"].get("Policies") or []:
    for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
        if "Action" not in statement:
            continue  # a conditional statement (Fn::If, hub mode's): not the one taken out
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if action in actions:
            statement["Action"] = [a for a in actions if a != action]
            removed += 1
if removed != 1:
    sys.exit(f"{logical_id} grants {action} in {removed} statements, not one: pick another permission to remove")
json.dump(template, open(copy, "w"), indent=1)
print(function.get("Metadata", {}).get("BuildProperties", {}).get("Binary", logical_id))
PY
)" || die "could not write the template copy"
log "template copy without $BINARY's $ACTION: $COPY"

log "the smoke test on it must fail, naming $BINARY and $ACTION (log: $OUT)"
rc=0
scripts/run-local.sh --check --template "$COPY" >"$OUT" 2>&1 || rc=$?
if ((rc == 0)); then
  tail_log "$OUT" 20
  die "the smoke test passed though $BINARY lacks $ACTION: the local stack does not enforce the template's permissions"
fi
if ! grep -E "function $BINARY \(role [A-Za-z0-9]+\): $ACTION on " "$OUT" >&2; then
  tail_log "$OUT" 30
  die "the smoke test failed (exit $rc) but did not name $BINARY and $ACTION"
fi
log "ok: without $ACTION, the smoke test fails and names $BINARY and $ACTION"
