#!/usr/bin/env bash
# Checks every shell script of the repository with shellcheck (scripts/*.sh and .ci/run) and
# the Swift sources with `swift format lint --strict` (the toolchain's formatter, settings in
# .swift-format: 4-space indent, 140 columns). Format the code with
# `swift format --in-place --recursive Sources Tests Package.swift`.
#
#   scripts/lint.sh
#
# Installs shellcheck with apt-get when missing (non-interactive). Settings, such as
# following `source lib.sh`, are in scripts/.shellcheckrc. Every finding counts, whatever
# its severity: the exit status is 0 only when shellcheck reports nothing.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

cd "$SECKILL_ROOT"

if ! command -v shellcheck >/dev/null 2>&1; then
    log_info "shellcheck missing"
    apt_install shellcheck || die "cannot install shellcheck"
    hash -r
    command -v shellcheck >/dev/null 2>&1 || die "shellcheck still missing after apt-get install shellcheck"
fi

files=(scripts/*.sh .ci/run)
log_info "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#files[@]} files"
if ! shellcheck "${files[@]}"; then
    die "shellcheck reported problems (above)"
fi
log_info "shellcheck: no findings"

ensure_swift
log_info "swift format lint --strict on Sources, Tests and Package.swift"
if ! swift format lint --strict --recursive --parallel Sources Tests Package.swift; then
    die "swift format lint reported problems (above); swift format --in-place --recursive Sources Tests Package.swift fixes most"
fi
log_info "swift format lint: no findings"
