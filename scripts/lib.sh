# shellcheck shell=bash
# Shared helpers for scripts/run-local.sh, scripts/test-mcp.sh, scripts/bench.sh and scripts/check-template.sh.
# Source it after `set -euo pipefail`; it defines ROOT (the repository root) and cd's nowhere.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# The Lambda functions of this repository: one workspace package (and binary) each.
FUNCTIONS=(
  create-conversation
  reply-to-conversation
  update-user-attributes
  get-conversation
  find-conversations
  tag-conversation
  assign-conversation
  manage-conversation
  escalate
  intercom-webhook
  mcp
  relay-to-agent
  connect-workspace
)
# The agent actions, each behind its own function URL (the webhook receiver, the MCP server and the queue
# consumer are not).
# shellcheck disable=SC2034 # used by the scripts that source this file
AGENT_ACTIONS=("${FUNCTIONS[@]:0:9}")
# Invoked by an SQS event source mapping (locally: scripts/sqs-poller.py), not over HTTP.
# shellcheck disable=SC2034 # used by the scripts that source this file
QUEUE_CONSUMERS=(relay-to-agent)

# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
if [[ -t 2 ]]; then
  _C_RED=$'\033[31m' _C_YEL=$'\033[33m' _C_DIM=$'\033[2m' _C_OFF=$'\033[0m'
else
  _C_RED='' _C_YEL='' _C_DIM='' _C_OFF=''
fi
SCRIPT_NAME="$(basename "${0:-script}")"

log() { printf '%s[%s]%s %s\n' "$_C_DIM" "$SCRIPT_NAME" "$_C_OFF" "$*" >&2; }
warn() { printf '%s[%s] warning:%s %s\n' "$_C_YEL" "$SCRIPT_NAME" "$_C_OFF" "$*" >&2; }
die() {
  printf '%s[%s] error:%s %s\n' "$_C_RED" "$SCRIPT_NAME" "$_C_OFF" "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
require_cmd() { # require_cmd CMD HINT
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not installed. $2"
}

# Directory pip installs console scripts into for `pip install --user`.
_user_bin_dir() { python3 -c 'import site, os; print(os.path.join(site.getuserbase(), "bin"))'; }

# Make pip-installed tools (the interpreter's scripts dir, user site, the repo-local venv) visible.
_extend_path_for_pip() {
  local d scripts
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
  scripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)"
  for d in "$ROOT/.local/venv/bin" "$(_user_bin_dir 2>/dev/null || true)" "$scripts"; do
    if [[ -n "$d" && -d "$d" && ":$PATH:" != *":$d:"* ]]; then PATH="$d:$PATH"; fi
  done
  export PATH
}

# pip_install PKG... — into the active/pyenv python if pip may write there, else a repo-local
# venv (.local/venv, git-ignored), else the user site (Debian's externally-managed python).
pip_install() {
  require_cmd python3 "Install Python 3 (apt-get install -y python3 python3-pip python3-venv)."
  log "installing with pip: $*"
  if [[ -x "$ROOT/.local/venv/bin/python" ]]; then
    "$ROOT/.local/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" && { _extend_path_for_pip; return 0; }
  fi
  if python3 -m pip install --quiet --disable-pip-version-check "$@" 2>/dev/null; then
    hash -r
    _extend_path_for_pip
    return 0
  fi
  if python3 -m venv "$ROOT/.local/venv" >/dev/null 2>&1; then
    "$ROOT/.local/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" && { _extend_path_for_pip; return 0; }
  fi
  python3 -m pip install --quiet --disable-pip-version-check --user "$@" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages "$@" ||
    die "pip could not install $*; install it by hand (pip install $*)"
  _extend_path_for_pip
}

# ensure_cargo_lambda — cargo-lambda (from PyPI, like scripts/setup.sh) if it is missing.
ensure_cargo_lambda() {
  require_cmd cargo "Install Rust with rustup: https://rustup.rs"
  _extend_path_for_pip
  if ! command -v cargo-lambda >/dev/null 2>&1; then
    pip_install "cargo-lambda==${CARGO_LAMBDA_VERSION:-1.9.2}"
    command -v cargo-lambda >/dev/null 2>&1 || die "cargo-lambda was installed but is not on PATH ($PATH)"
  fi
}

# ensure_moto — moto's local AWS server (moto[server] from PyPI, like scripts/setup.sh) if it is missing.
ensure_moto() {
  _extend_path_for_pip
  if ! command -v moto_server >/dev/null 2>&1; then
    pip_install "moto[server]==${MOTO_VERSION:-5.2.1}"
    command -v moto_server >/dev/null 2>&1 || die "moto was installed but moto_server is not on PATH ($PATH)"
  fi
}

