#!/usr/bin/env bash
# `make run`: install what it needs, configure, build dvs and dvsd, run `dvs run` and `dvs report`.
# apt's and the compiler's output, and dvs run's progress lines, go to the log file
# (BUILD/make-run.log); the terminal gets one line per phase, then dvs run's table and the
# report's path. When a phase fails: the last lines of the log, the log's path, and a non-zero
# exit status (1 for install / configure / build; dvs run's or dvs report's own status).
#
# Environment (the Makefile sets them): BUILD (build directory), JOBS, CMAKE_FLAGS.
set -uo pipefail

BUILD=${BUILD:-build}
JOBS=${JOBS:-2}
CMAKE_FLAGS=${CMAKE_FLAGS:--DCMAKE_BUILD_TYPE=RelWithDebInfo -DDVS_WERROR=ON}
TARGETS=(dvs_cli dvsd)  # the dvs command and the node daemon: all that dvs run and dvs report execute
FAIL_TAIL_LINES=30

mkdir -p "$BUILD"
LOG=$BUILD/make-run.log
: >"$LOG"
echo "make run: apt and compiler output go to $LOG"

# phase NUMBER TITLE COMMAND...: one line on the terminal, the command's output appended to the log.
phase() {
  local n=$1 title=$2
  shift 2
  echo "[$n/4] $title"
  echo "==== [$n/4] $title: $*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    echo "make run: failed while $title; the last $FAIL_TAIL_LINES lines of $LOG:" >&2
    tail -n "$FAIL_TAIL_LINES" "$LOG" >&2
    echo "make run: full log: $LOG" >&2
    exit 1
  fi
}

# shellcheck disable=SC2086  # CMAKE_FLAGS is a list of options
phase 1 "installing packages (harness/scripts/install-deps.sh run)..." bash harness/scripts/install-deps.sh run
phase 2 "configuring ($BUILD)..." cmake -S . -B "$BUILD" $CMAKE_FLAGS
phase 3 "building... (${#TARGETS[@]} targets: ${TARGETS[*]}, -j$JOBS)" cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"

# dvs run: the table on stdout; its progress (one line per loop) and any error on stderr, into the log.
echo "[4/4] running dvs run (~1-2 min; a line per loop in $LOG), then dvs report..."
echo "==== [4/4] dvs run" >>"$LOG"
"$BUILD/bin/dvs" run 2>>"$LOG"
rc=$?
if [ $rc -ne 0 ]; then
  echo "make run: dvs run exited with status $rc; the last $FAIL_TAIL_LINES lines of $LOG:" >&2
  tail -n "$FAIL_TAIL_LINES" "$LOG" >&2
  echo "make run: full log: $LOG" >&2
  exit $rc
fi
"$BUILD/bin/dvs" report --latest || exit $?  # HTML + Markdown report of that run (docs/REPORT.md); prints where
echo "make run: log of the install, the build and dvs run's progress: $LOG"
