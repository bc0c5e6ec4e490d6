"""Benchmark (a): one neuron layer, forward + backward, on the same input and surrogate.

snntorch ``Leaky`` against ``ProjLeaky`` (quad, 4 windows, sincos, atan) on the
engines named by ``--backends`` (values of its ``backend`` setting; default: the
reference path and ``"auto"``), all measured in the same run; ratios are against
Leaky.

    python benchmarks/neuron_layer.py                      # CPU, float32, eager
    python benchmarks/neuron_layer.py --device cuda --dtype bfloat16
    python benchmarks/neuron_layer.py --compile            # torch.compile every module
    python benchmarks/neuron_layer.py --backends reference eager compiled   # one row each
    python benchmarks/neuron_layer.py --json out.json

Each iteration: reset the state, ``spk, mem = neuron(x)``, ``spk.sum().backward()``
(gradient to the input). Warm-up iterations first, then the median of ``--reps``
timed iterations (CUDA: synchronised).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import timing  # noqa: E402  (benchmarks/timing.py)

import snntorch as snn  # noqa: E402
from snntorch import surrogate  # noqa: E402

from snntorch_ms import ProjLeaky  # noqa: E402
from snntorch_ms.functional.fused import BACKENDS, configure  # noqa: E402


def make(kind: str, lateral: bool):
    """``"leaky"``, or ``"proj-<backend>"``: a ProjLeaky with that ``backend``."""
    sg = surrogate.atan(alpha=2.0)
    if kind == "leaky":
        return snn.Leaky(beta=0.5, threshold=1.0, spike_grad=sg)
    return ProjLeaky(beta=0.5, threshold=1.0, theta=0.5, windows="quad", groups=4,
                     projection="sincos", spike_grad=sg, backend=kind[len("proj-"):])


def setup(kind, args, device, dtype):
    """A ``step()`` closure for one configuration."""
    torch.manual_seed(0)
    neuron = make(kind, args.lateral).to(device)
    x = (torch.randn(*args.shape, device=device) + 0.5).to(dtype).requires_grad_()
    lat = torch.randn(*args.shape, device=device, dtype=dtype) if args.lateral else None
    fn = torch.compile(neuron, backend=args.compile_backend) if args.compile else neuron

    def step():
        neuron.reset_mem()
        if lat is not None and kind != "leaky":
            spk, _ = fn(x, lateral=lat)
        else:
            spk, _ = fn(x)
        spk.sum().backward()
        x.grad = None

    def ran():
        """What this row runs: the engine the neuron resolved (a compile failure
        falls back to the eager math with a warning, kept in the row's warnings)."""
        if kind == "leaky":
            return "snntorch Leaky"
        return f"ProjLeaky engine {neuron.resolved_backend(device)!r}"

    return step, ran


def bench(kinds, args, device, dtype):
    """Warm every configuration up, then time them round-robin (so that load from
    other processes hits all of them alike); median per configuration
    (:func:`timing.measure`, the harness every timing script shares).

    A configuration that fails (e.g. a Triton kernel that does not compile) is
    reported as a row with ``error`` and left out of the timing; warnings raised
    while warming up (e.g. "torch.compile failed ... using the eager math") are
    kept in the row's ``warnings``."""
    timings = timing.measure(kinds, lambda k: setup(k, args, device, dtype),
                             warmup=args.warmup, reps=args.reps, device=device)
    rows = []
    for t in timings:
        row = {"kind": t.name, "warmup_s": t.warmup_s, "reps": args.reps,
               "warnings": t.warnings}
        if t.error:
            row.update(ms=None, min_ms=None, error=t.error, ran=None)
        else:
            row.update(ms=t.ms, min_ms=t.min_ms, ran=t.ran)
        rows.append(row)
    return rows, timings


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--shape", type=int, nargs=4, default=[32, 64, 32, 32])
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--compile", action="store_true", help="torch.compile every module")
    p.add_argument("--backends", nargs="+", default=["reference", "auto"], choices=BACKENDS,
                   help="one ProjLeaky row per value of its backend setting (default: "
                        "reference auto; 'auto' is eager on the CPU, compiled on CUDA)")
    p.add_argument("--compile-backend", default="inductor",
                   help="torch.compile backend for --compile and for the 'compiled' engine "
                        "(default inductor; aot_eager for a quick dry run)")
    p.add_argument("--lateral", action="store_true", help="feed ProjLeaky a lateral membrane")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads; default 1 on the CPU (stable on a shared "
                        "machine), untouched on CUDA; 0 leaves torch's default")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    threads = args.threads if args.threads is not None else (1 if device.type == "cpu" else 0)
    if threads:
        torch.set_num_threads(threads)
    dtype = getattr(torch, args.dtype)

    configure(compile_backend=args.compile_backend)
    kinds = ["leaky"] + [f"proj-{b}" for b in dict.fromkeys(args.backends)]
    rows, timings = bench(kinds, args, device, dtype)
    base = rows[0]["ms"]
    for r in rows:
        r["ratio_vs_leaky"] = r["ms"] / base if r["ms"] is not None and base else None

    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{platform.processor() or platform.machine()}, "
                    f"{torch.get_num_threads()} threads")
    print(f"# one neuron layer fwd+bwd, input {args.shape}, {args.dtype}, {device.type} "
          f"({machine}), torch {torch.__version__}, compile={args.compile}, "
          f"lateral={args.lateral}, median of {args.reps}")
    print(f"{'neuron':<22}{'ms/iter':>10}{'min ms':>10}{'x Leaky':>10}  runs")
    for r in rows:
        if r["ms"] is None:
            print(f"{r['kind']:<22}{'FAILED':>10}  {r['error'][:200]}")
            continue
        ratio = f"{r['ratio_vs_leaky']:>10.2f}" if r["ratio_vs_leaky"] is not None else f"{'-':>10}"
        print(f"{r['kind']:<22}{r['ms']:>10.2f}{r['min_ms']:>10.2f}{ratio}  {r['ran']}")
        for w in r["warnings"]:
            print(f"{'':<22}warning: {w[:200]}")
    print(timing.compare_table(timings, "one neuron layer, forward + backward"))
    if args.json:
        out = {"benchmark": "neuron_layer", "shape": args.shape, "dtype": args.dtype,
               "device": str(device), "machine": machine, "torch": torch.__version__,
               "compile": args.compile, "lateral": args.lateral, "rows": rows}
        Path(args.json).write_text(json.dumps(out, indent=2))
    return rows


if __name__ == "__main__":
    main()
