#!/usr/bin/env bash
# Builds the package and runs every test.
#
#   scripts/test.sh                     # everything
#   scripts/test.sh --filter NodePool   # extra arguments go to `swift test`
#
# Installs redis-server/redis-tools and libsqlite3-dev/sqlite3 when missing (apt-get). The tests start their own
# redis-server processes; each one's pid is written to $SECKILL_TEST_RUN_DIR, and this
# script stops any that are left when it ends, whether the tests passed, failed, crashed
# or were interrupted. The exit status is swift test's (or the build's, when it failed).
# SC2317: the cleanup functions run from traps, which shellcheck takes for dead code.
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

cd "$SECKILL_ROOT"

ensure_swift
ensure_redis
ensure_sqlite

if is_ci; then
    # Plain output: no colours, no terminal assumptions.
    export NO_COLOR=1 TERM=dumb
fi

RUN_DIR=""
JOB_PID=""      # the running build or test job (leader of its own process group)
PHASE="setup"
STARTED=$SECONDS

# Runs "$@" as a job in its own process group (so an interrupt can stop it and everything
# it started) and waits for it; returns its exit status.
run_job() {
    local status=0
    set -m
    # stdin from /dev/null: nothing may wait for input (CI has none, and a background job
    # reading the terminal would be stopped).
    "$@" </dev/null &
    JOB_PID=$!
    set +m
    wait "$JOB_PID" || status=$?
    JOB_PID=""
    return "$status"
}

