#!/usr/bin/env bash
# Latency of small commands (GET of a short value through a NodePool, at a steady
# concurrency) alone and while large replies arrive on another connection of the same
# event loop, for an older checkout and for this branch, side by side in one run.
#
#   scripts/bench-big-reply.sh [OLD_CHECKOUT] [SECONDS] [BIG_BYTES]
#
# OLD_CHECKOUT (default /work/old) must hold a release build (.build/release). This branch's
# SeckillRESP and SeckillTransport are built in release here. The same program,
# scripts/bench-big-reply/BigReplyBench.swift, is compiled against each build's modules and
# objects (it uses only their public API), and both run against redis-servers started here,
# alternating old and new. Modes: `get` (GET of a BIG_BYTES string, default 50 MB) and
# `lrange` (LRANGE of a list of 100-byte elements adding up to a fifth of that). Server
# `other`: the big replies come from a second redis-server, so the numbers show the client
# alone; `same`: from the server the small commands go to, which also pauses while it
# copies the huge value into its output buffer.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(seckill_root)"
OLD=${1:-/work/old}
SECONDS_PER_PHASE=${2:-5}
BIG_BYTES=${3:-50000000}

ensure_swift
ensure_redis
WORK="$(mktemp -d "${TMPDIR:-/tmp}/seckill-bench-big-reply.XXXXXX")"

# Only the servers started here are stopped at exit: their pid files are in WORK.
remove_dir_and_servers_on_exit "$WORK"

(cd "$ROOT" && swift build -c release --target SeckillTransport >/dev/null)

# Compiles the bench against the release build in checkout $1, writing binary $2.
compile() {
    local checkout=$1 out=$2 build=$1/.build/release
    swiftc -O -parse-as-library -module-name BigReplyBench \
        -I "$build/Modules" \
        -Xcc -fmodule-map-file="$build/CSeckillSys.build/module.modulemap" \
        -Xcc -I"$checkout/Sources/CSeckillSys/include" \
        "$ROOT/scripts/bench-big-reply/BigReplyBench.swift" \
        "$build"/SeckillRESP.build/*.o "$build"/SeckillTransport.build/*.o "$build"/CSeckillSys.build/*.o \
        -o "$out"
}
compile "$OLD" "$WORK/bench-old"
compile "$ROOT" "$WORK/bench-new"

# Starts a redis-server on a free port, which it leaves in STARTED_PORT (not printed: the
# caller's `die` must run in this shell, not in a command substitution's subshell).
start_server() {
    local port
    port="$(free_port)"
    redis_start "$WORK" "$port" 127.0.0.1 "$port" || die "redis-server on port $port did not start"
    STARTED_PORT=$port
}
start_server
SMALL_PORT=$STARTED_PORT
start_server
BIG_PORT=$STARTED_PORT

printf '%-5s %-7s %-6s %-15s %9s %8s %8s %8s %9s %6s %10s\n' \
    build mode server phase smallOps p50ms p99ms p99.9ms maxms bigN bigReplyMs
for server in other same; do
    big_port=$BIG_PORT
    [[ $server == same ]] && big_port=$SMALL_PORT
    for mode in get lrange; do
        bytes=$BIG_BYTES
        [[ $mode == lrange ]] && bytes=$((BIG_BYTES / 5))
        for _ in 1 2; do
            for build in old new; do
                "$WORK/bench-$build" --port "$SMALL_PORT" --big-port "$big_port" --label "$build" \
                    --mode "$mode" --seconds "$SECONDS_PER_PHASE" --big-bytes "$bytes"
            done
        done
    done
done
