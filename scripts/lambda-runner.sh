#!/usr/bin/env bash
# cargo's runner for the functions under `cargo lambda watch` (scripts/run-local.sh, scripts/test-mcp.sh set
# CARGO_TARGET_<host>_RUNNER to this file for cargo lambda watch only). cargo lambda watch starts each function with
# `cargo run --bin NAME`, so cargo runs `lambda-runner.sh <target>/debug/NAME`; this exports what
# scripts/local-stack.py wrote for NAME — $LOCAL_STACK_ENV_DIR/NAME.env: the template's environment of that function
# and its role's credentials — over the environment it inherits, and runs the binary in its place.
#
# Why a runner: cargo lambda watch gives every function the same environment (its own, --env-file, --env-var);
# per-function variables exist only as [package.metadata.lambda.bin.NAME.env] in Cargo.toml, static text, which
# cannot carry the credentials of a role assumed at start-up.
set -euo pipefail

binary=${1:?usage: lambda-runner.sh BINARY [ARG...]}
name="$(basename "$binary")"
env_file="${LOCAL_STACK_ENV_DIR:?LOCAL_STACK_ENV_DIR is not set: run the functions with scripts/run-local.sh}/$name.env"
if [[ ! -f "$env_file" ]]; then
  echo "[lambda-runner] error: no environment for '$name' ($env_file): template.yaml has no function whose Binary is $name" >&2
  exit 1
fi
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  export "${line?}"
done <"$env_file"
# What only the runner needs is not the function's.
unset LOCAL_STACK_ENV_DIR
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^CARGO_TARGET_[A-Z0-9_]+_RUNNER$' || true)
exec "$@"
