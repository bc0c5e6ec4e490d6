# Sourced (bash) by gpu_check.sh and gpu_accuracy.sh, from the repo root: the
# Python, the carried wheels, the output folder, the run's header and `part`.
#
# In:  TINY=1 (a dry run on this CPU at minimal size), OUT (default
#      runs/<name>[-tiny]), CARRY (default gpu-carry, see gpu_prepare.sh), PYTHON,
#      TOTAL_S (the run's time budget in seconds), RUN_NAME.
# Out: PY, OUT, SUMMARY ($OUT/summary.txt), LOG ($OUT/log.txt), PYTHONPATH,
#      DEADLINE, and the function `part NAME SECONDS CMD...`.
#
# The GPU image has torch 2.11 + torchvision 0.26 and Python 3.12 but no snntorch
# and no network: snntorch's wheel and ours are installed with --no-deps --no-index
# into a folder of their own (put on PYTHONPATH after the working tree, so the
# code that runs is the working tree's, and the wheel is checked to install);
# pytest and its needs only where the image lacks pytest.

TINY=${TINY:-0}
CARRY=${CARRY:-gpu-carry}
if [ "$TINY" = 1 ]; then
  PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
  OUT=${OUT:-runs/${RUN_NAME}-tiny}
  export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1  # a shared 2-core machine: one thread
else
  PY=${PYTHON:-python3}
  OUT=${OUT:-runs/${RUN_NAME}}
fi
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
LOG=$OUT/log.txt
: >"$SUMMARY"
: >"$LOG"
START_S=$(date +%s)
TOTAL_S=${TOTAL_S:-290}
DEADLINE=$((START_S + TOTAL_S))
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# one inductor / Triton cache for every process of the run: a graph compiled by one
# part (or one training) is loaded, not compiled again, by the next
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-/tmp/snnms-inductor-cache}
export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-/tmp/snnms-triton-cache}

say() { echo "$*" | tee -a "$SUMMARY"; }

SITE=${SITE:-/tmp/snnms-site}
rm -rf "$SITE"
mkdir -p "$SITE"
pipi() { "$PY" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile \
           --no-cache-dir --upgrade --target "$SITE" "$@"; }
WHEELS=$CARRY/wheels
if ls "$WHEELS"/snntorch-[0-9]*.whl "$WHEELS"/snntorch_ms-*.whl >/dev/null 2>&1; then
  if pipi "$WHEELS"/snntorch-[0-9]*.whl "$WHEELS"/snntorch_ms-*.whl >>"$LOG" 2>&1; then
    INSTALL="snntorch and snntorch-ms wheels installed (--no-deps --no-index) into $SITE"
  else
    INSTALL="wheel install FAILED (see log.txt)"
  fi
else
  INSTALL="no wheels in $WHEELS (run benchmarks/gpu_prepare.sh here first)"
fi
if ! "$PY" -c "import pytest" >/dev/null 2>&1; then
  if ls "$WHEELS"/pytest-*.whl >/dev/null 2>&1 && pipi "$WHEELS"/{pytest,pluggy,iniconfig,packaging,pygments}-*.whl >>"$LOG" 2>&1; then
    INSTALL="$INSTALL; pytest installed from the carried wheels"
  else
    INSTALL="$INSTALL; pytest MISSING (the suite's part is skipped)"
  fi
fi
export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"

src_hash() { find snntorch_ms -name '*.py' -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16; }
if [ -f "$CARRY/SOURCE" ]; then
  if grep -q "source $(src_hash)" "$CARRY/SOURCE"; then FRESH="wheel built from this snntorch_ms/ source"
  else FRESH="wheel STALE (built from other sources; the working tree's code runs)"; fi
else
  FRESH="no $CARRY/SOURCE"
fi

if COMMIT=$(git rev-parse --short HEAD 2>/dev/null); then
  git diff --quiet HEAD -- snntorch_ms benchmarks 2>/dev/null || COMMIT="$COMMIT+uncommitted"
else
  COMMIT="no git here"
fi
say "# $RUN_NAME, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), TINY=$TINY, budget ${TOTAL_S} s, commit $COMMIT; carry: $(tr '\n' ' ' <"$CARRY/SOURCE" 2>/dev/null || echo 'no SOURCE')"
if command -v nvidia-smi >/dev/null 2>&1; then
  say "card: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
else
  say "card: none (no nvidia-smi)"
fi
say "cpu: $(getconf _NPROCESSORS_ONLN) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"
PYINFO=$("$PY" - 2>>"$LOG" <<'EOF'
import platform, torch, snntorch, snntorch_ms
cuda = torch.cuda.is_available()
try:
    import triton
    tri = triton.__version__
except Exception as err:  # not an error: the Triton rows then report it
    tri = f"none ({type(err).__name__})"
print(f"python {platform.python_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}, "
      f"available {cuda}{', ' + torch.cuda.get_device_name() if cuda else ''}), triton {tri}, "
      f"snntorch {snntorch.__version__}, snntorch_ms {snntorch_ms.__version__} from "
      f"{snntorch_ms.__file__.rsplit('/', 2)[0]}")
EOF
) || PYINFO="python: FAILED to import torch / snntorch / snntorch_ms (see log.txt)"
say "$PYINFO"
say "install: $INSTALL; $FRESH"

# part NAME SECONDS CMD...: run CMD under its own timeout (cut to what is left of the
# run's budget; skipped under MIN_PART_S), output into log.txt and stdout, one line
# with its status and time into summary.txt. A part that fails or times out is a
# result: the next part runs.
part() {
  local name=$1 limit=$2 left t0 rc what
  shift 2
  left=$((DEADLINE - $(date +%s)))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt "${MIN_PART_S:-20}" ]; then
    say "$(printf '%-22s' "$name") SKIPPED: ${left} s left of the budget"
    return 0
  fi
  echo "===== $name (limit ${limit} s): $*" | tee -a "$LOG"
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  case $rc in
    0) what=ok ;;
    124|137) what="TIMED OUT after ${limit} s" ;;
    *) what="FAILED (exit $rc)" ;;
  esac
  say "$(printf '%-22s' "$name") $what, $(( $(date +%s) - t0 )) s${PART_NOTE:+; $PART_NOTE}"
  PART_NOTE=
  return 0
}
