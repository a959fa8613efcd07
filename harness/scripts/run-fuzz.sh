#!/usr/bin/env bash
# Runs the libFuzzer targets (docs/FUZZING.md).
#
#   harness/scripts/run-fuzz.sh SECONDS [TARGET...]   fuzz each target (all by default) for SECONDS
#   harness/scripts/run-fuzz.sh --merge [TARGET...]   fold the last run's new inputs into the seed corpora
#
# Configures build-fuzz (clang, -DDVS_FUZZ=ON) if it is not there, builds dvs_fuzz_targets, then
# runs each target on a scratch copy of its seed corpus (build-fuzz/fuzz-work/<target>/corpus; the
# repository is never written) with -max_total_time=SECONDS -timeout=10 -rss_limit_mb=2048, and
# prints libFuzzer's final stats (executions, exec/s, coverage) of each. Exits non-zero if any
# target found a crash, a leak, a timeout or an out-of-memory, naming the reproducer.
# Environment: FUZZ_BUILD (build directory, default build-fuzz), JOBS (build jobs, default 2),
# FUZZ_ARGS (more libFuzzer flags, e.g. "-jobs=2" or "-only_ascii=1").
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=$(realpath -m "${FUZZ_BUILD:-build-fuzz}")
JOBS=${JOBS:-2}

usage() {
  echo "usage: $0 SECONDS [TARGET...] | --merge [TARGET...]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
MODE=run
SECONDS_PER_TARGET=0
if [ "$1" = "--merge" ]; then
  MODE=merge
else
  if ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -eq 0 ]; then usage; fi
  SECONDS_PER_TARGET=$1
fi
shift

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DDVS_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug -DDVS_WERROR=ON || exit 1
fi
cmake --build "$BUILD" --target dvs_fuzz_targets -j "$JOBS" || exit 1

MANIFEST=$BUILD/fuzz/targets.tsv
declare -A BIN CORPUS DICT
ALL=()
while IFS=$'\t' read -r name bin corpus dict; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  ALL+=("$name")
  BIN[$name]=$bin
  CORPUS[$name]=$corpus
  DICT[$name]=$dict
done <"$MANIFEST"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
  if [ -z "${BIN[$t]:-}" ]; then
    echo "run-fuzz: no fuzz target '$t' (have: ${ALL[*]})" >&2
    exit 2
  fi
done

# --merge: the inputs of the last run that add coverage go into the seed corpus (sha1 names).
if [ "$MODE" = merge ]; then
  for t in "${TARGETS[@]}"; do
    work=$BUILD/fuzz-work/$t/corpus
    if [ ! -d "$work" ]; then
      echo "run-fuzz: $t: no run to merge ($work); run it first (make fuzz)"
      continue
    fi
    before=$(find "${CORPUS[$t]}" -type f | wc -l)
    "${BIN[$t]}" -merge=1 -timeout=10 -rss_limit_mb=2048 "${CORPUS[$t]}" "$work" >"$BUILD/fuzz-work/$t/merge.log" 2>&1 || {
      echo "run-fuzz: $t: merge failed, see $BUILD/fuzz-work/$t/merge.log" >&2
      exit 1
    }
    after=$(find "${CORPUS[$t]}" -type f | wc -l)
    echo "run-fuzz: $t: $((after - before)) new inputs in ${CORPUS[$t]} (review, then git add)"
  done
  exit 0
fi

# A value of libFuzzer's final stats in $work/log.txt, and a field of its last status line.
final_stat() { sed -n "s/^stat::$1:[[:space:]]*//p" "$work/log.txt" | tail -1; }
field() { sed -n "s/.* $1: \([^ ]*\).*/\1/p" <<<"$status"; }

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
SUMMARY=()
FAILED=()
for t in "${TARGETS[@]}"; do
  work=$BUILD/fuzz-work/$t
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -R "${CORPUS[$t]}/." "$work/corpus/"
  args=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$work/artifacts/")
  [ -n "${DICT[$t]}" ] && args+=(-dict="${DICT[$t]}")
  # shellcheck disable=SC2206
  [ -n "${FUZZ_ARGS:-}" ] && args+=($FUZZ_ARGS)
  echo "run-fuzz: $t for ${SECONDS_PER_TARGET} s (log: $work/log.txt)"
  # The outer timeout only guards against a hung harness; libFuzzer stops itself.
  timeout --kill-after=30 $((SECONDS_PER_TARGET + 300)) "${BIN[$t]}" "${args[@]}" "$work/corpus" >"$work/log.txt" 2>&1
  rc=$?
  # libFuzzer's last status line ("#N DONE cov: C ft: F corp: ...") and its final stats.
  status=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED|RELOAD)' "$work/log.txt" | tail -1)
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::' "$work/log.txt" | sed "s/^/  $t: /"
  execs=$(final_stat number_of_executed_units)
  line=$(printf '%-26s %12s execs %8s/s  cov %6s  ft %7s  corp %-14s new %5s  rss %5s MB' "$t" "${execs:-?}" \
    "$(final_stat average_exec_per_sec)" "$(field cov)" "$(field ft)" "$(field corp)" "$(final_stat new_units_added)" \
    "$(final_stat peak_rss_mb)")
  if [ $rc -eq 0 ]; then
    SUMMARY+=("$line  ok")
    continue
  fi
  SUMMARY+=("$line  FAILED (exit $rc)")
  FAILED+=("$t")
  echo "run-fuzz: $t FAILED (exit $rc); the end of $work/log.txt:"
  tail -n 60 "$work/log.txt" | sed 's/^/    /'
  found=0
  for a in "$work"/artifacts/crash-* "$work"/artifacts/leak-* "$work"/artifacts/timeout-* "$work"/artifacts/oom-*; do
    [ -e "$a" ] || continue
    found=1
    echo "run-fuzz: reproducer: $a"
    echo "run-fuzz:   run it:      ${BIN[$t]} $a"
    echo "run-fuzz:   minimize it: ${BIN[$t]} -minimize_crash=1 -runs=100000 -artifact_prefix=$work/artifacts/min- $a"
  done
  [ $found -eq 1 ] || echo "run-fuzz: $t wrote no reproducer (killed? see $work/log.txt)"
done

echo "run-fuzz: ${SECONDS_PER_TARGET} s per target:"
for l in "${SUMMARY[@]}"; do echo "  $l"; done
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "run-fuzz: FAILED: ${FAILED[*]}" >&2
  exit 1
fi
echo "run-fuzz: all ${#TARGETS[@]} targets ran clean"
