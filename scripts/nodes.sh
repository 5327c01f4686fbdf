#!/usr/bin/env bash
# Runs the Redis nodes of a cluster.json on this machine, for trying the CLI by hand.
#
#   scripts/nodes.sh start  [--config FILE] [--dir DIR]
#   scripts/nodes.sh stop   [--config FILE] [--dir DIR]
#   scripts/nodes.sh status [--config FILE] [--dir DIR]
#
# --config  the cluster config (default: cluster.json at the repository root).
# --dir     where pid files, logs and data go (default: <repo>/.seckill-run/nodes).
#
# start   starts one redis-server per node (only loopback hosts: 127.0.0.1, localhost,
#         ::1), without persistence; nodes that already answer PING are left alone. When
#         the config's auth.passwordEnv names a variable that is set, the nodes require
#         that password. Waits until every node answers (10 s at most).
# stop    stops only the nodes this script started (recorded in DIR/started).
# status  prints every node as up or down; exits 0 when all are up, 3 when some are down.
#
# Exit status: 0 on success, 1 on failure (one line on standard error), 2 on bad usage.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT=10
STOP_TIMEOUT=5

usage() {
    printf 'usage: %s start|stop|status [--config FILE] [--dir DIR]\n' "${0##*/}"
}

usage_error() {
    log_error "$*"
    usage >&2
    exit 2
}

# ---- Arguments ---------------------------------------------------------------------------

COMMAND=""
CONFIG=""
DIR=""
while (($# > 0)); do
    case "$1" in
        start | stop | status)
            [[ -z "$COMMAND" ]] || usage_error "more than one command: $COMMAND and $1"
            COMMAND="$1"
            ;;
        --config | --dir)
            if (($# < 2)) || [[ -z "$2" ]]; then
                usage_error "$1 needs a value"
            fi
            if [[ "$1" == --config ]]; then CONFIG="$2"; else DIR="$2"; fi
            shift
            ;;
        --config=*) CONFIG="${1#*=}" ;;
        --dir=*) DIR="${1#*=}" ;;
        -h | --help | help)
            usage
            exit 0
            ;;
        *) usage_error "unknown argument: $1" ;;
    esac
    shift
done
[[ -n "$COMMAND" ]] || usage_error "no command given"

