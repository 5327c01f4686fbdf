#!/usr/bin/env bash
# Counts, per purchase, the runtime calls behind the client's CPU cost: reference counting,
# array uniqueness checks, heap and task allocations, executor switches and enqueues,
# continuations and the runtime's mutex locks, with uprobes through perf. Unlike CPU time
# these counts do not depend on how busy the machine is, so two builds of the call path can
# be compared exactly (CPU time on this shared machine moves by 10-20% between runs).
#
#   scripts/callcounts.sh [--concurrency N] [--requests N]
#
# Runs `seckill bench` on one node twice, with N/4 and N attempts (default 20,000 at
# concurrency 200), and prints the difference per attempt, which leaves out start-up and
# publishing. SECKILL=/path/to/seckill counts another build (an older commit's, say).
# Needs root (uprobes) and perf (installed with apt-get as linux-perf when missing). Starts
# one redis-server on a free loopback port and stops it at the end; removes its probes.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(seckill_root)"
cd "$ROOT"
REQUESTS=20000
CONCURRENCY=200
while (($# > 0)); do
    case "$1" in
        --requests) REQUESTS="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
if ! [[ "$REQUESTS" =~ ^[0-9]+$ ]] || ((REQUESTS < 400)); then
    die "--requests must be a whole number of at least 400, got $REQUESTS"
fi
if ! [[ "$CONCURRENCY" =~ ^[0-9]+$ ]] || ((CONCURRENCY < 1)); then
    die "--concurrency must be a whole number of at least 1, got $CONCURRENCY"
fi
((EUID == 0)) || die "uprobes need root: run this as root"

ensure_redis
if ! perf --version >/dev/null 2>&1; then
    apt_install linux-perf || die "perf is needed (Debian package linux-perf)"
fi
SECKILL="${SECKILL:-}"
build_seckill

GROUP="seckill_calls_$$"
# shellcheck disable=SC2317 # runs from the EXIT trap
remove_probes() {
    perf probe -q -d "$GROUP:*" >/dev/null 2>&1
}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/seckill-callcounts.XXXXXX")"
remove_dir_and_servers_on_exit "$WORK" remove_probes

PORT="$(free_port)"
redis_start "$WORK" "$PORT" 127.0.0.1 "$PORT" --protected-mode no || die "redis-server on port $PORT did not start"
"$SECKILL" config init --nodes "127.0.0.1:$PORT" --output "$WORK/one.json" >/dev/null

# The libraries the executable loads, as the dynamic linker resolves them.
library() {
    ldd "$SECKILL" | awk -v name="$1" '$1 == name { print $3 }'
}
CORE="$(library libswiftCore.so)"
CONCURRENCY_LIB="$(library libswift_Concurrency.so)"
LIBC="$(library libc.so.6)"
[[ -n "$CORE" && -n "$CONCURRENCY_LIB" && -n "$LIBC" ]] || die "could not find libswiftCore, libswift_Concurrency and libc in ldd $SECKILL"

# name=function, per library; the names are the table's rows.
add_probes() {
    local binary="$1" probe
    shift
    for probe in "$@"; do
        perf probe -q -x "$binary" -a "$GROUP:$probe" >/dev/null \
            || die "perf probe could not attach ${probe#*=} in $binary"
    done
}
add_probes "$CORE" retain=swift_retain release=swift_release bridge_retain=swift_bridgeObjectRetain \
    bridge_release=swift_bridgeObjectRelease unique_check=swift_isUniquelyReferenced_nonNull_native \
    object_alloc=swift_allocObject
add_probes "$CONCURRENCY_LIB" task_alloc=swift_task_alloc task_switch=swift_task_switch \
    task_enqueue=swift_task_enqueue continuation=swift_continuation_init
add_probes "$LIBC" heap_alloc=malloc mutex_lock=pthread_mutex_lock

# Event counts of one bench run of $1 attempts, as "event count" lines.
count() {
    redis-cli -p "$PORT" FLUSHALL >/dev/null
    perf stat -x, -o "$WORK/stat" -e "$GROUP:*" -e context-switches -e raw_syscalls:sys_enter -- \
        "$SECKILL" bench --config "$WORK/one.json" --concurrency "$CONCURRENCY" --requests "$1" --json >"$WORK/bench.json" \
        || die "seckill bench failed (see $WORK/bench.json)"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['errors'] == 0 else 1)" "$WORK/bench.json" \
        || die "seckill bench reported errors under the probes: $(cat "$WORK/bench.json")"
    awk -F, '$1 ~ /^[0-9]+$/ { n = split($3, name, ":"); print name[n], $1 }' "$WORK/stat"
}

SMALL=$((REQUESTS / 4))
log_info "counting $SMALL and $REQUESTS attempts at concurrency $CONCURRENCY with $SECKILL (slow under the probes)"
count "$SMALL" >"$WORK/small"
count "$REQUESTS" >"$WORK/large"
echo
echo "Runtime calls per attempt, seckill bench on one node at concurrency $CONCURRENCY ($REQUESTS - $SMALL attempts)"
awk -v n=$((REQUESTS - SMALL)) '
    NR == FNR { small[$1] = $2; next }
    { printf "%-16s %8.2f\n", $1, ($2 - small[$1]) / n }
' "$WORK/small" "$WORK/large"
