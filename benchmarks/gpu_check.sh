#!/usr/bin/env bash
# The prepared GPU run of issue 12: CUDA parity, then speed and memory, every ratio
# measured in the same run on the same card. At most ~5 minutes on an H200.
#
#   bash benchmarks/gpu_prepare.sh              # once, on the CPU machine: fills gpu-carry/
#   bash benchmarks/gpu_check.sh                # on the GPU machine (results in $OUT)
#   TINY=1 bash benchmarks/gpu_check.sh         # dry run on this CPU, minimal sizes
#
# Parts, most important first; each under its own timeout (cut to what is left of
# TOTAL_S, default 290 s), each writing its result into $OUT as it ends, a failure
# or a time-out recorded in summary.txt and the next part run:
#
#   1 parity-suite   the suite's CUDA tests (fused path eager / compiled / Triton on
#                    CUDA against the CPU reference; ProjLeaky on CUDA) and its bf16
#                    tests                                          -> log.txt
#   2 parity-extra   gpu_parity.py: fused paths x float32/bfloat16 x quad/overlap on
#                    the card, and whole networks (eager, Triton)  -> parity.json
#   3 layer-bf16     neuron_layer.py, bf16: Leaky, ProjLeaky backend reference / auto
#                    (= compiled) / eager / compiled / triton      -> neuron_layer_bf16.json
#   4 layer-fp32     the same in float32                           -> neuron_layer_fp32.json
#   5 step-resnet19  train_step.py ResNet-19, batch 128, bf16 autocast: ReLU, Leaky,
#                    ProjLeaky backend reference / auto / eager / triton
#                                                                  -> train_step_resnet19.json
#   6 step-mixer     the same for the CNN mixer                    -> train_step_cnn-mixer.json
#
# $OUT holds at most these 7 files (the device tool brings back 8): summary.txt
# (card, versions, one line per part), log.txt (everything printed), and the JSONs.
# A Triton or torch.compile failure is a result: the row says FAILED, or "eager fused
# math (torch.compile FAILED)" with the warning, and the run goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
RUN_NAME=gpu-check
if [ "${TINY:-0}" = 1 ]; then TOTAL_S=${TOTAL_S:-1500}; else TOTAL_S=${TOTAL_S:-290}; fi
source benchmarks/gpu_env.sh

if [ "$TINY" = 1 ]; then
  DEV=cpu
  # the Triton rows run in Triton's interpreter, compiled math under aot_eager (no
  # cold inductor compile on two cores); networks at a fraction of their width
  PARITY=(--device cpu --compile-backend aot_eager --tiny --shape 2 3 6 5 --net-paths eager)
  LAYER=(--device cpu --shape 2 8 8 8 --reps 3 --warmup 1 --compile-backend aot_eager)
  STEP=(--device cpu --batch-size 2 --steps 1 --warmup 1)
  RESNET=(--model-arg width=0.125)
  MIXER=(--model-arg "dims=(8,16,16,16)" --model-arg "depths=(1,1,1,1)")
  TI=(env TRITON_INTERPRET=1)
  LIMITS=(120 600 120 120 300 300)
else
  DEV=cuda
  PARITY=(--device cuda --net-paths eager triton)
  LAYER=(--device cuda --reps 50 --warmup 5)
  STEP=(--device cuda --batch-size 128 --steps 20 --warmup 5)
  RESNET=()
  MIXER=()
  TI=()
  # caps per part; the later ones are generous because the run's deadline (TOTAL_S)
  # cuts them anyway, and they get what the earlier parts left
  LIMITS=(70 50 45 40 100 80)
fi
NEURONS=(relu leaky proj-reference proj-auto proj-eager proj-triton)

# Warm-up: compile the fused math's graphs of the timed parts (the neuron layer in
# bf16 and fp32, ResNet-19 and the mixer at batch 128) once into inductor's on-disk
# cache, so that the timed processes load them instead of compiling cold (minutes in
# all). On the GPU it runs in the background while the parity parts (which time
# nothing) run, and is waited for, or stopped, before the first timed part; in the
# dry run it runs in the foreground (two shared cores).
warm_all() {
  local lim=$1
  timeout -k 5 "$lim" "${TI[@]}" "$PY" benchmarks/neuron_layer.py "${LAYER[@]}" --reps 1 --warmup 1 \
    --dtype bfloat16 --backends compiled
  timeout -k 5 "$lim" "${TI[@]}" "$PY" benchmarks/neuron_layer.py "${LAYER[@]}" --reps 1 --warmup 1 \
    --dtype float32 --backends compiled
  timeout -k 5 "$lim" "$PY" benchmarks/train_step.py "${STEP[@]}" "${RESNET[@]}" --warm --warmup 2 \
    --models resnet19 --neurons proj-auto proj-triton
  timeout -k 5 "$lim" "$PY" benchmarks/train_step.py "${STEP[@]}" "${MIXER[@]}" --warm --warmup 2 \
    --models cnn-mixer --neurons proj-auto proj-triton
}
WARM_LOG=/tmp/snnms-gpu-check-warm.log
WARM_T0=$(date +%s)
if [ "$TINY" = 1 ]; then
  echo "===== warm-up (foreground)" | tee -a "$LOG"
  warm_all 120 2>&1 | tee -a "$LOG"
  say "$(printf '%-22s' warm-up) done, $(( $(date +%s) - WARM_T0 )) s"
