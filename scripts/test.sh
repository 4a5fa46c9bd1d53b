#!/usr/bin/env bash
# Runs every test: unit and handler tests, end-to-end tests against the fake Intercom, contract tests through
# Prism (on the subset of Intercom's OpenAPI spec committed in tests/contract/), Secrets Manager and DynamoDB
# tests on moto, the SAM template checks, and a smoke run of the local stack. The shared crate's module graph is
# checked for cycles and long functions before anything is built (pure Python).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh

echo "== contract subset up to date"
scripts/check-contract.sh

echo "== shared/src: no module cycle, no function over 80 lines (and the check's own test)"
python3 scripts/check-modules-test.py
python3 scripts/check-modules.py

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked --no-fail-fast

echo "== template checks"
scripts/check-template.sh

echo "== MCP endpoint with the official MCP Python SDK (and the MCP Inspector CLI)"
scripts/test-mcp.sh

echo "== local stack smoke test"
# Several containers per function, so the smoke test races same-session escalations across them.
scripts/run-local.sh --check --concurrency 4

echo "== local stack smoke test, hub mode (two workspaces connected to one deployment)"
TENANCY=hub scripts/run-local.sh --check

echo "== the local stack's IAM check bites (a permission taken out of a template copy fails the smoke test)"
scripts/test-iam-bites.sh

echo "== agent API against its OpenAPI document (Schemathesis)"
scripts/test-schema.sh

echo "== n8n, for real: the importable workflow receives our relay and calls our tools (scripts/test-n8n.sh)"
scripts/test-n8n.sh
