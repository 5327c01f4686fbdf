#!/usr/bin/env bash
# Benchmarks the purchase path side by side with redis-benchmark, in one run on the same
# nodes and the same purchase script, and prints a table of throughputs and ratios.
#
#   scripts/bench.sh [--requests N] [--quick]
#
# Starts its own nodes (one node, and three nodes) on free loopback ports and stops them at
# the end. Runs:
#   redis-benchmark EVALSHA <purchase script> -c 50 -P 16, and -c 50 without pipelining;
#   seckill bench at concurrency 50, 200 and 1,000 on one node, and 200 on three nodes;
#   the end of a sale (most items sold out) with and without sold-out shedding;
#   10,000 concurrent callers (peak memory, errors).
# --quick runs a few thousand requests per step (what CI does to keep the harness working).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(seckill_root)"
cd "$ROOT"
REQUESTS=300000
QUICK=0
while (($# > 0)); do
    case "$1" in
        --requests) REQUESTS="$2"; shift 2 ;;
        --quick) QUICK=1; REQUESTS=3000; shift ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

ensure_swift
ensure_redis
ensure_python3
log_info "building seckill (release)"
swift build -c release --product seckill >/dev/null
SECKILL="$ROOT/.build/release/seckill"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/seckill-bench.XXXXXX")"
PIDS=()
cleanup() {
    local status=$? pid
    for pid in "${PIDS[@]}"; do
        pid_is_redis_server "$pid" && kill "$pid" 2>/dev/null || true
    done
    sleep 0.2
    for pid in "${PIDS[@]}"; do
        pid_is_redis_server "$pid" && kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf -- "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_node() {
    local port="$1"
    mkdir -p "$WORK/$port"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --protected-mode no \
        --pidfile "$WORK/$port.pid" --logfile "$WORK/$port.log" --dir "$WORK/$port" >/dev/null
    wait_for_port 127.0.0.1 "$port" 10 || die "redis-server on port $port did not start"
    PIDS+=("$(cat "$WORK/$port.pid")")
}

ONE="$(free_port)"; start_node "$ONE"
A="$(free_port)"; start_node "$A"
B="$(free_port)"; start_node "$B"
C="$(free_port)"; start_node "$C"
"$SECKILL" config init --nodes "127.0.0.1:$ONE" --output "$WORK/one.json" >/dev/null
"$SECKILL" config init --nodes "127.0.0.1:$A,127.0.0.1:$B,127.0.0.1:$C" --output "$WORK/three.json" >/dev/null

json_field() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(d$1)"; }

# redis-benchmark runs the coordinator's own purchase script on an item with ample stock;
# each request has a new request id and user, so every call does the full purchase.
SHA="$(redis-cli -p "$ONE" SCRIPT LOAD "$("$SECKILL" scripts purchase)")"
redis-cli -p "$ONE" HSET 'seckill:{rb}' total 1000000000000 sold 0 limit 0 epoch 1 >/dev/null
rb() {
    redis-benchmark -p "$ONE" -n "$1" "${@:2}" -r 1000000000 -q \
        EVALSHA "$SHA" 4 'seckill:{rb}' 'seckill:{rb}:buyers' 'seckill:{rb}:orders' 'seckill:{rb}:req:__rand_int__' \
        'user-__rand_int__' 1 'r-__rand_int__' 86400 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1 \
        | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}
bench() {
    "$SECKILL" bench --json "$@"
}

log_info "redis-benchmark -c 50 -P 16"
RB_P16="$(rb "$REQUESTS" -c 50 -P 16)"
log_info "redis-benchmark -c 50"
RB_C50="$(rb "$((REQUESTS / 3))" -c 50)"

declare -A TP P99 ERR
for conc in 50 200 1000; do
    log_info "seckill bench, one node, concurrency $conc"
    out="$(bench --config "$WORK/one.json" --concurrency "$conc" --requests "$REQUESTS" --items 100)"
    TP[$conc]="$(json_field "['throughput']" <<<"$out")"
    P99[$conc]="$(json_field "['latencyMs']['p99']" <<<"$out")"
    ERR[$conc]="$(json_field "['errors']" <<<"$out")"
