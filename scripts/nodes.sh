#!/usr/bin/env bash
# Runs the Redis nodes of a cluster.json on this machine, for trying the CLI by hand.
#
#   scripts/nodes.sh start  [--config FILE] [--dir DIR]
#   scripts/nodes.sh stop   [--dir DIR]
#   scripts/nodes.sh status [--config FILE] [--dir DIR]
#
# --config  the cluster config (default: cluster.json at the repository root).
# --dir     where pid files, logs and data go (default: <repo>/.seckill-run/nodes).
#
# The nodes are read from `seckill config nodes` (built in release when SECKILL does not
# name an executable), which validates the config; a config in cluster mode has no fixed
# nodes (use scripts/cluster.sh).
#
# start   starts one redis-server per node (only loopback hosts: 127.0.0.1, localhost,
#         ::1), without persistence; nodes that already answer PING are left alone. When
#         the config's auth.passwordEnv names a variable that is set, the nodes require
#         that password. Waits until every node answers (10 s at most each).
# stop    stops the nodes this script started: the pids in DIR/*.pid, nothing else.
# status  prints every node as up or down; exits 0 when all are up, 3 when some are down.
#
# Exit status: 0 on success, 1 on failure (one line on standard error), 2 on bad usage.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

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

# ---- The config --------------------------------------------------------------------------

NODE_NAMES=()
declare -A NODE_HOST=() NODE_PORT=()
AUTH_ENV=""
AUTH_USER=""

# Reads the nodes and the auth settings of the config from seckill into NODE_NAMES,
# NODE_HOST, NODE_PORT, AUTH_ENV and AUTH_USER; exits with seckill's one-line message when
# the config is bad.
load_config() {
    local nodes auth name host port
    build_seckill || exit 1
    nodes="$("$SECKILL" config nodes --config "$CONFIG")" || die "cannot read the nodes of $CONFIG (seckill config nodes failed; see above)"
    auth="$("$SECKILL" config auth --config "$CONFIG")" || die "cannot read the auth settings of $CONFIG"
    while read -r name host port; do
        [[ -n "$name" ]] || continue
        # The name becomes the pid, log and data file names in DIR.
        [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] \
            || die "$CONFIG: node name '$name' cannot be used as a file name here: use letters, digits, '.', '_' and '-'"
        NODE_NAMES+=("$name")
        NODE_HOST["$name"]="$host"
        NODE_PORT["$name"]="$port"
    done <<<"$nodes"
    ((${#NODE_NAMES[@]} > 0)) || die "$CONFIG lists no nodes"
    read -r AUTH_ENV AUTH_USER <<<"$auth" || true
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

# The address redis-cli connects to for a host.
connect_host() {
    case "$1" in
        localhost) printf '127.0.0.1\n' ;;
        *) printf '%s\n' "$1" ;;
    esac
}

# The password from auth.passwordEnv ("" when there is none); exported as REDISCLI_AUTH so
# every redis-cli call (PING included) authenticates.
PASSWORD=""
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

# ---- The nodes this script started: DIR/NAME.pid -------------------------------------------

# Prints the pid of the node NAME when this script started it and it still runs.
started_pid() {
    local pid
    pid="$(redis_pidfile_pid "$DIR/$1.pid" 2>/dev/null)" || return 1
    pid_is_redis_server "$pid" || return 1
    printf '%s\n' "$pid"
}

# One run at a time per state directory.
lock_dir() {
    mkdir -p -- "$DIR" || die "cannot create $DIR"
    exec 9>"$DIR/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 30 9 || die "another nodes.sh is using $DIR (waited 30 s for $DIR/.lock)"
    fi
}

# ---- Commands ------------------------------------------------------------------------------

cmd_start() {
    load_config
    require_loopback
    ensure_redis || exit 1
    load_password warn
    lock_dir

    local name host port pid args to_start=() started_now=()
    # First look at every node, so a port taken by something else fails before anything
    # is started.
    for name in "${NODE_NAMES[@]}"; do
        host="${NODE_HOST[$name]}"
        port="${NODE_PORT[$name]}"
        if node_alive "$host" "$port"; then
            if pid="$(started_pid "$name")"; then
                printf '%s %s:%s already running (started earlier by nodes.sh, pid %s)\n' "$name" "$host" "$port" "$pid"
            else
                printf '%s %s:%s already running, left alone\n' "$name" "$host" "$port"
            fi
            continue
        fi
        if port_open "$host" "$port"; then
            die "node $name: port $port on $host is in use by something that does not answer Redis PING"
        fi
        to_start+=("$name")
    done

    for name in ${to_start[@]+"${to_start[@]}"}; do
        host="${NODE_HOST[$name]}"
        port="${NODE_PORT[$name]}"
        case "$host" in
            localhost) args=(--bind 127.0.0.1 -::1) ;; # -: bind ::1 too when the machine has IPv6
            *) args=(--bind "$host") ;;
        esac
        if [[ -n "$PASSWORD" ]]; then
            args+=(--requirepass "$PASSWORD")
            if [[ -n "$AUTH_USER" && "$AUTH_USER" != default ]]; then
                args+=(--user "$AUTH_USER" on ">$PASSWORD" "~*" "&*" "+@all")
            fi
        fi
        if ! redis_start "$DIR" "$name" "$(connect_host "$host")" "$port" "${args[@]}"; then
            if ((${#started_now[@]} > 0)); then
                log_info "stopping the nodes started now: ${started_now[*]}"
                redis_stop "${started_now[@]/#/$DIR/}" || true
            fi
            die "node $name did not start on $host:$port"
        fi
        # Pid files of the nodes started now, for the rollback above.
        started_now+=("$name.pid")
        printf '%s %s:%s started (pid %s, log %s)\n' "$name" "$host" "$port" "$(started_pid "$name")" "$DIR/$name.log"
    done
}

cmd_stop() {
    local file name pid stopped=0 failed=0
    if [[ ! -d "$DIR" ]]; then
        printf 'no nodes started by nodes.sh (no %s); nothing to stop\n' "$DIR"
        return 0
    fi
    lock_dir
    for file in "$DIR"/*.pid; do
        [[ -f "$file" ]] || continue
        name="${file##*/}"
        name="${name%.pid}"
        if ! pid="$(started_pid "$name")"; then
            printf '%s was not running\n' "$name"
            rm -f -- "$file"
        elif redis_stop "$file"; then
            printf '%s stopped (pid %s)\n' "$name" "$pid"
            stopped=$((stopped + 1))
        else
            failed=1
        fi
    done
    ((failed == 0)) || die "some nodes could not be stopped; their pid files are still in $DIR"
    if ((stopped == 0)); then
        printf 'no running nodes started by nodes.sh in %s; nothing to stop\n' "$DIR"
    fi
}

cmd_status() {
    load_config
    require_loopback
    command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found: run scripts/nodes.sh start (it installs Redis) or apt-get install redis-tools"
    load_password
    local name host port up=0 note pid
    for name in "${NODE_NAMES[@]}"; do
        host="${NODE_HOST[$name]}"
        port="${NODE_PORT[$name]}"
        note=""
        if pid="$(started_pid "$name")"; then
            note=" (started by nodes.sh, pid $pid)"
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
