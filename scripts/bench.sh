#!/usr/bin/env bash
# Benchmarks the purchase path side by side with redis-benchmark, in one run on the same
# nodes and the same purchase script, and prints a table of throughputs and ratios.
#
#   scripts/bench.sh [--requests N] [--rounds K] [--quick]
#
# Starts its own nodes (one node, and three nodes) on free loopback ports and stops them at
# the end. Runs:
#   redis-benchmark EVALSHA <purchase script> -c 50 -P 16, and -c 50 without pipelining;
#   seckill bench at concurrency 50, 200 and 1,000 on one node, and 200 on three nodes;
#   the end of a sale (most items sold out) with and without sold-out shedding;
#   10,000 concurrent callers (peak memory, errors);
#   the Redis footprint of 200,000 (--quick: 3,000) refused attempts and of 200,000 purchases (bytes, keys, and
#   the script's server CPU per call from INFO commandstats).
# The machine is shared and noisy: the redis-benchmark and seckill steps are interleaved in
# K rounds (default 3) and the table shows each step's median and the median of the per-round
# ratios. --quick runs one round of a few thousand requests per step.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(seckill_root)"
cd "$ROOT"
REQUESTS=300000
ROUNDS=3
QUICK=0
while (($# > 0)); do
    case "$1" in
        --requests) REQUESTS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --quick) QUICK=1; REQUESTS=3000; ROUNDS=1; shift ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

ensure_redis
ensure_python3
SECKILL=""
build_seckill

WORK="$(mktemp -d "${TMPDIR:-/tmp}/seckill-bench.XXXXXX")"
# Only the servers started here are stopped at exit: their pid files are in WORK.
remove_dir_and_servers_on_exit "$WORK"

start_node() {
    redis_start "$WORK" "$1" 127.0.0.1 "$1" --protected-mode no || die "redis-server on port $1 did not start"
}

ONE="$(free_port)"; start_node "$ONE"
A="$(free_port)"; start_node "$A"
B="$(free_port)"; start_node "$B"
C="$(free_port)"; start_node "$C"
"$SECKILL" config init --nodes "127.0.0.1:$ONE" --output "$WORK/one.json" >/dev/null
"$SECKILL" config init --nodes "127.0.0.1:$A,127.0.0.1:$B,127.0.0.1:$C" --output "$WORK/three.json" >/dev/null

# A member of the JSON object on standard input, e.g. json_field "['latencyMs']['p99']".
# python3 is needed for the report table anyway, and reads JSON properly.
json_field() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(d$1)"; }

# redis-benchmark runs the coordinator's own purchase script on an item with ample stock;
# each request has a new request id and user, so every call does the full purchase.
SHA="$(redis-cli -p "$ONE" SCRIPT LOAD "$("$SECKILL" scripts purchase)")"
redis-cli -p "$ONE" HSET 'seckill:{rb}' total 1000000000000 sold 0 limit 0 epoch 1 >/dev/null
# Prints the requests per second; leaves redis-benchmark's own CPU per request (user +
# system of its process, microseconds) in $WORK/rb-cpu.
rb() {
    local TIMEFORMAT='%U %S'
    { time redis-benchmark -p "$ONE" -n "$1" "${@:2}" -r 1000000000 -q \
        EVALSHA "$SHA" 4 'seckill:{rb}' 'seckill:{rb}:buyers' 'seckill:{rb}:orders' 'seckill:{rb}:requests' \
        'user-__rand_int__' 1 'r-__rand_int__' 0 >"$WORK/rb-out" 2>/dev/null; } 2>"$WORK/rb-time"
    awk -v n="$1" '{ printf "%.3f\n", ($1 + $2) / n * 1e6 }' "$WORK/rb-time" >"$WORK/rb-cpu"
    tr '\r' '\n' <"$WORK/rb-out" | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}
bench() {
    "$SECKILL" bench --json "$@"
}
# CPU seconds (user + system) the one-node server has used so far, to show what a purchase
# costs the server in each step.
node_cpu() {
    redis-cli -p "$ONE" INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { total += $2 } END { printf "%.6f", total }'
}
# Microseconds of the one-node server's CPU per purchase since BEFORE (a node_cpu reading),
# over PURCHASES purchases.
cpu_per_purchase() {
    awk -v now="$(node_cpu)" -v before="$1" -v n="$2" 'BEGIN { printf "%.3f\n", (now - before) / n * 1e6 }'
}

