#!/usr/bin/env bash
# Runs the whole test suite under a sanitizer: the test runner, the berth
# host, its workers (the same binary, posix_spawn'ed) and the Swift example
# plugins are all built instrumented; the C plugins the tests compile with cc
# are not, and need not be. Fails on a failed test, and on any sanitizer
# report from any of those processes, even one a test did not notice (a
# worker that reported and was restarted).
#
#   Tests/sanitizers.sh address|thread [swift test arguments, e.g. --filter X]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case "$kind" in
  address|thread) shift ;;
  *) echo "usage: Tests/sanitizers.sh address|thread [swift test arguments]" >&2; exit 2 ;;
esac

# Tests that bound a worker's memory skip those bounds under a sanitizer,
# whose allocator's quarantine and shadow memory swamp them.
export BERTH_SANITIZER="$kind"
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
# Every instrumented process writes its reports to $reports/report.<pid>.
# handle_segv=0 and friends keep a crash a signal: the tests check that a
# worker killed by SIGSEGV is logged as such, and ASan's own handler would
# turn it into "exited with code 1".
common="log_path=$reports/report:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0"
extra=()
if [ "$kind" = address ]; then
  # LeakSanitizer reports objects XCTest itself never frees.
  export ASAN_OPTIONS="$common:detect_leaks=0"
else
  export TSAN_OPTIONS="$common"
  # A TSan-built Swift plugin calls these; dlopen fails unless the host
  # exports them.
  for symbol in __tsan_external_write __tsan_external_read __tsan_ignore_thread_begin __tsan_ignore_thread_end; do
    extra+=(-Xlinker "--export-dynamic-symbol=$symbol")
  done
fi

set +e
swift test --sanitize="$kind" --scratch-path ".build/sanitize-$kind" ${extra[@]+"${extra[@]}"} "$@"
status=$?
set -e
if compgen -G "$reports/report.*" >/dev/null; then
  for report in "$reports"/report.*; do
    echo "==== $kind sanitizer report ($report):" >&2
    cat "$report" >&2
  done
  echo "$kind sanitizer: reports above" >&2
  exit 1
fi
[ "$status" -eq 0 ] && echo "$kind sanitizer: whole suite passed, no reports"
exit "$status"