# Stops the running job: SIGTERM to its process group and to every process it started
# (swift test runs the test binary in a process group of its own), then SIGKILL to whatever
# is left after ~3 s.
stop_job() {
    local pid="$JOB_PID" i procs=() more=() alive=() p
    [[ -n "$pid" ]] || return 0
    JOB_PID=""
    mapfile -t procs < <(descendant_pids "$pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
    if ((${#procs[@]} > 0)); then
        kill -TERM -- "${procs[@]}" 2>/dev/null || true
    fi
    for ((i = 0; i < 30; i++)); do
        # Children started meanwhile by the processes being stopped.
        mapfile -t more < <(descendant_pids "$pid" "${procs[@]}")
        if ((${#more[@]} > 0)); then
            kill -TERM -- "${more[@]}" 2>/dev/null || true
            procs+=("${more[@]}")
        fi
        alive=()
        for p in "${procs[@]}"; do
            if pid_alive "$p"; then
                alive+=("$p")
            fi
        done
        if ((${#alive[@]} == 0)) && ! process_group_alive "$pid"; then
            return 0
        fi
        sleep 0.1
    done
    log_warn "$PHASE still running after SIGTERM, sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
    if ((${#alive[@]} > 0)); then
        kill -KILL -- "${alive[@]}" 2>/dev/null || true
    fi
}

cleanup() {
    stop_job
    [[ -n "$RUN_DIR" ]] || return 0
    local pids=() file pid
    # Test processes that escaped the job (reparented after a crash of swift test): every
    # process started by this run has SECKILL_TEST_RUN_DIR=$RUN_DIR in its environment
    # (except redis-server, which overwrites its own; its pid files cover it).
    mapfile -t pids < <(pids_with_env "SECKILL_TEST_RUN_DIR=$RUN_DIR")
    if ((${#pids[@]} > 0)); then
        log_warn "${#pids[@]} test process(es) still running; stopping them: ${pids[*]}"
        terminate_pids "${pids[@]}"
    fi
    # The servers the tests started: the helper writes each one's pid file into RUN_DIR.
    local pidfiles=("$RUN_DIR"/*.pid) live=()
    [[ -e "${pidfiles[0]}" ]] || pidfiles=()
    for file in ${pidfiles[@]+"${pidfiles[@]}"}; do
        if pid="$(redis_pidfile_pid "$file")" && pid_is_redis_server "$pid"; then
            live+=("$pid")
        fi
    done
    if ((${#live[@]} > 0)); then
        log_warn "${#live[@]} redis-server process(es) started by the tests still running; stopping them"
        redis_stop "${pidfiles[@]}" || true
    fi
    # A server whose pid file was never written (its test process died between starting it
    # and writing the file) still works inside the run directory (the tests put the
    # servers' directories under TMPDIR=$RUN_DIR/tmp); no other process can, so this
    # cannot touch a server this run did not start.
    pids=()
    for file in /proc/[0-9]*/cwd; do
        pid="${file#/proc/}"
        pid="${pid%/cwd}"
        if pid_is_redis_server "$pid" && [[ "$(readlink "$file" 2>/dev/null)" == "$RUN_DIR"/* ]]; then
            pids+=("$pid")
        fi
    done
    if ((${#pids[@]} > 0)); then
        log_warn "${#pids[@]} redis-server process(es) without a pid file in $RUN_DIR; stopping them"
        kill_redis_pids "${pids[@]}"
    fi
    rm -rf -- "$RUN_DIR"
}

on_exit() {
    local status=$?
    trap - EXIT INT TERM HUP
    set +e
    cleanup
    exit "$status"
}

on_signal() {
    local name="$1" status="$2"
    trap - INT TERM HUP
    log_warn "interrupted by SIG$name during $PHASE; cleaning up"
    exit "$status"   # runs on_exit
}

trap on_exit EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/seckill-test.XXXXXX")"
export SECKILL_TEST_RUN_DIR="$RUN_DIR"
# The tests' temporary files (the servers' directories and logs) go inside the run
# directory too, so they are removed with it even when a test process dies.
mkdir -p "$RUN_DIR/tmp"
log_info "run directory $RUN_DIR (removed at the end)"

# Build.
PHASE="build"
log_info "swift build --build-tests"
build_started=$SECONDS
build_status=0
run_job swift build --build-tests || build_status=$?
build_seconds=$((SECONDS - build_started))
if ((build_status != 0)); then
    log_error "build failed (exit $build_status) after ${build_seconds} s"
    log_info "FAILED: build failed, no test ran; $((SECONDS - STARTED)) s in all"
    exit "$build_status"
fi
log_info "build finished in ${build_seconds} s"

# Test. Output is copied to a log so the summary can quote swift test's own totals.
PHASE="swift test"
TEST_LOG="$RUN_DIR/swift-test.log"
log_info "swift test --skip-build${*:+ $*}"
run_tests() {
    # Runs as a background job, in a subshell: `set +e` does not leak out.
    set +e
    # TMPDIR only for the tests: Foundation's temporaryDirectory honours it.
    TMPDIR="$RUN_DIR/tmp" swift test --skip-build "$@" 2>&1 | tee "$TEST_LOG"
    return "${PIPESTATUS[0]}"
}
test_started=$SECONDS
test_status=0
run_job run_tests "$@" || test_status=$?
test_seconds=$((SECONDS - test_started))
PHASE="cleanup"

# swift test's totals: Swift Testing ("Test run with N tests ... passed/failed ...") and
# XCTest ("Executed N tests, with M failures ...").
last_line() {
    grep -E "$1" "$TEST_LOG" 2>/dev/null | tail -n 1 | sed -E 's/^[^A-Za-z]*//; s/[[:space:]]+$//' || true
}
xctest_total="$(last_line '^[[:space:]]*Executed [0-9]+ tests?, with')"
[[ "$xctest_total" != "Executed 0 tests"* ]] || xctest_total=""  # no XCTest tests: not news
testing_total="$(last_line 'Test run with [0-9]+ tests?')"
totals="${xctest_total}${xctest_total:+${testing_total:+; }}${testing_total}"

if ((test_status == 0)); then
    verdict="PASSED: tests passed"
else
    verdict="FAILED: tests failed (swift test exit $test_status)"
fi
log_info "$verdict in ${test_seconds} s (build ${build_seconds} s, $((SECONDS - STARTED)) s in all)${totals:+ -- $totals}"
exit "$test_status"
