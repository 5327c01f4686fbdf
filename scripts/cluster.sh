#!/usr/bin/env bash
# A real Redis Cluster on loopback, made with `redis-server --cluster-enabled yes` and
# `redis-cli --cluster create`.
#
#   scripts/cluster.sh start  [--primaries 3] [--replicas 1] [--base-port 7100] [--dir DIR] [--node-timeout MS]
#   scripts/cluster.sh stop   [--base-port 7100] [--dir DIR]
#   scripts/cluster.sh status [--base-port 7100] [--dir DIR]
#
# start   starts primaries x (1 + replicas) nodes on BASE-PORT, BASE-PORT+1, ... (no
#         persistence), joins them with redis-cli --cluster create, and waits until every
#         node reports cluster_state:ok. Refuses to start when a port is already in use.
# stop    stops the nodes this script started (the pids in DIR/*.pid, nothing else) and
#         removes DIR.
# status  prints CLUSTER NODES of the first node and cluster_state of each.
#
# DIR defaults to <repo>/.seckill-run/cluster-BASE-PORT. Exit status: 0 on success,
# 1 on failure (one line on standard error), 2 on bad usage.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

COMMAND=""
PRIMARIES=3
REPLICAS=1
BASE_PORT=7100
DIR=""
NODE_TIMEOUT=2000

usage() {
    printf 'usage: %s start|stop|status [--primaries N] [--replicas N] [--base-port P] [--dir DIR] [--node-timeout MS]\n' "${0##*/}"
}

need_number() {
    [[ "$2" =~ ^[0-9]+$ ]] || { log_error "$1 must be a whole number, got '$2'"; usage >&2; exit 2; }
}

while (($# > 0)); do
    case "$1" in
        start | stop | status) COMMAND="$1" ;;
        --primaries | --replicas | --base-port | --dir | --node-timeout)
            (($# >= 2)) || { log_error "$1 needs a value"; usage >&2; exit 2; }
            case "$1" in
                --primaries) need_number "$1" "$2"; PRIMARIES="$2" ;;
                --replicas) need_number "$1" "$2"; REPLICAS="$2" ;;
                --base-port) need_number "$1" "$2"; BASE_PORT="$2" ;;
                --node-timeout) need_number "$1" "$2"; NODE_TIMEOUT="$2" ;;
                --dir) DIR="$2" ;;
            esac
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) log_error "unknown argument $1"; usage >&2; exit 2 ;;
    esac
    shift
done
[[ -n "$COMMAND" ]] || { usage >&2; exit 2; }
((PRIMARIES >= 3)) || die "a Redis Cluster needs at least 3 primaries, got $PRIMARIES"
COUNT=$((PRIMARIES * (1 + REPLICAS)))
((BASE_PORT >= 1 && BASE_PORT + COUNT + 10000 <= 65535)) \
    || die "--base-port $BASE_PORT leaves no room for $COUNT nodes and their cluster bus ports (port + 10000)"
ROOT="$(seckill_root)"
DIR="${DIR:-$ROOT/.seckill-run/cluster-$BASE_PORT}"

ports() {
    local i
    for ((i = 0; i < COUNT; i++)); do printf '%s\n' $((BASE_PORT + i)); done
}

stop_cluster() {
    local pidfiles=()
    [[ -d "$DIR" ]] || { log_info "no cluster started from $DIR"; return 0; }
    # Only the servers this script started: the pid files in DIR, one per node.
    pidfiles=("$DIR"/*.pid)
    [[ -e "${pidfiles[0]}" ]] || pidfiles=()
    if ((${#pidfiles[@]} > 0)); then
        redis_stop "${pidfiles[@]}" || die "some cluster nodes would not stop; their pid files are still in $DIR"
    fi
    rm -rf -- "$DIR"
    log_info "stopped the cluster nodes started from $DIR (${#pidfiles[@]} pid files)"
}

start_cluster() {
    ensure_redis
    local port
    for port in $(ports); do
        if redis_alive 127.0.0.1 "$port"; then
            die "port $port is already in use: stop that server or pick another --base-port"
        fi
    done
    mkdir -p "$DIR"
    for port in $(ports); do
        redis_start "$DIR" "$port" 127.0.0.1 "$port" --cluster-enabled yes \
            --cluster-config-file "$DIR/$port/nodes.conf" --cluster-node-timeout "$NODE_TIMEOUT" \
            --protected-mode no \
            || { stop_cluster; die "redis-server on port $port did not start (the last line of its log is above); the nodes started so far are stopped"; }
    done
    local addresses=()
    for port in $(ports); do addresses+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${addresses[@]}" --cluster-replicas "$REPLICAS" --cluster-yes >"$DIR/create.log" 2>&1 \
        || {
            log_error "redis-cli --cluster create failed: $(tail -n 3 "$DIR/create.log" | tr '\n' ' ')"
            stop_cluster
            die "the cluster was not created; its nodes are stopped"
        }
    local deadline=$((SECONDS + 30)) ok
    while :; do
        ok=0
        for port in $(ports); do
            if redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then ok=$((ok + 1)); fi
        done
        ((ok == COUNT)) && break
        ((SECONDS < deadline)) || { stop_cluster; die "cluster_state did not become ok on every node within 30 s"; }
        sleep 0.2
    done
    log_info "cluster of $PRIMARIES primaries x $REPLICAS replicas ready on 127.0.0.1:$BASE_PORT-$((BASE_PORT + COUNT - 1))"
}

status_cluster() {
    local port state down=0
    redis-cli -p "$BASE_PORT" cluster nodes 2>/dev/null || true
    for port in $(ports); do
        state="$(redis-cli -p "$port" cluster info 2>/dev/null | tr -d '\r' | grep '^cluster_state:' || true)"
        printf '127.0.0.1:%s %s\n' "$port" "${state:-down}"
        [[ "$state" == "cluster_state:ok" ]] || down=1
    done
    return $((down * 3))
}

case "$COMMAND" in
    start) start_cluster ;;
    stop) stop_cluster ;;
    status) status_cluster ;;
esac