RB_P16=(); RB_C50=(); RB_C200=(); TP50=(); TP200=(); TP1000=(); P99_50=(); P99_200=(); P99_1000=(); TP3=(); ERRS=0
CPU_RB=(); CPU_200=(); CL_RB16=(); CL_RB50=(); CL_RB200=(); CL_50=(); CL_200=(); CL_1000=(); TP_MET=(); CL_MET=()
for ((round = 1; round <= ROUNDS; round++)); do
    log_info "round $round of $ROUNDS: redis-benchmark -c 50 -P 16, -c 50, -c 200; seckill bench at 50, 200 (metrics file off and on), 1000 on one node, 200 on three"
    before="$(node_cpu)"
    RB_P16+=("$(rb "$REQUESTS" -c 50 -P 16)")
    CPU_RB+=("$(cpu_per_purchase "$before" "$REQUESTS")")
    CL_RB16+=("$(cat "$WORK/rb-cpu")")
    RB_C50+=("$(rb "$((REQUESTS / 3))" -c 50)")
    CL_RB50+=("$(cat "$WORK/rb-cpu")")
    RB_C200+=("$(rb "$((REQUESTS / 3))" -c 200)")
    CL_RB200+=("$(cat "$WORK/rb-cpu")")
    for conc in 50 200 1000; do
        before="$(node_cpu)"
        out="$(bench --config "$WORK/one.json" --concurrency "$conc" --requests "$REQUESTS" --items 100)"
        tp="$(json_field "['throughput']" <<<"$out")"
        p99="$(json_field "['latencyMs']['p99']" <<<"$out")"
        client="$(json_field "['clientCPUMicrosPerAttempt']" <<<"$out")"
        ERRS=$((ERRS + $(json_field "['errors']" <<<"$out")))
        case "$conc" in
            50) TP50+=("$tp"); P99_50+=("$p99"); CL_50+=("$client") ;;
            200) TP200+=("$tp"); P99_200+=("$p99"); CL_200+=("$client")
                CPU_200+=("$(cpu_per_purchase "$before" "$((REQUESTS + $(json_field "['warmup']" <<<"$out")))")")
                # The same step again with the metrics file written every second.
                outm="$(bench --config "$WORK/one.json" --concurrency 200 --requests "$REQUESTS" --items 100 --metrics-file "$WORK/metrics.prom")"
                TP_MET+=("$(json_field "['throughput']" <<<"$outm")"); CL_MET+=("$(json_field "['clientCPUMicrosPerAttempt']" <<<"$outm")")
                ERRS=$((ERRS + $(json_field "['errors']" <<<"$outm"))) ;;
            1000) TP1000+=("$tp"); P99_1000+=("$p99"); CL_1000+=("$client") ;;
        esac
    done
    out3="$(bench --config "$WORK/three.json" --concurrency 200 --requests "$REQUESTS" --items 100)"
    TP3+=("$(json_field "['throughput']" <<<"$out3")")
    ERRS=$((ERRS + $(json_field "['errors']" <<<"$out3")))
done

log_info "end of sale (stock 10 per item), with and without shedding"
shed="$(bench --config "$WORK/one.json" --concurrency 200 --requests "$REQUESTS" --items 100 --stock 10 --warmup 0)"
noshed="$(bench --config "$WORK/one.json" --concurrency 200 --requests "$REQUESTS" --items 100 --stock 10 --warmup 0 --no-shedding)"
SHED="$(json_field "['throughput']" <<<"$shed")"
NOSHED="$(json_field "['throughput']" <<<"$noshed")"

