#!/usr/bin/env bash
# The prepared GPU run of issue 13: the accuracy table at full scale on real
# Fashion-MNIST (60,000 / 10,000, 10 epochs, the CLI's recipe), every training in its
# own process, all at once. At most ~6 minutes on an H200 (budget TOTAL_S, default
# 345 s, of which the trainings get what is left after the setup minus 15 s).
#
#   bash benchmarks/gpu_prepare.sh            # once, on the CPU machine: fills gpu-carry/
#   bash benchmarks/gpu_accuracy.sh           # on the GPU machine (results in $OUT)
#   TINY=1 bash benchmarks/gpu_accuracy.sh    # dry run on this CPU: 64/64 images, 1 epoch
#
# Extra arguments go to gpu_accuracy.py (e.g. --only convnet-relu convnet-proj-T1,
# --backend eager, --best-t1 '<json>', --jobs 6).
# $OUT: summary.txt, log.txt (the driver), results.jsonl (one line per finished
# training, written as it ends), workers.log (each training's own output), table.md.
set -uo pipefail
cd "$(dirname "$0")/.."
RUN_NAME=gpu-accuracy
if [ "${TINY:-0}" = 1 ]; then TOTAL_S=${TOTAL_S:-1500}; else TOTAL_S=${TOTAL_S:-345}; fi
source benchmarks/gpu_env.sh

if [ "$TINY" = 1 ]; then
  ARGS=(--tiny --threads 1)
  part selftest 120 "$PY" benchmarks/gpu_accuracy.py --selftest --device cpu
else
  ARGS=(--device cuda)
fi
BUDGET=$((DEADLINE - $(date +%s) - 15))
# the driver keeps its own budget (it stops what still runs and writes the table), so
# the part's timeout only catches a driver that hangs
part trainings $((BUDGET + 12)) "$PY" benchmarks/gpu_accuracy.py "${ARGS[@]}" --budget "$BUDGET" \
  --out "$OUT" --work /tmp/snnms-acc-work --data "$CARRY/data" "$@"
say "# done in $(( $(date +%s) - START_S )) s; files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
echo
echo "=================== summary ($SUMMARY)"
cat "$SUMMARY"
[ -f "$OUT/table.md" ] && cat "$OUT/table.md"
