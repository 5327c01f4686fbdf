#!/usr/bin/env bash
# A skewed crowd on three nodes: one item draws a share X of all attempts (default 0.5), the
# other items follow the usual Zipf popularity. Runs the same sale three ways, side by side:
#
#   1. as published: the hot item lives in one slot, on one node;
#   2. with the hot item bucketed over the three nodes (`seckill sale --buckets 3`);
#   3. bucketed, on slots placed by `seckill plan` from the expected demand (the hot item and
#      the next nine, with their shares).
#
# Every item has ample stock and no per-user limit, so every attempt is a script call on a
# node (no sold-out shedding hides load). For each run it prints every node's share of
# attempts, the server CPU each node spent (INFO cpu) and the time its EVALSHA calls took
# (INFO commandstats), the throughput, and whether the invariants held.
#
#   scripts/skew.sh [--hot-share X] [--requests N] [--rounds K]
#
# Starts its own nodes on free loopback ports and stops them at the end.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(seckill_root)"
cd "$ROOT"
HOT=0.5
REQUESTS=200000
ROUNDS=1
while (($# > 0)); do
    case "$1" in
        --hot-share) HOT="$2"; shift 2 ;;
        --requests) REQUESTS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

ensure_redis
ensure_python3
SECKILL=""
build_seckill

WORK="$(mktemp -d "${TMPDIR:-/tmp}/seckill-skew.XXXXXX")"
remove_dir_and_servers_on_exit "$WORK"

PORTS=()
for _ in 1 2 3; do
    port="$(free_port)"
    redis_start "$WORK" "$port" 127.0.0.1 "$port" || die "redis-server on port $port did not start"
    PORTS+=("$port")
done
"$SECKILL" config init --nodes "127.0.0.1:${PORTS[0]},127.0.0.1:${PORTS[1]},127.0.0.1:${PORTS[2]}" --output "$WORK/three.json" >/dev/null

ITEMS=1000
PREFIX=skew
# The expected demand: the hot item (bucketed) and the next nine hottest, with the shares
# the sale's popularity model gives them (Zipf exponent 1 over the rest).
python3 - "$HOT" "$ITEMS" "$PREFIX" >"$WORK/demand.json" <<'PY'
import json, sys
hot, items, prefix = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rest = [1 / rank for rank in range(2, items + 1)]
total = sum(rest)
entries = [{"item": f"{prefix}-0", "share": hot, "buckets": 3}]
entries += [{"item": f"{prefix}-{i}", "share": round(rest[i - 1] / total * (1 - hot), 6)} for i in range(1, 10)]
print(json.dumps({"items": entries}))
PY
"$SECKILL" plan --config "$WORK/three.json" --demand "$WORK/demand.json" --output "$WORK/planned.json" >"$WORK/plan.txt"

# "used_cpu_user+used_cpu_sys calls usec" of one node.
node_stats() {
    local info
    info="$(redis-cli -p "$1" INFO all | tr -d '\r')"
    awk -F'[:,=]' '
        /^used_cpu_(user|sys):/ { cpu += $2 }
        /^cmdstat_evalsha:/ { calls = $3; usec = $5 }
        END { printf "%.6f %d %d\n", cpu, calls, usec }' <<<"$info"
}

run() {
    local name="$1" config="$2"; shift 2
    local port before=() after=()
    for port in "${PORTS[@]}"; do
        redis-cli -p "$port" FLUSHALL >/dev/null
        redis-cli -p "$port" CONFIG RESETSTAT >/dev/null
    done
    for port in "${PORTS[@]}"; do before+=("$(node_stats "$port")"); done
    "$SECKILL" sale --config "$config" --items "$ITEMS" --stock 1000000 --limit 0 --hot-share "$HOT" --requests "$REQUESTS" --prefix "$PREFIX" --replace --json "$@" >"$WORK/run-$name.json"
    for port in "${PORTS[@]}"; do after+=("$(node_stats "$port")"); done
    printf '%s\t%s\t%s\t%s\n' "$name" "$WORK/run-$name.json" "$(IFS='|'; echo "${before[*]}")" "$(IFS='|'; echo "${after[*]}")" >>"$WORK/runs.tsv"
}

for ((round = 1; round <= ROUNDS; round++)); do
    log_info "round $round of $ROUNDS: hot item in one slot; bucketed over 3 nodes; bucketed on planned slots"
    run plain "$WORK/three.json"
    run buckets "$WORK/three.json" --buckets 3
    run planned "$WORK/planned.json" --buckets 3
done

python3 - "$WORK/runs.tsv" "$HOT" "$REQUESTS" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, path, before, after = line.rstrip("\n").split("\t")
    report = json.load(open(path))
    b = [list(map(float, x.split())) for x in before.split("|")]
    a = [list(map(float, x.split())) for x in after.split("|")]
    runs.setdefault(name, []).append((report, b, a))
print()
print(f"One item draws {float(sys.argv[2]):.0%} of {int(sys.argv[3]):,} attempts on 3 nodes (medians of the rounds)")
print(f"{'run':<10}{'attempts/s':>12}{'busiest':>9}  {'share of attempts per node':<28}{'server CPU s per node':<24}{'EVALSHA s per node':<24}invariants")
base = None
for name in ("plain", "buckets", "planned"):
    if name not in runs: continue
    rows = runs[name]
    tp = statistics.median(r[0]["throughput"] for r in rows)
    nodes = list(rows[0][0]["perNode"].keys())
    shares = [statistics.median(r[0]["perNode"][n]["share"] for r in rows) for n in nodes]
    cpu = [statistics.median(r[2][i][0] - r[1][i][0] for r in rows) for i in range(len(nodes))]
    usec = [statistics.median(r[2][i][2] for r in rows) / 1e6 for i in range(len(nodes))]
    ok = all(r[0]["invariantsHold"] and r[0]["errors"] == 0 for r in rows)
    base = base or tp
    print(f"{name:<10}{tp:>12,.0f}{max(shares):>9.1%}  {' / '.join(f'{s:.1%}' for s in shares):<28}"
          f"{' / '.join(f'{c:.2f}' for c in cpu):<24}{' / '.join(f'{u:.2f}' for u in usec):<24}{'hold, 0 errors' if ok else 'BROKEN or errors'}"
          f"   ({tp / base:.2f}x of plain)")
PY
log_info "plan used for 'planned':"
sed -n '1,40p' "$WORK/plan.txt" >&2
