#!/usr/bin/env bash
# Run every atheris target for SECONDS each (default 60), one after the other.
# New inputs go to $WORK/<target> (default /tmp/tlsbench-fuzz); the seed corpus is read only.
# Logs: $WORK/<target>.log; a failure leaves $WORK/crash-* and a non-zero exit.
#   fuzz/run.sh 300                 # the documented longer run (5 minutes a target)
#   fuzz/run.sh 10 handshake        # one target
#   FUZZ_RUNS=50000 fuzz/run.sh     # CI: 50,000 inputs a target, seed 1, repeatable
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("${@:-handshake extensions record core_open server client}")
WORK="${WORK:-/tmp/tlsbench-fuzz}"
mkdir -p "$WORK"
status=0
for target in ${TARGETS[@]}; do
    mkdir -p "$WORK/$target"
    if [ -n "${FUZZ_RUNS:-}" ]; then
        bound=(-runs="$FUZZ_RUNS" -seed=1)  # a fixed count and seed: the same inputs every time
        export PYTHONHASHSEED=0
        echo "== $target: $FUZZ_RUNS inputs, seed 1"
    else
        bound=(-max_total_time="$SECONDS_EACH")
        echo "== $target: ${SECONDS_EACH}s"
    fi
    if ! python3 atheris_fuzz.py "$target" "${bound[@]}" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$WORK/" -print_final_stats=1 \
        "$WORK/$target" "corpus/$target" >"$WORK/$target.log" 2>&1; then
        status=1
        tail -n 30 "$WORK/$target.log"
    fi
    grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|#[0-9]+\s+DONE" \
        "$WORK/$target.log" || true
done
exit "$status"
