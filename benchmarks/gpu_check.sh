#!/usr/bin/env bash
# One prepared run for the GPU machine (not run in the session that wrote it: no
# GPU was lent). CUDA parity tests of the fused path, then both benchmarks, every
# ratio measured in the same run on the same card.
#
#   WHEELS=/path/with/wheels bash benchmarks/gpu_check.sh [OUT_DIR]
#
# WHEELS: a folder holding snntorch's wheel (the GPU image has torch but no
# snntorch and no network); installed with --no-deps. Cold torch.compile graphs
# (fused math, one per layer shape) cost about a minute each the first time.
set -euo pipefail
OUT=${1:-${OUT:-bench-gpu}}
PY=${PYTHON:-python}
mkdir -p "$OUT"
if ! $PY -c "import snntorch" 2>/dev/null; then
  $PY -m pip install -q --no-deps --no-index "${WHEELS:?set WHEELS to a folder holding the snntorch wheel}"/snntorch-*.whl
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
if $PY -c "import pytest" 2>/dev/null; then
  $PY -m pytest -q -p no:cacheprovider tests/functional/test_fused.py -k "cuda or triton" 2>&1 | tail -5 | tee "$OUT/tests.txt"
fi
$PY benchmarks/neuron_layer.py --device cuda --dtype bfloat16 --reps 50 --fused-compile --triton \
  --json "$OUT/neuron_layer_bf16.json" | tee "$OUT/neuron_layer_bf16.txt"
$PY benchmarks/neuron_layer.py --device cuda --dtype float32 --reps 50 --fused-compile --triton \
  --json "$OUT/neuron_layer_fp32.json" | tee "$OUT/neuron_layer_fp32.txt"
$PY benchmarks/train_step.py --device cuda --batch-size 128 --steps 20 \
  --json "$OUT/train_step.json" | tee "$OUT/train_step.txt"
