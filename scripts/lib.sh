# shellcheck shell=bash
# Shared helpers for the Seckill scripts. Source it; do not run it:
#
#   # shellcheck source=lib.sh
#   source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
#
# (scripts/.shellcheckrc makes shellcheck follow it.)
# Every function is safe under `set -euo pipefail`. Messages go to standard error with a
# `[seckill]` prefix, so standard output stays for the data a command prints.

if [[ -n "${SECKILL_LIB_SOURCED:-}" ]]; then
    return 0
fi
SECKILL_LIB_SOURCED=1

# The repository root, found from where this file lives (scripts/..), symlinks resolved.
SECKILL_ROOT="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"

# The programs the test helper (Tests/SeckillTestSupport/RedisServer.swift) runs by absolute
# path: a redis-server found only elsewhere on PATH does not help the tests.
SECKILL_REDIS_SERVER_PATHS=(/usr/bin/redis-server /usr/local/bin/redis-server)
SECKILL_REDIS_CLI_PATH=/usr/bin/redis-cli

# Prints the repository root.
seckill_root() {
    printf '%s\n' "$SECKILL_ROOT"
}

# Logging: `log_info`, `log_warn` and `log_error` print one line to standard error;
# `die` prints an error and exits 1.
log_info() {
    printf '[seckill] %s\n' "$*" >&2
}

log_warn() {
    printf '[seckill] warning: %s\n' "$*" >&2
}

log_error() {
    printf '[seckill] error: %s\n' "$*" >&2
}

die() {
    log_error "$*"
    exit 1
}

# True when running under CI (CI=true, CI=1, ...).
is_ci() {
    case "${CI:-}" in
        "" | 0 | false | False | FALSE | no) return 1 ;;
        *) return 0 ;;
    esac
}

# Sets the array SECKILL_SUDO to the prefix that runs a command as root: empty for root,
# `sudo` (or `sudo -n` without a terminal) when sudo exists, else fails with a message
# naming WHAT needed root.
_seckill_need_root() {
    local what="$1"
    SECKILL_SUDO=()
    if [[ "$(id -u)" -eq 0 ]]; then
        return 0
    fi
    if command -v sudo >/dev/null 2>&1; then
        if [[ -t 0 ]] && ! is_ci; then
            SECKILL_SUDO=(sudo)
        else
            SECKILL_SUDO=(sudo -n)
        fi
        return 0
    fi
    log_error "$what needs root and sudo is not installed: run as root, or install it yourself"
    return 1
}