CONFIG="${CONFIG:-$SECKILL_ROOT/cluster.json}"
DIR="${DIR:-$SECKILL_ROOT/.seckill-run/nodes}"
# Absolute paths: redis-server changes its working directory to --dir.
[[ "$CONFIG" == /* ]] || CONFIG="$PWD/$CONFIG"
[[ "$DIR" == /* ]] || DIR="$PWD/$DIR"
STARTED_FILE="$DIR/started"

# ---- The config --------------------------------------------------------------------------

# Prints the config as lines of fields separated by \x1f (not a tab: bash's read would
# merge empty fields): "auth USERNAME PASSWORD_ENV" (once, fields
# empty without auth), then "node NAME HOST PORT" for each node. Validates what this
# script relies on; the full validation is the seckill library's.
read -r -d '' PARSE_CONFIG <<'PYTHON' || true
import json, re, sys

path = sys.argv[1]

def fail(message):
    sys.stderr.write("%s: %s\n" % (path, message))
    sys.exit(2)

try:
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
except FileNotFoundError:
    fail("file not found")
except IsADirectoryError:
    fail("is a directory, not a JSON file")
except PermissionError:
    fail("cannot be read (permission denied)")
except UnicodeDecodeError as error:
    fail("is not UTF-8 text (%s)" % error.reason)
except json.JSONDecodeError as error:
    fail("invalid JSON at line %d column %d: %s" % (error.lineno, error.colno, error.msg))

if not isinstance(config, dict):
    fail("the top level must be an object with a \"nodes\" array")
nodes = config.get("nodes")
if not isinstance(nodes, list) or not nodes:
    fail("\"nodes\" must be a non-empty array")

auth = config.get("auth")
username, password_env = "", ""
if auth is not None:
    if not isinstance(auth, dict):
        fail("\"auth\" must be an object")
    username = auth.get("username") or ""
    password_env = auth.get("passwordEnv") or ""
    if not isinstance(username, str) or re.search(r"\s", username):
        fail("auth.username must be a string without spaces")
    if not isinstance(password_env, str) or (password_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", password_env)):
        fail("auth.passwordEnv must be the name of an environment variable")
SEP = "\x1f"
lines = [SEP.join(["auth", username, password_env])]

names, ports = {}, {}
for index, node in enumerate(nodes):
    where = "nodes[%d]" % index
    if not isinstance(node, dict):
        fail("%s must be an object" % where)
    name = node.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        fail("%s: \"name\" must be a string of letters, digits, '.', '_' or '-'" % where)
    where = "node %s" % name
    if name in names:
        fail("%s: the name is used twice" % where)
    host = node.get("host")
    if not isinstance(host, str) or not host or re.search(r"\s", host):
        fail("%s: \"host\" must be a non-empty string" % where)
    port = node.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        fail("%s: \"port\" must be an integer from 1 to 65535" % where)
    if port in ports:
        fail("%s: port %d is also node %s's" % (where, port, ports[port]))
    names[name] = True
    ports[port] = name
    lines.append(SEP.join(["node", name, host, str(port)]))

print("\n".join(lines))
PYTHON

NODE_NAMES=()
declare -A NODE_HOST=() NODE_PORT=()
AUTH_USER=""
AUTH_ENV=""

# Reads the config into NODE_NAMES, NODE_HOST, NODE_PORT, AUTH_USER and AUTH_ENV; on an
# error, exits with a one-line message (or, given "soft", warns and returns 1).
load_config() {
    local mode="${1:-}" output kind a b c
    ensure_python3 || exit 1
    if ! output="$(python3 -c "$PARSE_CONFIG" "$CONFIG" 2>&1)"; then
        output="${output//$'\n'/ }"
        if [[ "$mode" == soft ]]; then
            log_warn "bad cluster config, going on without it: $output"
            return 1
        fi
        die "bad cluster config: $output"
    fi
    while IFS=$'\x1f' read -r kind a b c; do
        case "$kind" in
            auth)
                AUTH_USER="$a"
                AUTH_ENV="$b"
                ;;
            node)
                NODE_NAMES+=("$a")
                NODE_HOST["$a"]="$b"
                NODE_PORT["$a"]="$c"
                ;;
        esac
    done <<<"$output"
}

# Fails naming the first node whose host is not a loopback address.
require_loopback() {
    local name
    for name in "${NODE_NAMES[@]}"; do
        case "${NODE_HOST[$name]}" in
            127.0.0.1 | localhost | ::1) ;;
            *) die "node $name: host ${NODE_HOST[$name]} is not a loopback address (127.0.0.1, localhost or ::1); nodes.sh only runs nodes on this machine" ;;
        esac
    done
}

# The address redis-cli connects to, and the addresses redis-server binds, for a host.
connect_host() {
    case "$1" in
        localhost) printf '127.0.0.1\n' ;;
        *) printf '%s\n' "$1" ;;
    esac
}

bind_addresses() {
    case "$1" in
        localhost) printf '127.0.0.1 -::1\n' ;; # -: bind ::1 too when the machine has IPv6
        *) printf '%s\n' "$1" ;;
    esac
}

# The password from auth.passwordEnv ("" when there is none); exports it as REDISCLI_AUTH so
# every redis-cli call authenticates, and the user name for `redis-cli --user`.
PASSWORD=""
CLI_USER=()
load_password() {
    local warn="${1:-}"
    [[ -n "$AUTH_ENV" ]] || return 0
    PASSWORD="${!AUTH_ENV:-}"
    if [[ -z "$PASSWORD" ]]; then
        if [[ -n "$warn" ]]; then
            log_warn "auth.passwordEnv names $AUTH_ENV, which is not set: the nodes start without a password"
        fi
        return 0
    fi
    export REDISCLI_AUTH="$PASSWORD"
    if [[ -n "$AUTH_USER" && "$AUTH_USER" != default ]]; then
        CLI_USER=(--user "$AUTH_USER")
    fi
}

cli() {
    local host="$1" port="$2"
    shift 2
    timeout 5 redis-cli "${CLI_USER[@]}" -h "$(connect_host "$host")" -p "$port" "$@" 2>/dev/null
}

# True when a server answers PING on the node's address.
node_alive() {
    redis_alive "$(connect_host "$1")" "$2"
}

# True when something (Redis or not) accepts connections on HOST:PORT.
port_open() {
    local host
    host="$(connect_host "$1")"
    (exec 3<>"/dev/tcp/$host/$2") 2>/dev/null
}

# ---- Records of the nodes this script started ----------------------------------------------

declare -A REC_HOST=() REC_PORT=() REC_PID=()
REC_NAMES=()

read_records() {
    local name host port pid
    [[ -f "$STARTED_FILE" ]] || return 0
    while read -r name host port pid; do
        [[ -n "${name:-}" && -n "${pid:-}" ]] || continue
        if [[ -z "${REC_PID[$name]:-}" ]]; then
            REC_NAMES+=("$name")
        fi
        REC_HOST["$name"]="$host"
        REC_PORT["$name"]="$port"
        REC_PID["$name"]="$pid"
    done <"$STARTED_FILE"
}

write_records() {
    local name tmp
    tmp="$STARTED_FILE.tmp.$$"
    : >"$tmp"
    for name in "${REC_NAMES[@]}"; do
        [[ -n "${REC_PID[$name]:-}" ]] || continue
        printf '%s %s %s %s\n' "$name" "${REC_HOST[$name]}" "${REC_PORT[$name]}" "${REC_PID[$name]}" >>"$tmp"
    done
    if [[ -s "$tmp" ]]; then
        mv -f -- "$tmp" "$STARTED_FILE"
    else
        rm -f -- "$tmp" "$STARTED_FILE"
    fi
}

# True when the node NAME was started by this script and that server still runs.
recorded_and_running() {
    local name="$1"
    [[ -n "${REC_PID[$name]:-}" ]] && pid_is_redis_server "${REC_PID[$name]}"
}

forget() {
    REC_PID["$1"]=""
}

# One run at a time per state directory.
lock_dir() {
    mkdir -p -- "$DIR" || die "cannot create $DIR"
    exec 9>"$DIR/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 30 9 || die "another nodes.sh is using $DIR (waited 30 s for $DIR/.lock)"
    fi
}

# ---- Stopping ------------------------------------------------------------------------------

# Stops the recorded server of node NAME: SHUTDOWN NOSAVE when the server on its port is
# that very process, then signals to the pid if it is still running.
stop_node() {
    local name="$1" host="${REC_HOST[$1]}" port="${REC_PORT[$1]}" pid="${REC_PID[$1]}"
    local info server_pid="" i
    info="$(cli "$host" "$port" info server || true)"
    if [[ "$info" =~ process_id:([0-9]+) ]]; then
        server_pid="${BASH_REMATCH[1]}"
    fi
    if [[ "$server_pid" == "$pid" ]]; then
        cli "$host" "$port" shutdown nosave >/dev/null || true
        for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
            pid_is_redis_server "$pid" || break
            sleep 0.1
        done
    fi
    if pid_is_redis_server "$pid"; then
        if [[ "$server_pid" == "$pid" ]]; then
            log_warn "node $name did not stop on SHUTDOWN NOSAVE within ${STOP_TIMEOUT} s"
        else
            log_info "node $name: cannot send SHUTDOWN (not reachable, or a password is needed), using signals"
        fi
        kill_redis_pids "$pid"
    fi
    if pid_is_redis_server "$pid"; then
        log_error "node $name $host:$port (pid $pid) would not stop"
        return 1
    fi
    return 0
}

# ---- Commands ------------------------------------------------------------------------------

cmd_start() {
    load_config
    require_loopback
    ensure_redis || exit 1
    load_password warn
    lock_dir
    read_records

    local name host port pid args to_start=() started_now=() failed=() deadline last
    # First look at every node, so a port taken by something else fails before anything
    # is started.
    for name in "${NODE_NAMES[@]}"; do
        host="${NODE_HOST[$name]}"
        port="${NODE_PORT[$name]}"
        if node_alive "$host" "$port"; then
            if recorded_and_running "$name"; then
                printf '%s %s:%s already running (started earlier by nodes.sh, pid %s)\n' "$name" "$host" "$port" "${REC_PID[$name]}"
            else
                forget "$name"
                printf '%s %s:%s already running, left alone\n' "$name" "$host" "$port"
            fi
            continue
        fi
        forget "$name"
        if port_open "$host" "$port"; then
            write_records
            die "node $name: port $port on $host is in use by something that does not answer Redis PING"
        fi
        to_start+=("$name")
    done

    for name in "${to_start[@]}"; do
        host="${NODE_HOST[$name]}"
        port="${NODE_PORT[$name]}"
        mkdir -p -- "$DIR/$name"
        rm -f -- "$DIR/$name.pid"
        args=(
            --port "$port" --bind "$(bind_addresses "$host")"
            --save "" --appendonly no --daemonize yes
            --pidfile "$DIR/$name.pid" --logfile "$DIR/$name.log" --dir "$DIR/$name"
        )
        if [[ -n "$PASSWORD" ]]; then
            args+=(--requirepass "$PASSWORD")
            if [[ -n "$AUTH_USER" && "$AUTH_USER" != default ]]; then
                args+=(--user "$AUTH_USER" on ">$PASSWORD" "~*" "&*" "+@all")
            fi
        fi
        # Without inherited descriptors: the daemon must hold neither the lock nor a pipe of
        # whoever runs this script.
        if ! (exec_without_fds redis-server "${args[@]}") </dev/null >>"$DIR/$name.log" 2>&1; then
            rollback "${started_now[@]}"
            write_records
            die "node $name: redis-server failed to start on $host:$port; see $DIR/$name.log"
        fi
        started_now+=("$name")
    done

    # Wait (10 s in all) for every node started now to answer.
    deadline=$((SECONDS + START_TIMEOUT))
    for name in "${started_now[@]}"; do
        if ! wait_for_port "$(connect_host "${NODE_HOST[$name]}")" "${NODE_PORT[$name]}" "$((deadline - SECONDS > 0 ? deadline - SECONDS : 0))"; then
            failed+=("$name")
        fi
    done
    if ((${#failed[@]} > 0)); then
        name="${failed[0]}"
        last="$(grep -v '^[[:space:]]*$' "$DIR/$name.log" 2>/dev/null | tail -n 1 || true)"
        rollback "${started_now[@]}"
        write_records
        die "node $name ${NODE_HOST[$name]}:${NODE_PORT[$name]} did not answer PING within ${START_TIMEOUT} s (${#failed[@]} node(s) failed; stopped the ones started now); $DIR/$name.log: ${last:-empty}"
    fi

    for name in "${started_now[@]}"; do
        pid="$(tr -dc '0-9' 2>/dev/null <"$DIR/$name.pid" || true)"
        if [[ -z "$pid" ]] || ! pid_is_redis_server "$pid"; then
            failed+=("$name")
            continue
        fi
        if [[ -z "${REC_HOST[$name]:-}" ]]; then
            REC_NAMES+=("$name")
        fi
        REC_HOST["$name"]="${NODE_HOST[$name]}"
        REC_PORT["$name"]="${NODE_PORT[$name]}"
        REC_PID["$name"]="$pid"
        printf '%s %s:%s started (pid %s, log %s)\n' "$name" "${NODE_HOST[$name]}" "${NODE_PORT[$name]}" "$pid" "$DIR/$name.log"
    done
    write_records
    if ((${#failed[@]} > 0)); then
        die "node ${failed[0]} answers PING but its pid file $DIR/${failed[0]}.pid is missing or not a redis-server's: it cannot be stopped by nodes.sh stop"
    fi
}

# Stops the nodes started by this run of `start` (after a failure).
rollback() {
    local name pid pids=()
    for name in "$@"; do
        pid="$(tr -dc '0-9' 2>/dev/null <"$DIR/$name.pid" || true)"
        if [[ -n "$pid" ]]; then
            pids+=("$pid")
        fi
    done
    if ((${#pids[@]} > 0)); then
        kill_redis_pids "${pids[@]}"
    fi
}

cmd_stop() {
    # The config is needed only for the password; the records say what to stop.
    if [[ -f "$CONFIG" ]] && load_config soft; then
        load_password
    fi
    if [[ ! -d "$DIR" ]]; then
        printf 'no nodes started by nodes.sh (no %s); nothing to stop\n' "$DIR"
        return 0
    fi
    lock_dir
    read_records
    if ((${#REC_NAMES[@]} == 0)); then
        printf 'no nodes started by nodes.sh are recorded in %s; nothing to stop\n' "$STARTED_FILE"
        return 0
    fi
    local name stop_failed=0
    for name in "${REC_NAMES[@]}"; do
        if ! pid_is_redis_server "${REC_PID[$name]}"; then
            printf '%s %s:%s was not running\n' "$name" "${REC_HOST[$name]}" "${REC_PORT[$name]}"
            forget "$name"
        elif stop_node "$name"; then
            printf '%s %s:%s stopped\n' "$name" "${REC_HOST[$name]}" "${REC_PORT[$name]}"
            forget "$name"
        else
            stop_failed=1
        fi
    done
    write_records
    if ((stop_failed)); then
        die "some nodes could not be stopped; they are still listed in $STARTED_FILE"
    fi
}

cmd_status() {
    load_config
    require_loopback
    command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found: run scripts/nodes.sh start (it installs Redis) or apt-get install redis-tools"
    load_password
    read_records
    local name host port up=0 note
    for name in "${NODE_NAMES[@]}"; do
        host="${NODE_HOST[$name]}"
        port="${NODE_PORT[$name]}"
        note=""
        if recorded_and_running "$name" && [[ "${REC_PORT[$name]}" == "$port" ]]; then
            note=" (started by nodes.sh, pid ${REC_PID[$name]})"
        fi
        if node_alive "$host" "$port"; then
            up=$((up + 1))
            printf '%s %s:%s up%s\n' "$name" "$host" "$port" "$note"
        else
            printf '%s %s:%s down\n' "$name" "$host" "$port"
        fi
    done
    printf '%d of %d nodes up\n' "$up" "${#NODE_NAMES[@]}"
    ((up == ${#NODE_NAMES[@]})) || exit 3
}

case "$COMMAND" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
esac