# moto_python — the Python that runs moto_server (its venv's or pyenv's), which has boto3 and PyYAML.
moto_python() {
  local dir
  dir="$(dirname "$(command -v moto_server)")"
  if [[ -x "$dir/python3" ]]; then echo "$dir/python3"; else echo python3; fi
}

# ensure_zig — Zig, which cargo-lambda links cross builds (--arm64) with; from PyPI if missing.
ensure_zig() {
  _extend_path_for_pip
  if ! command -v zig >/dev/null 2>&1 && ! python3 -m ziglang version >/dev/null 2>&1; then
    pip_install "ziglang==${ZIGLANG_VERSION:-0.17.1}"
  fi
}

# ensure_rust_target TRIPLE — rustup target add, if rustup manages this toolchain.
ensure_rust_target() {
  if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed 2>/dev/null | grep -qx "$1"; then
    log "adding Rust target $1"
    rustup target add "$1" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Ports and HTTP
# ---------------------------------------------------------------------------------------------
port_in_use() { # port_in_use PORT — true when something listens on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Who listens on PORT (best effort, for error messages).
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1
  fi
}

require_free_port() { # require_free_port PORT WHAT ENVVAR
  if port_in_use "$1"; then
    local who
    who="$(port_owner "$1")"
    die "port $1 (for $2) is already in use${who:+ by $who}. Stop it, or pick another port with $3=<port>."
  fi
}

# free_port — a TCP port nothing listens on at 127.0.0.1 (now).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port PORT TIMEOUT_S [PID] — until something listens; fails early if PID dies.
wait_for_port() {
  local port=$1 timeout=$2 pid=${3:-} deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    port_in_use "$port" && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
  warn "nothing listens on port $port after ${timeout}s"
  return 1
}

# wait_for_log_line FILE REGEX TIMEOUT_S [PID] — until FILE has a line matching REGEX.
wait_for_log_line() {
  local file=$1 re=$2 deadline=$((SECONDS + $3)) pid=${4:-}
  while ((SECONDS < deadline)); do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# Background processes: each runs in its own session/process group so that stopping it also
# stops everything it spawned (cargo -> rustc, cargo lambda watch -> function processes).
# ---------------------------------------------------------------------------------------------
BG_PIDS=()

# start_bg LOGFILE CMD [ARGS...] — sets BG_PID. Without job control, setsid execs in place, so
# the pid of the background job is also the id of its new process group.
start_bg() {
  local logfile=$1
  shift
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# start_fake_intercom BINARY PORT LOGFILE TIMEOUT_S [ARG...] — starts the fake Intercom seeded with the
# demo workspace (ARGs passed on, e.g. --webhook-url URL --webhook-secret S) and waits until it listens;
# sets BG_PID, dies with its log if it does not start.
start_fake_intercom() {
  local bin=$1 port=$2 logfile=$3 timeout=$4
  shift 4
  log "starting the fake Intercom on 127.0.0.1:$port"
  start_bg "$logfile" "$bin" --port "$port" --seed demo "$@"
  if ! wait_for_log_line "$logfile" "fake-intercom listening on http://" "$timeout" "$BG_PID"; then
    tail_log "$logfile"
    die "the fake Intercom did not start (log: $logfile)"
  fi
}

# start_moto PORT LOGFILE TIMEOUT_S TABLE [IAM_LOG] — starts moto_server (a local DynamoDB, among others) on
# 127.0.0.1:PORT and creates TABLE in it from template.yaml's IdempotencyTable (scripts/create-table.py);
# sets BG_PID, dies with its log if either fails. IAM checks stay off until scripts/local-stack.py turns them on;
# with IAM_LOG, moto appends every request it refuses to that file (scripts/moto-server.py --iam-log).
start_moto() {
  local port=$1 logfile=$2 timeout=$3 table=$4 iam_log=${5:-} pid
  local -a args=(-H 127.0.0.1 -p "$port")
  [[ -z "$iam_log" ]] || args+=(--iam-log "$iam_log")
  log "starting moto (local DynamoDB) on 127.0.0.1:$port"
  # One request at a time, as DynamoDB applies one item's writes (moto's own server races them).
  start_bg "$logfile" "$(moto_python)" "$ROOT/scripts/moto-server.py" "${args[@]}"
  pid=$BG_PID
  if ! wait_for_port "$port" "$timeout" "$pid"; then
    tail_log "$logfile"
    die "moto did not start (log: $logfile)"
  fi
  "$(moto_python)" "$ROOT/scripts/create-table.py" --endpoint-url "http://127.0.0.1:$port" --table "$table" ||
    die "could not create the table $table in moto from template.yaml (log: $logfile)"
  BG_PID=$pid
}

# ---------------------------------------------------------------------------------------------
# The functions as template.yaml deploys them (scripts/local-stack.py, scripts/lambda-runner.sh)
# ---------------------------------------------------------------------------------------------

# ensure_local_stack_python — scripts/local-stack.py runs on moto's Python and needs samtranslator there (it ships
# with aws-sam-cli, which scripts/setup.sh installs with the same pip as moto).
ensure_local_stack_python() {
  "$(moto_python)" -c 'import samtranslator, boto3, yaml' 2>/dev/null ||
    die "scripts/local-stack.py needs samtranslator (part of aws-sam-cli), boto3 and PyYAML in moto's Python ($(moto_python)); install them there: $(moto_python) -m pip install aws-sam-cli"
}

# local_stack ARG... — scripts/local-stack.py on moto's Python (setup: each function's environment and role;
# report: the requests moto refused).
local_stack() { "$(moto_python)" "$ROOT/scripts/local-stack.py" "$@"; }

# cargo_runner_var — the variable that gives `cargo run` a runner on this machine: CARGO_TARGET_<HOST TRIPLE>_RUNNER.
cargo_runner_var() {
  local host
  host="$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')"
  [[ -n "$host" ]] || die "could not read the host target from 'rustc -vV'"
  host="${host^^}"
  echo "CARGO_TARGET_${host//[-.]/_}_RUNNER"
}

# start_watch LOGFILE ENV_DIR [ARG...] — `cargo lambda watch ARG...` in the background (sets BG_PID). cargo runs each
# function through scripts/lambda-runner.sh, which gives it ENV_DIR/<function>.env (written by local-stack.py setup):
# cargo lambda watch itself gives every function the same environment. Its own log level is EMULATOR_RUST_LOG (unset
# by default: at info it prints its whole configuration).
start_watch() {
  local logfile=$1 env_dir=$2
  shift 2
  local -a vars=("$(cargo_runner_var)=$ROOT/scripts/lambda-runner.sh" "LOCAL_STACK_ENV_DIR=$env_dir")
  [[ -z "${EMULATOR_RUST_LOG:-}" ]] || vars+=("RUST_LOG=$EMULATOR_RUST_LOG")
  start_bg "$logfile" env "${vars[@]}" cargo lambda watch "$@"
}

# mask SECRET — its first 4 characters and an ellipsis (only the ellipsis for one under 12 characters): enough to
# tell two keys apart, never the key.
mask() { if ((${#1} >= 12)); then printf '%s…' "${1:0:4}"; else printf '…'; fi; }

# is_alive PID — running (a zombie waiting to be reaped does not count).
is_alive() {
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$stat" && "$stat" != Z* ]]
}

# descendants PID — every process below PID (children first-seen order), one pid a line.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

# kill_tree PID [GRACE_S] — TERM the process group led by PID and every descendant of PID (cargo
# lambda watch starts each function in a session of its own, so the group alone is not enough);
# after GRACE_S seconds KILL whatever is left.
kill_tree() {
  local pid=$1 grace=${2:-5} i alive p
  local -a pids
  mapfile -t pids < <(descendants "$pid")
  pids=("$pid" "${pids[@]}")
  kill -TERM -- "-$pid" 2>/dev/null || true
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    alive=0
    for p in "${pids[@]}"; do
      if is_alive "$p"; then alive=1 && break; fi
    done
    ((alive)) || break
    sleep 0.1
  done
  if ((alive)); then
    kill -KILL -- "-$pid" 2>/dev/null || true
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# stop_all_bg — stop every start_bg'd group, newest first.
stop_all_bg() {
  local i
  for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do
    kill_tree "${BG_PIDS[i]}"
  done
  BG_PIDS=()
}

# Stops everything start_bg started when the script ends (done, failed, Ctrl-C or TERM), keeping its exit code.
stop_bg_on_exit() {
  trap _stop_bg_and_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
# shellcheck disable=SC2317 # called by the traps
_stop_bg_and_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if ((${#BG_PIDS[@]})); then stop_all_bg; fi
  exit "$rc"
}

# cargo_target_dir — where cargo puts build output for this workspace (honours CARGO_TARGET_DIR
# and .cargo/config.toml).
cargo_target_dir() {
  (cd "$ROOT" && cargo metadata --no-deps --format-version 1 2>/dev/null) |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

# tail_log FILE [N] — the last lines of a log, indented, for error messages.
tail_log() {
  [[ -f "$1" ]] || return 0
  tail -n "${2:-30}" "$1" | sed 's/^/    /' >&2
}