# What a crowd of refusals leaves in Redis, and what the script costs the server per call
# (INFO commandstats), for refusals and for purchases: 200,000 attempts with request ids
# (no shedding, as callers with their own ids get) on items with no stock, then on items with
# ample stock.
one_info() { redis-cli -p "$ONE" INFO "$1" | tr -d '\r'; }
used_memory() { one_info memory | awk -F: '/^used_memory:/ { print $2 }'; }
evalsha_usec() { one_info commandstats | sed -nE 's/^cmdstat_evalsha:.*usec_per_call=([0-9.]+).*/\1/p'; }
FOOT=$((QUICK == 1 ? 3000 : 200000))
log_info "footprint: $FOOT refused attempts with request ids, then $FOOT purchases"
redis-cli -p "$ONE" FLUSHALL >/dev/null
# A first run publishes the items and lets the server allocate what it allocates once
# (CONFIG RESETSTAT frees the per-command latency histograms, which the next calls allocate
# again: about 270 KB); the measured run publishes the same ids afresh, so the difference is
# what its attempts left.
redis-cli -p "$ONE" CONFIG RESETSTAT >/dev/null
bench --config "$WORK/one.json" --concurrency 200 --requests "$((FOOT / 10))" --warmup 0 --items 100 --stock 0 --no-shedding --prefix foot >/dev/null
MEM0="$(used_memory)"; KEYS0="$(redis-cli -p "$ONE" DBSIZE)"
bench --config "$WORK/one.json" --concurrency 200 --requests "$FOOT" --warmup 0 --items 100 --stock 0 --no-shedding --prefix foot >/dev/null
MEM1="$(used_memory)"; KEYS1="$(redis-cli -p "$ONE" DBSIZE)"; USEC_REFUSED="$(evalsha_usec)"
redis-cli -p "$ONE" CONFIG RESETSTAT >/dev/null
bench --config "$WORK/one.json" --concurrency 200 --requests "$FOOT" --warmup 0 --items 100 --no-shedding --prefix foot-buy >/dev/null
MEM2="$(used_memory)"; KEYS2="$(redis-cli -p "$ONE" DBSIZE)"; USEC_BOUGHT="$(evalsha_usec)"

log_info "10,000 concurrent callers"
big="$(bench --config "$WORK/one.json" --concurrency 10000 --requests "$((REQUESTS > 20000 ? REQUESTS : 20000))" --items 100)"
BIG_RSS="$(json_field "['peakRSSBytes']" <<<"$big")"
BIG_ERR="$(json_field "['errors']" <<<"$big")"
BIG_SAMPLES="$(json_field "['errorSamples']" <<<"$big")"
BIG_P99="$(json_field "['latencyMs']['p99']" <<<"$big")"

join() { local IFS=,; printf '%s' "$*"; }
python3 - "$(join "${RB_P16[@]}")" "$(join "${RB_C50[@]}")" "$(join "${TP50[@]}")" "$(join "${TP200[@]}")" \
    "$(join "${TP1000[@]}")" "$(join "${P99_50[@]}")" "$(join "${P99_200[@]}")" "$(join "${P99_1000[@]}")" \
    "$(join "${TP3[@]}")" "$ERRS" "$SHED" "$NOSHED" "$BIG_RSS" "$BIG_ERR" "$BIG_SAMPLES" "$REQUESTS" "$ROUNDS" "$(join "${CPU_RB[@]}")" "$(join "${CPU_200[@]}")" \
    "$FOOT" "$MEM0" "$MEM1" "$MEM2" "$KEYS0" "$KEYS1" "$KEYS2" "$USEC_REFUSED" "$USEC_BOUGHT" \
    "$(join "${RB_C200[@]}")" "$(join "${CL_RB16[@]}")" "$(join "${CL_RB50[@]}")" "$(join "${CL_RB200[@]}")" \
    "$(join "${CL_50[@]}")" "$(join "${CL_200[@]}")" "$(join "${CL_1000[@]}")" "$(join "${TP_MET[@]}")" "$(join "${CL_MET[@]}")" \
    "$BIG_P99" <<'PY'
import statistics, sys
a = sys.argv[1:]
def series(text): return [float(x or 0) for x in text.split(",")]
rb16, rb50, tp50, tp200, tp1000, p50, p200, p1000, tp3 = (series(x) for x in a[:9])
errs, shed, noshed = a[9], float(a[10]), float(a[11])
rss, big_err, samples, requests, rounds = int(a[12]), a[13], a[14], a[15], a[16]
cpu_rb, cpu_200 = series(a[17]), series(a[18])
med = statistics.median
def ratio(xs, ys): return med([x / y for x, y in zip(xs, ys) if y]) if any(ys) else 0
def row(name, tp, p99, vs16, vs50, extra=""):
    p = f"{med(p99):>9.2f}" if p99 else f"{'':>9}"
    print(f"{name:<44}{med(tp):>12,.0f}{p}{vs16:>11.2f}x{vs50:>11.2f}x{extra}")
