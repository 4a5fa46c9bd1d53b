#!/usr/bin/env bash
# Lints and validates template.yaml offline: cfn-lint, `sam validate --lint`, `sam validate`, and
# scripts/check-monitoring.py (the dashboard and alarms against the functions and shared/src/metrics.rs).
# Needs no AWS account: a region is set if none is, and dummy credentials are used only if none
# are configured (nothing here calls AWS). Exits non-zero if any check fails.
#
#   scripts/check-template.sh [TEMPLATE]      (default: template.yaml at the repo root)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

template="${1:-template.yaml}"
[[ -f "$template" ]] || die "no template at $template"

_extend_path_for_pip
require_cmd cfn-lint "Install it: pip install cfn-lint (scripts/setup.sh does)."
require_cmd sam "Install it: pip install aws-sam-cli (scripts/setup.sh does)."

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
export SAM_CLI_TELEMETRY=0 SAM_CLI_CONTACT_TRACKING=0 AWS_EC2_METADATA_DISABLED=true
if [[ -z "${AWS_ACCESS_KEY_ID:-}" && -z "${AWS_PROFILE:-}" && ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]]; then
  export AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check
fi

failed=()
run_check() { # run_check NAME CMD...
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    echo "   ok"
  else
    echo "   FAILED: $name" >&2
    failed+=("$name")
  fi
}

run_check "cfn-lint $template" cfn-lint "$template"
run_check "sam validate --lint" sam validate --lint --template-file "$template"
run_check "sam validate" sam validate --template-file "$template"
run_check "dashboard and alarms cover every function and metric" python3 scripts/check-monitoring.py "$template"

if ((${#failed[@]})); then
  die "template checks failed: ${failed[*]}"
fi
echo "template checks passed (cfn-lint, sam validate --lint, sam validate, monitoring)"
