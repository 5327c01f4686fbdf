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
# draws half the attempts and is bucketed over 3 nodes; orders held 2 s for payment, four
# in five paid), sweeps the unpaid orders' units back, drains every order into SQLite
# (.build/demo/orders.sqlite), runs the audit, and stops the
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
# Orders are held for payment for 2 s and four buyers in five pay; the other orders are
# released when their deadline passes (during the sale by its own sweeps, after it below).
PAY_WAIT=0
if [[ " ${SALE_ARGS[*]-} " != *" --pay-within"* ]]; then
    DEFAULTS+=(--pay-within 2s --pay-share 0.8)
    PAY_WAIT=3
fi
"$SECKILL" sale --config "$CONFIG" "${DEFAULTS[@]}" ${SALE_ARGS[@]+"${SALE_ARGS[@]}"}

# After the sale: the last unpaid orders come due and a sweep returns their units; every
# order is handed to SQLite (a consumer group of this run, so it reads every stream from
# the start); the audit checks Redis against itself and against the database.
echo
if ((PAY_WAIT > 0)); then
    log_info "waiting ${PAY_WAIT} s for the last payment deadlines"
    sleep "$PAY_WAIT"
fi
"$SECKILL" orders sweep --config "$CONFIG"
DB_DIR="$ROOT/.build/demo"
DB="$DB_DIR/orders.sqlite"
mkdir -p "$DB_DIR"
rm -f -- "$DB"
echo
"$SECKILL" orders drain --config "$CONFIG" --sqlite "$DB" --group "demo-$(date +%s)-$$"
echo
"$SECKILL" audit --config "$CONFIG" --sqlite "$DB" --summary
echo
echo "orders by state in $DB:"
sqlite3 -header -column "$DB" 'SELECT state, COUNT(*) AS orders, SUM(quantity) AS units FROM orders GROUP BY state ORDER BY state'
echo "(look further with: sqlite3 $DB 'SELECT * FROM orders LIMIT 10')"
