#!/usr/bin/env bash
# The doctor: what is wrong with a deployment or the local stack, in plain words, and what to do (it only reads).
#
#   scripts/doctor.sh --local                     the stack scripts/run-local.sh runs (its ports and moto, as it
#                                                 recorded them under .local/run-local/; the environment wins)
#   scripts/doctor.sh --stack NAME [--region R]   a deployed stack (its outputs; your AWS credentials, or
#                                                 HUB_ADMIN_KEY with AgentAuth=API_KEY)
#
# Exit 0 when all is well; 1 with one "PROBLEM: ... → what to do" line per problem; 2 when it cannot run.
# See scripts/doctor.py for every check.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# moto's Python has boto3 (the queues are read with it).
exec "$(moto_python)" "$ROOT/scripts/doctor.py" "$@"