done
log_info "seckill bench, three nodes, concurrency 200"
out3="$(bench --config "$WORK/three.json" --concurrency 200 --requests "$REQUESTS" --items 100)"
TP3="$(json_field "['throughput']" <<<"$out3")"

log_info "end of sale (stock 10 per item), with and without shedding"
shed="$(bench --config "$WORK/one.json" --concurrency 200 --requests "$REQUESTS" --items 100 --stock 10 --warmup 0)"
noshed="$(bench --config "$WORK/one.json" --concurrency 200 --requests "$REQUESTS" --items 100 --stock 10 --warmup 0 --no-shedding)"
SHED="$(json_field "['throughput']" <<<"$shed")"
NOSHED="$(json_field "['throughput']" <<<"$noshed")"

log_info "10,000 concurrent callers"
big="$(bench --config "$WORK/one.json" --concurrency 10000 --requests "$((REQUESTS > 20000 ? REQUESTS : 20000))" --items 100)"
BIG_RSS="$(json_field "['peakRSSBytes']" <<<"$big")"
BIG_ERR="$(json_field "['errors']" <<<"$big")"
BIG_SAMPLES="$(json_field "['errorSamples']" <<<"$big")"

python3 - "$RB_P16" "$RB_C50" "${TP[50]}" "${TP[200]}" "${TP[1000]}" "${P99[50]}" "${P99[200]}" "${P99[1000]}" \
    "${ERR[50]}" "${ERR[200]}" "${ERR[1000]}" "$TP3" "$SHED" "$NOSHED" "$BIG_RSS" "$BIG_ERR" "$BIG_SAMPLES" "$REQUESTS" <<'PY'
import sys
a = sys.argv[1:]
rb16, rb50 = float(a[0] or 0), float(a[1] or 0)
tp = {50: float(a[2]), 200: float(a[3]), 1000: float(a[4])}
p99 = {50: float(a[5]), 200: float(a[6]), 1000: float(a[7])}
err = {50: a[8], 200: a[9], 1000: a[10]}
tp3, shed, noshed = float(a[11]), float(a[12]), float(a[13])
rss, big_err, samples, requests = int(a[14]), a[15], a[16], a[17]
def r(x, y): return f"{x / y:.2f}x" if y else "n/a"
print()
print(f"Purchase script, {requests} requests per step, same nodes, same run")
print(f"{'run':<44}{'purchases/s':>12}{'p99 ms':>9}{'vs rb -P16':>12}{'vs rb -c50':>12}")
print(f"{'redis-benchmark EVALSHA -c 50 -P 16':<44}{rb16:>12,.0f}{'':>9}{'1.00x':>12}{r(rb16, rb50):>12}")
print(f"{'redis-benchmark EVALSHA -c 50':<44}{rb50:>12,.0f}{'':>9}{r(rb50, rb16):>12}{'1.00x':>12}")
for c in (50, 200, 1000):
    name = f"seckill bench, 1 node, concurrency {c}"
    print(f"{name:<44}{tp[c]:>12,.0f}{p99[c]:>9.2f}{r(tp[c], rb16):>12}{r(tp[c], rb50):>12}   errors {err[c]}")
print(f"{'seckill bench, 3 nodes, concurrency 200':<44}{tp3:>12,.0f}{'':>9}{r(tp3, rb16):>12}{r(tp3, rb50):>12}   3 nodes / 1 node: {r(tp3, tp[200])}")
print(f"{'end of sale, shedding on':<44}{shed:>12,.0f}")
print(f"{'end of sale, shedding off':<44}{noshed:>12,.0f}   shedding speed-up: {r(shed, noshed)}")
print(f"10,000 concurrent callers: peak RSS {rss / 1048576:.1f} MiB, errors {big_err} {samples if big_err != '0' else ''}")
PY
