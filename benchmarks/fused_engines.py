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
* ``eager-spec`` (ablation): the same engine with its in-place fast paths off (the
  spec's formulas only): what the fast paths buy;
* ``pure-eager`` (ablation): the pure fused math run without compiling: what the
  eager engine's preallocated buffers buy;
* ``compiled`` (``--compile``): ProjLeaky(backend="compiled"), the pure math
  through torch.compile, "auto" on CUDA (a cold inductor compile on a CPU takes
  minutes);
* ``triton`` (CUDA with triton): ProjLeaky(backend="triton"), the hand-written kernels.

The engines are chosen through the neuron's ``backend``; the two ablation rows
are no engine a user can choose, and swap the eager engine's functions for this
benchmark only.

Each row: warm-up iterations, then the median of ``--reps`` timed iterations of
reset, ``spk, mem = neuron(x)``, ``spk.sum().backward()``; the rows run round-robin
so that drift on a shared machine spreads over all of them.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import snntorch as snn  # noqa: E402
from snntorch import surrogate  # noqa: E402

from snntorch_ms import ProjLeaky  # noqa: E402
from snntorch_ms.functional.fused import backend, eager, pure  # noqa: E402

ENGINES = {
    "eager": None,
    "eager-spec": (functools.partial(eager.forward, fast_paths=False),
                   functools.partial(eager.backward, fast_paths=False)),
    "pure-eager": (pure.forward, pure.backward),
}


def make(row, windows):
    sg = surrogate.atan(alpha=2.0)
    if row == "leaky":
        return snn.Leaky(beta=0.5, threshold=1.0, spike_grad=sg)
    engine = "eager" if row in ENGINES else row
    return ProjLeaky(0.5, threshold=1.0, spike_grad=sg, windows=windows, backend=engine)


def engine_table(row):
    """The eager engine's functions of a row (the ablations swap them)."""
    engines = {"fwd": (eager.forward, pure.forward), "bwd": (eager.backward, pure.backward)}
    if row in ("eager-spec", "pure-eager"):
        fwd, bwd = ENGINES[row]
        engines = {"fwd": (fwd, fwd), "bwd": (bwd, bwd)}
    return engines


def time_row(row, neuron, x0, device):
    old_engines = backend._ENGINES
    backend._ENGINES = engine_table(row)
    try:
        x = x0.clone().requires_grad_()
        neuron.mem = torch.zeros(0, device=device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        spk, _ = neuron(x)
        spk.sum().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start
    finally:
        backend._ENGINES = old_engines


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
    rows = ["leaky", "reference", "eager", "eager-spec", "pure-eager"]
    if args.compile or device.type == "cuda":
        rows.append("compiled")
    if device.type == "cuda" and backend.triton_available():
        rows.append("triton")
    torch.manual_seed(0)
    x0 = torch.randn(*args.shape, device=device) + 0.5
    neurons = {row: make(row, args.windows).to(device) for row in rows}
    times = {row: [] for row in rows}
    for i in range(args.warmup + args.reps):
        for row in rows:  # round-robin: drift spreads over every row
            t = time_row(row, neurons[row], x0, device)
            if i >= args.warmup:
                times[row].append(t)
    base = statistics.median(times["leaky"])
    result = {"device": str(device), "shape": args.shape, "windows": args.windows,
              "threads": args.threads, "torch": torch.__version__,
              "machine": platform.processor() or platform.machine(), "rows": {}}
    print(f"{'row':<15}{'ms':>9}{'x Leaky':>9}")
    for row in rows:
        ms = statistics.median(times[row]) * 1e3
        ratio = ms / (base * 1e3)
        result["rows"][row] = {"ms": round(ms, 2), "ratio_vs_leaky": round(ratio, 3)}
        print(f"{row:<15}{ms:>9.1f}{ratio:>9.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
