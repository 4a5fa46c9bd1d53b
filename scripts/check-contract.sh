#!/usr/bin/env bash
# Checks that tests/contract/ (the parts of Intercom's OpenAPI 2.16 and 2.14 contracts the tests use) is what
# scripts/derive-contract.py makes from Intercom's spec today. Needs the spec: env INTERCOM_OPENAPI_DIR, else
# ../shared/intercom-openapi/ beside the repository; without it the check is skipped (the tests still run on
# the committed copy). Exits non-zero when the committed copy is stale, and says how to regenerate it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

spec_dir="${INTERCOM_OPENAPI_DIR:-$ROOT/../shared/intercom-openapi}"
if [[ ! -d "$spec_dir" ]]; then
  log "skipped: Intercom's spec is not at $spec_dir (set INTERCOM_OPENAPI_DIR); tests use the committed tests/contract/"
  exit 0
fi
_extend_path_for_pip
require_cmd python3 "Install Python 3 (apt-get install -y python3)."
python3 -c 'import yaml' 2>/dev/null || die "PyYAML is needed: pip install pyyaml (cfn-lint, from scripts/setup.sh, brings it)"
python3 scripts/derive-contract.py --check --spec-dir "$spec_dir"