print()
print(f"Purchase script, {requests} requests per step, {rounds} interleaved round(s); medians, and medians of per-round ratios")
print(f"{'run':<44}{'purchases/s':>12}{'p99 ms':>9}{'vs rb -P16':>12}{'vs rb -c50':>12}")
row("redis-benchmark EVALSHA -c 50 -P 16", rb16, None, 1.0, ratio(rb16, rb50))
row("redis-benchmark EVALSHA -c 50", rb50, None, ratio(rb50, rb16), 1.0)
rb200 = series(a[28])
row("redis-benchmark EVALSHA -c 200", rb200, None, ratio(rb200, rb16), ratio(rb200, rb50))
row("seckill bench, 1 node, concurrency 50", tp50, p50, ratio(tp50, rb16), ratio(tp50, rb50))
row("seckill bench, 1 node, concurrency 200", tp200, p200, ratio(tp200, rb16), ratio(tp200, rb50))
row("seckill bench, 1 node, concurrency 1000", tp1000, p1000, ratio(tp1000, rb16), ratio(tp1000, rb50))
row("seckill bench, 3 nodes, concurrency 200", tp3, None, ratio(tp3, rb16), ratio(tp3, rb50), f"   3 nodes / 1 node: {ratio(tp3, tp200):.2f}x")
print(f"per-round purchases/s at concurrency 200: {', '.join(f'{x:,.0f}' for x in tp200)}; redis-benchmark -P 16: {', '.join(f'{x:,.0f}' for x in rb16)}")
print(f"errors in the bench steps: {errs}")
print(f"server CPU per purchase (median): redis-benchmark -P 16 {med(cpu_rb):.1f} us, seckill bench at 200 {med(cpu_200):.1f} us (publishing included)")
print(f"{'end of sale, shedding on':<44}{shed:>12,.0f}")
print(f"{'end of sale, shedding off':<44}{noshed:>12,.0f}   shedding speed-up: {shed / noshed if noshed else 0:.2f}x")
foot, mem0, mem1, mem2, keys0, keys1, keys2 = (int(x) for x in a[19:26])
usec_refused, usec_bought = float(a[26] or 0), float(a[27] or 0)
print(f"{foot:,} refused attempts with request ids: Redis used_memory {mem1 - mem0:+,} bytes ({(mem1 - mem0) / foot:.1f} per attempt), "
      f"keys {keys1 - keys0:+,}; EVALSHA {usec_refused:.2f} us per call (INFO commandstats, warm-up run included)")
print(f"{foot:,} purchases with request ids: Redis used_memory {mem2 - mem1:+,} bytes ({(mem2 - mem1) / foot:.1f} per purchase), "
      f"keys {keys2 - keys1:+,}; EVALSHA {usec_bought:.2f} us per call")
cl_rb16, cl_rb50, cl_rb200, cl50, cl200, cl1000, tp_met, cl_met = (series(x) for x in a[29:37])
big_p99 = float(a[37] or 0)
print(f"10,000 concurrent callers: peak RSS {rss / 1048576:.1f} MiB, p99 {big_p99:.1f} ms, errors {big_err} {samples if big_err != '0' else ''}")
print()
print("Client CPU per request (process user + system / requests, microseconds; medians)")
print(f"{'client':<44}{'us/request':>12}{'vs rb -c 50':>13}")
def cpu_row(name, xs): print(f"{name:<44}{med(xs):>12.2f}{ratio(xs, cl_rb50):>12.2f}x")
cpu_row("redis-benchmark -c 50 -P 16", cl_rb16)
cpu_row("redis-benchmark -c 50", cl_rb50)
cpu_row("redis-benchmark -c 200", cl_rb200)
cpu_row("seckill bench, concurrency 50", cl50)
cpu_row("seckill bench, concurrency 200", cl200)
cpu_row("seckill bench, concurrency 1000", cl1000)
print(f"seckill at 200 vs redis-benchmark -c 200 client: {ratio(cl200, cl_rb200):.2f}x")
print()
print(f"metrics file written every second (concurrency 200): {med(tp_met):,.0f} purchases/s, "
      f"{ratio(tp_met, tp200):.3f}x the run without it; client CPU {med(cl_met):.2f} vs {med(cl200):.2f} us per attempt")
PY