# Installs Debian packages with apt-get without starting their services: a policy-rc.d that
# refuses every start is put in place for the install when there is none already (and only
# what was put there is removed afterwards).
apt_install() {
    (($# > 0)) || return 0
    command -v apt-get >/dev/null 2>&1 \
        || { log_error "apt-get not found: install $* yourself (this script knows only Debian/Ubuntu)"; return 1; }
    _seckill_need_root "installing $*" || return 1
    local policy=/usr/sbin/policy-rc.d placed=0 status=0
    if [[ ! -e "$policy" ]]; then
        if printf '#!/bin/sh\n# Put here by Seckill scripts/lib.sh while installing packages.\nexit 101\n' \
            | "${SECKILL_SUDO[@]}" tee "$policy" >/dev/null \
            && "${SECKILL_SUDO[@]}" chmod 0755 "$policy"; then
            placed=1
        fi
    fi
    log_info "installing $* with apt-get"
    # stdin from /dev/null: no prompt may wait for an answer (CI has no standard input).
    if ! "${SECKILL_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >&2; then
        log_error "apt-get update failed"
        status=1
    elif ! "${SECKILL_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -q -o DPkg::Lock::Timeout=300 install -y "$@" </dev/null >&2; then
        log_error "apt-get install -y $* failed"
        status=1
    fi
    if ((placed)); then
        "${SECKILL_SUDO[@]}" rm -f "$policy" || log_warn "could not remove $policy, which this script put there"
    fi
    return "$status"
}

# True when a redis-server, redis-cli and redis-benchmark usable by the scripts and the
# tests are installed.
_seckill_have_redis() {
    local tool path found=0
    for tool in redis-server redis-cli redis-benchmark; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
    for path in "${SECKILL_REDIS_SERVER_PATHS[@]}"; do
        if [[ -x "$path" ]]; then
            found=1
        fi
    done
    ((found)) && [[ -x "$SECKILL_REDIS_CLI_PATH" ]]
}

# Makes sure redis-server, redis-cli and redis-benchmark are installed (with apt-get when
# not), then prints the redis-server version. Starts no Redis service.
ensure_redis() {
    if ! _seckill_have_redis; then
        log_info "redis-server/redis-cli/redis-benchmark missing"
        apt_install redis-server redis-tools || return 1
        hash -r
        _seckill_have_redis \
            || { log_error "redis-server, redis-cli or redis-benchmark still missing after apt-get install redis-server redis-tools"; return 1; }
    fi
    log_info "$(redis-server --version)"
}

# Makes sure the SQLite library headers (the package's CSQLite target links the system
# libsqlite3) and the sqlite3 shell are installed, with apt-get when /usr/include/sqlite3.h
# is missing.
ensure_sqlite() {
    if [[ ! -f /usr/include/sqlite3.h ]] || ! command -v sqlite3 >/dev/null 2>&1; then
        log_info "SQLite headers or sqlite3 missing"
        apt_install libsqlite3-dev sqlite3 || return 1
        hash -r
        [[ -f /usr/include/sqlite3.h ]] \
            || { log_error "/usr/include/sqlite3.h still missing after apt-get install libsqlite3-dev sqlite3"; return 1; }
    fi
}

# Makes sure python3 is installed (bench.sh reads seckill bench --json and prints its
# report table with it).
ensure_python3() {
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3 || return 1
        hash -r
        command -v python3 >/dev/null 2>&1 || { log_error "python3 still missing after apt-get install python3"; return 1; }
    fi
}

# Sets SECKILL to the seckill executable: the one the caller exported in SECKILL (demo.sh
# passes its build to nodes.sh), else a release build made now (a no-op when up to date).
build_seckill() {
    if [[ -n "${SECKILL:-}" && -x "$SECKILL" ]]; then
        return 0
    fi
    ensure_swift || return 1
    ensure_sqlite || return 1
    log_info "building seckill (release)"
    (cd "$SECKILL_ROOT" && swift build -c release --product seckill </dev/null >/dev/null) \
        || { log_error "swift build -c release --product seckill failed"; return 1; }
    SECKILL="$SECKILL_ROOT/.build/release/seckill"
}

# Fails with a message when the Swift toolchain is missing; prints its version.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        log_error "swift not found on PATH: install a Swift 6 toolchain (https://www.swift.org/install/) and put its usr/bin on PATH"
        return 1
    fi
    log_info "$(swift --version 2>/dev/null | head -n 1)"
}

# Prints the reply of `redis-cli -h HOST -p PORT ping` (PONG, or an error such as NOAUTH
# from a server that wants a password); fails when nothing answered within 2 s.
# REDISCLI_AUTH, when exported, is the password redis-cli sends.
redis_ping() {
    local host="$1" port="$2" reply
    reply="$(timeout 2 redis-cli -h "$host" -p "$port" ping 2>/dev/null)" || return 1
    [[ -n "$reply" ]] || return 1
    printf '%s\n' "$reply"
}

# True when a Redis server answers on HOST:PORT (any reply counts, NOAUTH included).
redis_alive() {
    redis_ping "$1" "$2" >/dev/null
}

# True when PID is a live (not zombie) redis-server process; checked through /proc so a
# recycled pid that now belongs to something else is never taken for one.
pid_is_redis_server() {
    local pid="$1" stat comm state cmd
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    # Fields: pid (comm) state ...; comm may hold spaces and parentheses.
    comm="${stat#*(}"
    comm="${comm%)*}"
    state="${stat##*) }"
    state="${state%% *}"
    [[ "$state" != Z && "$state" != X ]] || return 1
    if [[ "$comm" == redis-server ]]; then
        return 0
    fi
    # Started through another name: look at argv[0] (which redis-server rewrites to
    # "redis-server ADDRESS").
    cmd=""
    IFS= read -r -d '' cmd <"/proc/$pid/cmdline" 2>/dev/null || [[ -n "$cmd" ]] || return 1
    cmd="${cmd%% *}"
    [[ "${cmd##*/}" == redis-server ]]
}

# True while a live (not zombie) process is in process group PGID.
process_group_alive() {
    local pgid="$1" file stat state pgrp
    for file in /proc/[0-9]*/stat; do
        read -r stat 2>/dev/null <"$file" || continue
        # After "pid (comm) ": state ppid pgrp ...
        read -r state _ pgrp _ <<<"${stat##*) }"
        if [[ "$pgrp" == "$pgid" && "$state" != Z && "$state" != X ]]; then
            return 0
        fi
    done
    return 1
}

# descendant_pids PID...: prints, one a line, the live descendants of the given processes
# (children, grandchildren, ...), read from /proc.
descendant_pids() {
    local file stat state ppid pid queue=("$@") i=0
    local -A children=()
    for file in /proc/[0-9]*/stat; do
        read -r stat 2>/dev/null <"$file" || continue
        pid="${stat%% *}"
        read -r state ppid _ <<<"${stat##*) }"
        if [[ "$state" != Z && "$state" != X ]]; then
            children["$ppid"]+=" $pid"
        fi
    done
    while ((i < ${#queue[@]})); do
        for pid in ${children[${queue[$i]}]:-}; do
            printf '%s\n' "$pid"
            queue+=("$pid")
        done
        i=$((i + 1))
    done
}

# pids_with_env NAME=VALUE: prints, one a line, the processes (other than this shell) whose
# environment holds exactly that entry.
pids_with_env() {
    local entry="$1" file pid
    # grep runs without NAME in its own environment, so it does not find itself.
    env -u "${entry%%=*}" grep -lxzF -e "$entry" /proc/[0-9]*/environ 2>/dev/null \
        | while IFS= read -r file; do
            pid="${file#/proc/}"
            pid="${pid%/environ}"
            if [[ "$pid" != "$$" ]]; then
                printf '%s\n' "$pid"
            fi
        done || true # grep fails when nothing matched or a process went away meanwhile
}

# exec_without_fds COMMAND...: runs COMMAND (in place of the calling (sub)shell) with every
# file descriptor above 2 closed, so a daemon it starts holds no pipe or lock of the
# caller's (a caller capturing our output would otherwise wait for that daemon to exit).
exec_without_fds() {
    local path fd
    for path in /proc/self/fd/*; do
        fd="${path##*/}"
        if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then
            exec {fd}>&- 2>/dev/null || true
        fi
    done
    exec "$@"
}

# True while PID runs (a zombie does not count).
pid_alive() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat="${stat##*) }"
    [[ "${stat%% *}" != Z && "${stat%% *}" != X ]]
}

# terminate_pids PID...: SIGTERM, then SIGKILL to those still running after ~3 s.
terminate_pids() {
    local pid left=() i
    (($# > 0)) || return 0
    kill -TERM -- "$@" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        left=()
        for pid in "$@"; do
            if pid_alive "$pid"; then
                left+=("$pid")
            fi
        done
        ((${#left[@]} > 0)) || return 0
        sleep 0.1
    done
    log_warn "still running after SIGTERM, sending SIGKILL: ${left[*]}"
    kill -KILL -- "${left[@]}" 2>/dev/null || true
}

# live_redis_pids PID...: prints, one a line, the pids that are live redis-server processes.
live_redis_pids() {
    local pid
    for pid in "$@"; do
        if pid_is_redis_server "$pid"; then
            printf '%s\n' "$pid"
        fi
    done
}

# kill_redis_pids PID...: SIGTERM to each pid that is a redis-server, SIGKILL after ~3 s
# to those still running. Does nothing to pids that are not redis-server processes.
kill_redis_pids() {
    local live=() left=() pid i
    mapfile -t live < <(live_redis_pids "$@")
    ((${#live[@]} > 0)) || return 0
    log_info "sending SIGTERM to redis-server pid(s) ${live[*]}"
    kill -TERM "${live[@]}" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        left=()
        for pid in "${live[@]}"; do
            if pid_is_redis_server "$pid"; then
                left+=("$pid")
            fi
        done
        if ((${#left[@]} == 0)); then
            return 0
        fi
        sleep 0.1
    done
    log_warn "redis-server still running after SIGTERM, sending SIGKILL: ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
}

# free_port: prints a loopback TCP port on which nothing listens, from 20000-29999: below
# Linux's ephemeral range (32768-60999), so neither outgoing connections nor the tests'
# servers (which take ephemeral ports) pick it meanwhile, and low enough for a cluster bus
# port (port + 10000). Another program may still take it before it is used; redis_start
# then fails.
free_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 10000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    log_error "no free port found in 20000-29999 after 200 tries"
    return 1
}

# redis_pidfile_pid FILE: prints the pid in a pid file; fails when there is none.
redis_pidfile_pid() {
    local pid
    pid="$(tr -dc '0-9' 2>/dev/null <"$1" || true)"
    [[ -n "$pid" ]] || return 1
    printf '%s\n' "$pid"
}

# redis_start DIR NAME HOST PORT [redis-server option...]: the one place the scripts start
# redis-server. Starts a daemon without persistence whose files are in DIR: the pid file
# DIR/NAME.pid (written by the server once it listens), the log DIR/NAME.log and the
# working directory DIR/NAME. The options (e.g. --bind, --requirepass, --cluster-enabled)
# are added at the end; without --bind it listens on HOST. Waits until the server of that
# pid file answers PING (NOAUTH counts) on HOST:PORT, TIMEOUT seconds at most (variable
# REDIS_START_TIMEOUT, default 10); on failure, stops it and fails naming its log.
redis_start() {
    local dir="$1" name="$2" host="$3" port="$4" pid="" arg deadline last
    local bind=(--bind "$host")
    shift 4
    for arg in "$@"; do
        if [[ "$arg" == --bind ]]; then
            bind=()
        fi
    done
    mkdir -p -- "$dir/$name" || return 1
    rm -f -- "$dir/$name.pid"
    # Without inherited descriptors: the daemon must hold neither a lock nor a pipe of
    # whoever runs the script (a caller capturing our output would wait for it to exit).
    # What it prints before opening its log (bad options) is appended to that same log;
    # the path in the arguments is not read here.
    # shellcheck disable=SC2094
    if ! (exec_without_fds redis-server --port "$port" ${bind[@]+"${bind[@]}"} \
        --save "" --appendonly no --daemonize yes \
        --pidfile "$dir/$name.pid" --logfile "$dir/$name.log" --dir "$dir/$name" "$@") \
        </dev/null >>"$dir/$name.log" 2>&1; then
        log_error "$name: redis-server refused its options; see $dir/$name.log"
        return 1
    fi
    deadline=$((SECONDS + ${REDIS_START_TIMEOUT:-10}))
    while :; do
        if [[ -z "$pid" ]]; then
            pid="$(redis_pidfile_pid "$dir/$name.pid")" || pid=""
        fi
        if [[ -n "$pid" ]] && pid_is_redis_server "$pid" && redis_alive "$host" "$port"; then
            return 0
        fi
        ((SECONDS < deadline)) || break
        sleep 0.1
    done
    redis_stop "$dir/$name.pid" || true
    last="$(grep -v '^[[:space:]]*$' "$dir/$name.log" 2>/dev/null | tail -n 1 || true)"
    log_error "$name: redis-server on $host:$port did not answer PING within ${REDIS_START_TIMEOUT:-10} s; $dir/$name.log: ${last:-empty}"
    return 1
}

# redis_stop PIDFILE...: stops the redis-servers whose pids are in the pid files (SIGTERM,
# SIGKILL after ~3 s), waits until they are gone and removes the files. Pids that are not
# (or no longer) redis-server processes are left alone. Fails when one would not stop.
redis_stop() {
    local file pid pids=() i
    for file in "$@"; do
        [[ -f "$file" ]] || continue
        if pid="$(redis_pidfile_pid "$file")"; then
            pids+=("$pid")
        fi
    done
    if ((${#pids[@]} > 0)); then
        kill_redis_pids "${pids[@]}"
        for ((i = 0; i < 20; i++)); do
            [[ -n "$(live_redis_pids "${pids[@]}")" ]] || break
            sleep 0.1
        done
        if [[ -n "$(live_redis_pids "${pids[@]}")" ]]; then
            log_error "redis-server still running after SIGKILL: $(live_redis_pids "${pids[@]}" | tr '\n' ' ')"
            return 1
        fi
    fi
    rm -f -- "$@"
}

# Makes DIR the script's private directory: on exit (also after INT or TERM) the servers whose
# pid files redis_start left in DIR are stopped and DIR is removed; the exit status is kept.
# A command given after DIR runs first, whatever the status (callcounts.sh removes its probes).
remove_dir_and_servers_on_exit() {
    _SECKILL_EXIT_DIR="$1"
    _SECKILL_EXIT_FIRST=("${@:2}")
    trap _seckill_remove_exit_dir EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# shellcheck disable=SC2317 # runs from the EXIT trap set above
_seckill_remove_exit_dir() {
    local status=$?
    if ((${#_SECKILL_EXIT_FIRST[@]} > 0)); then "${_SECKILL_EXIT_FIRST[@]}" || true; fi
    redis_stop "$_SECKILL_EXIT_DIR"/*.pid || true
    rm -rf -- "$_SECKILL_EXIT_DIR"
    exit "$status"
}
