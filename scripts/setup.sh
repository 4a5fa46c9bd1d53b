#!/usr/bin/env bash
# Installs what the tests and the local stack need, on a fresh machine (idempotent: skips what is there).
#   Prism (npm, pinned in package-lock.json) - the contract judge for every Intercom request
#   moto[server] (PyPI)                      - a local AWS Secrets Manager
#   cargo-lambda + ziglang (PyPI)            - local function URLs, Lambda builds
#   cfn-lint + aws-sam-cli (PyPI)            - template checks and `sam build`
#   mcp + jsonschema + pytest (PyPI)         - the official MCP client, for the MCP endpoint's test
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_pip=()
command -v moto_server >/dev/null 2>&1 || need_pip+=("moto[server]==5.2.1")
command -v cargo-lambda >/dev/null 2>&1 || need_pip+=("cargo-lambda==1.9.2" "ziglang==0.17.1")
command -v cfn-lint >/dev/null 2>&1 || need_pip+=("cfn-lint==1.58.0")
command -v sam >/dev/null 2>&1 || need_pip+=("aws-sam-cli==1.170.0")
# The official MCP Python SDK (a client nobody here wrote) and what its test uses.
python3 -c 'import mcp, jsonschema, pytest, anyio' >/dev/null 2>&1 || need_pip+=("mcp==2.3.0" "jsonschema==4.26.0" "pytest==9.2.0")
command -v schemathesis >/dev/null 2>&1 || need_pip+=("schemathesis==4.32.5")
if ((${#need_pip[@]})); then
  echo "setup: pip install ${need_pip[*]}"
  python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
fi
# pip may install console scripts where the shell does not look yet (pyenv shims, ~/.local/bin).
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true

if [ ! -x node_modules/.bin/prism ]; then
  echo "setup: npm ci (Prism)"
  npm ci --no-audit --no-fund --loglevel=error
fi

for tool in moto_server cargo-lambda cfn-lint sam; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup: $tool is still not on PATH after installing it" >&2; exit 1; }
done
echo "setup: tools ready"
