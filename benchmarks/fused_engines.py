"""What each implementation of ProjLeaky's time step buys: one layer, forward +
backward, every engine measured in the same run, ratios against snntorch's Leaky.

    python benchmarks/fused_engines.py                    # CPU, float32
    python benchmarks/fused_engines.py --compile          # + the 'compiled' engine
    python benchmarks/fused_engines.py --device cuda      # + Triton kernels on CUDA
    python benchmarks/fused_engines.py --json out.json

Rows:

* ``leaky``: snntorch.Leaky (the baseline of every ratio);
* ``reference``: ProjLeaky(backend="reference"), autograd over the pure functions;
* ``eager``: ProjLeaky(backend="eager"), the fused eager engine ("auto" on the CPU);
* ``compiled`` (``--compile``): ProjLeaky(backend="compiled"), the pure math
  through torch.compile, "auto" on CUDA (a cold inductor compile on a CPU takes
  minutes);
* ``triton`` (CUDA with triton): ProjLeaky(backend="triton"), the hand-written kernels.

and the ablation of the eager engine, which no ``backend`` names: the engine's own
forward and backward functions called directly (as the parity tests call them), on
the same input, the backward given the gradient of ``spk.sum()``; they leave out
the neuron's per-call work (layout checks, the autograd function), so compare them
with each other:

* ``eager-math``: the eager engine's functions as the neuron runs them;
* ``eager-spec``: the same with its in-place fast paths off (the spec's formulas
  only): what the fast paths buy;
* ``pure-eager``: the pure fused math run without compiling: what the eager
  engine's preallocated buffers buy.

Nothing of the package is replaced: the neuron rows choose their engine through
``backend``, the ablation rows call the engine functions with their own arguments.

Each row: warm-up iterations, then the median of ``--reps`` timed iterations
(reset, forward, ``spk.sum()``'s backward), rows round-robin so that drift on a
shared machine spreads over all of them (``timing.py``, the harness every timing
script shares).
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import snntorch as snn  # noqa: E402
from snntorch import surrogate  # noqa: E402

import timing  # noqa: E402  (benchmarks/timing.py)
from snntorch_ms import ProjLeaky  # noqa: E402
from snntorch_ms.functional.fused import FusedConfig, backend, eager, pure  # noqa: E402
from snntorch_ms.functional.fused.config import disjoint  # noqa: E402

#: The ablation rows: the eager engine's (forward, backward), called directly.
ABLATIONS = {
    "eager-math": (eager.forward, eager.backward),
    "eager-spec": (functools.partial(eager.forward, fast_paths=False),
                   functools.partial(eager.backward, fast_paths=False)),
    "pure-eager": (pure.forward, pure.backward),
}


def neuron_step(row, windows, x0, device):
    """One iteration of a neuron row: reset, ``spk, mem = neuron(x)``,
    ``spk.sum().backward()``."""
    sg = surrogate.atan(alpha=2.0)
    if row == "leaky":
        neuron = snn.Leaky(beta=0.5, threshold=1.0, spike_grad=sg)
    else:
        neuron = ProjLeaky(0.5, threshold=1.0, spike_grad=sg, windows=windows, backend=row)
    neuron = neuron.to(device)

    def step():
        x = x0.clone().requires_grad_()
        neuron.mem = torch.zeros(0, device=device)
        spk, _ = neuron(x)
        spk.sum().backward()

    return step


def engine_step(row, windows, x0, device):
    """One iteration of an ablation row: the engine's forward from a zero membrane,
    then its backward with the gradient of ``spk.sum()`` reaching the input."""
    forward, backward = ABLATIONS[row]
    height, width = x0.shape[-2:]
    cfg = FusedConfig.for_map(height, width, windows, 4, "sincos", "subtract", "or",
                              ("atan", 2.0))
    t, b, l, r = cfg.boxes[-1]
    carried = torch.zeros_like(x0[..., t:b, l:r])
    beta, thr, theta, gsf = (torch.tensor(v, device=device) for v in (0.5, 1.0, 0.5, 1.0))
    needs = (True, False, False, False, False, False)  # the input's gradient only

    def step():
        with torch.no_grad():
            spk, mem = forward(cfg, x0, carried, None, beta, thr, theta, gsf)
            saved_x, saved_mem = (None, mem) if disjoint(cfg) else (x0, None)
            backward(cfg, needs, saved_x, carried, None, beta, thr, theta, gsf,
                     torch.ones_like(spk), None, saved_mem)

    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--shape", type=int, nargs=4, default=[32, 64, 32, 32])
    p.add_argument("--windows", default="quad", choices=["quad", "overlap"])
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--compile", action="store_true", help="add the 'compiled' engine")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = ["leaky", "reference", "eager", *ABLATIONS]
    if args.compile or device.type == "cuda":
        rows.append("compiled")
    if device.type == "cuda" and backend.triton_available():
        rows.append("triton")
    torch.manual_seed(0)
    x0 = torch.randn(*args.shape, device=device) + 0.5

    def setup(row):
        make = engine_step if row in ABLATIONS else neuron_step
        return make(row, args.windows, x0, device), row

    timings = timing.measure(rows, setup, warmup=args.warmup, reps=args.reps, device=device)
    failed = [t.name for t in timings if t.error]
    if failed:
        raise SystemExit(f"rows failed: {failed}")
    base = timings[0].ms / 1e3
    result = {"device": str(device), "shape": args.shape, "windows": args.windows,
              "threads": args.threads, "torch": torch.__version__,
              "machine": platform.processor() or platform.machine(), "rows": {}}
    print(f"{'row':<15}{'ms':>9}{'x Leaky':>9}")
    for t in timings:
        ms = t.ms
        ratio = ms / (base * 1e3)
        result["rows"][t.name] = {"ms": round(ms, 2), "ratio_vs_leaky": round(ratio, 3)}
        print(f"{t.name:<15}{ms:>9.1f}{ratio:>9.2f}")
    print(timing.compare_table(timings, "one layer, forward + backward"))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