else
  warm_all 150 >"$WARM_LOG" 2>&1 &
  WARM_PID=$!
fi
# wait_warm SECONDS: let the background warm-up finish (at most SECONDS more), then
# stop it; its log goes into log.txt and its status into summary.txt
wait_warm() {
  [ -n "${WARM_PID:-}" ] || return 0
  local until=$(( $(date +%s) + $1 )) what=done
  while kill -0 "$WARM_PID" 2>/dev/null && [ "$(date +%s)" -lt "$until" ]; do sleep 1; done
  if kill -0 "$WARM_PID" 2>/dev/null; then
    what="STOPPED (not finished)"
    pkill -TERM -P "$WARM_PID" 2>/dev/null; kill "$WARM_PID" 2>/dev/null
  fi
  wait "$WARM_PID" 2>/dev/null
  { echo "===== warm-up (background)"; cat "$WARM_LOG"; } >>"$LOG"
  rm -f "$WARM_LOG"
  say "$(printf '%-22s' warm-up) $what, $(( $(date +%s) - WARM_T0 )) s since the start (background)"
  WARM_PID=
}

if "$PY" -c "import pytest" >/dev/null 2>&1; then
  # -k: the tests that need CUDA (they skip without it) and the bf16 ones; the
  # Triton-interpreter test is a CPU test and slow: left to the CPU suite
  part parity-suite "${LIMITS[0]}" "$PY" -m pytest -q -rs -p no:cacheprovider \
    --continue-on-collection-errors --ignore=tests/test_docs.py tests \
    -k "(cuda or bfloat16 or triton) and not interpreter"
  say "  pytest: $(grep -E '[0-9]+ (passed|failed|skipped|error)' "$LOG" | tail -1)"
else
  say "parity-suite           SKIPPED: no pytest"
fi
part parity-extra "${LIMITS[1]}" "${TI[@]}" "$PY" benchmarks/gpu_parity.py "${PARITY[@]}" \
  --json "$OUT/parity.json"
say "  $(grep -E '^# [0-9]+ of [0-9]+ cases' "$LOG" | tail -1)"
wait_warm "${WARM_WAIT_S:-40}"
part layer-bf16 "${LIMITS[2]}" "${TI[@]}" "$PY" benchmarks/neuron_layer.py "${LAYER[@]}" \
  --dtype bfloat16 --backends reference auto eager compiled triton --json "$OUT/neuron_layer_bf16.json"
part layer-fp32 "${LIMITS[3]}" "${TI[@]}" "$PY" benchmarks/neuron_layer.py "${LAYER[@]}" \
  --dtype float32 --backends reference auto eager compiled triton --json "$OUT/neuron_layer_fp32.json"
part step-resnet19 "${LIMITS[4]}" "$PY" benchmarks/train_step.py "${STEP[@]}" "${RESNET[@]}" \
  --models resnet19 --neurons "${NEURONS[@]}" --json "$OUT/train_step_resnet19.json"
part step-mixer "${LIMITS[5]}" "$PY" benchmarks/train_step.py "${STEP[@]}" "${MIXER[@]}" \
  --models cnn-mixer --neurons "${NEURONS[@]}" --json "$OUT/train_step_cnn-mixer.json"

# the targets of issue 12, read off whatever JSON came out
"$PY" - "$OUT" >>"$SUMMARY" 2>>"$LOG" <<'EOF' || true
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
def rows(name):
    p = out / name
    return json.loads(p.read_text())["rows"] if p.is_file() else []
f = lambda v: "-" if v is None else f"{v:.2f}"
for dt in ("bf16", "fp32"):
    r = {x["kind"]: x for x in rows(f"neuron_layer_{dt}.json")}
    if r:
        print(f"target layer {dt}: fused <= 1.0x Leaky: " + ", ".join(
            f"{k} {f(v.get('ratio_vs_leaky'))}x ({v.get('ran') or v.get('error', '')[:60]})"
            for k, v in r.items() if k != "leaky"))
for model in ("resnet19", "cnn-mixer"):
    r = rows(f"train_step_{model}.json")
    if r:
        print(f"target {model} step: ProjLeaky <= 1.15x ReLU time, <= 1.5x ReLU peak: " + ", ".join(
            f"{x['neuron']} t {f(x.get('time_vs_relu'))}x m {f(x.get('mem_vs_relu'))}x"
            for x in r if x["neuron"] != "relu"))
EOF
tail -4 "$SUMMARY" | grep '^target' || true
say "# done in $(( $(date +%s) - START_S )) s; files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
echo
echo "=================== summary ($SUMMARY)"
cat "$SUMMARY"
