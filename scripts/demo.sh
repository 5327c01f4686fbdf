#!/usr/bin/env bash
# The main job: runs a flash sale of many items with many concurrent buyers over the Redis
# nodes of cluster.json, and prints the report.
#
#   scripts/demo.sh [--config FILE] [seckill sale options...]
#
# Installs redis-server with apt-get when missing, builds seckill (release), starts the
# nodes of the config that are not running yet (scripts/nodes.sh, which reads them from
# `seckill config nodes`), runs `seckill sale` (defaults: 1,000 items
# x 100 units, limit 1, 20,000 users, 200,000 attempts at concurrency 256; the hottest item
# draws half the attempts and is bucketed over 3 nodes), and stops the
# nodes it started, also when the sale fails. Any option of `seckill sale` may be given,
# e.g. `scripts/demo.sh --items 200 --requests 50000 --json`.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(seckill_root)"
cd "$ROOT"

CONFIG="$ROOT/cluster.json"
SALE_ARGS=()
while (($# > 0)); do
    case "$1" in
        --config)
            (($# >= 2)) || die "--config needs a value"
            CONFIG="$2"
            shift 2
            ;;
        --config=*)
            CONFIG="${1#*=}"
            shift
            ;;
        *)
            SALE_ARGS+=("$1")
            shift
            ;;
    esac
done
[[ -f "$CONFIG" ]] || die "config $CONFIG not found"

ensure_redis
ensure_sqlite
# Always this checkout's build (not an inherited SECKILL), exported so nodes.sh uses it too.
SECKILL=""
build_seckill
export SECKILL

# A state directory of this run only, so stopping touches just the nodes this run started.
STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/seckill-demo.XXXXXX")"
cleanup() {
    local status=$?
    bash "$ROOT/scripts/nodes.sh" stop --dir "$STATE_DIR" || true
    rm -rf -- "$STATE_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$ROOT/scripts/nodes.sh" start --config "$CONFIG" --dir "$STATE_DIR"
"$SECKILL" nodes --config "$CONFIG"
echo
# A skewed crowd by default: the hottest item draws half of all attempts and its stock is
# split over three buckets on different nodes, so the per-node shares in the report stay
# near a third each (see README "Bucketed items"). Given options win.
DEFAULTS=()
[[ " ${SALE_ARGS[*]-} " == *" --hot-share"* ]] || DEFAULTS+=(--hot-share 0.5)
[[ " ${SALE_ARGS[*]-} " == *" --buckets"* ]] || DEFAULTS+=(--buckets 3)
"$SECKILL" sale --config "$CONFIG" "${DEFAULTS[@]}" ${SALE_ARGS[@]+"${SALE_ARGS[@]}"}
