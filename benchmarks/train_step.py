"""Benchmark (b): one training step of ResNet-19 and of the CNN spiking mixer, T=1,
with ProjLeaky (reference path and fused path), snntorch Leaky and ReLU.

    python benchmarks/train_step.py                          # CPU defaults: batch 8, 3 steps
    python benchmarks/train_step.py --device cuda            # batch 128, bf16 autocast
    python benchmarks/train_step.py --models resnet19 --neurons relu fused --json out.json

One step: forward on random CIFAR-shaped data, cross-entropy, backward, SGD
(momentum 0.9) update; the model resets its neurons at the start of every
forward. Time: the neurons of one model are built in one process, warmed up,
then stepped round-robin (so that load from other processes hits them alike);
the median of ``--steps`` steps (CUDA: synchronised). Memory: each configuration
in a fresh subprocess (so that high-water marks do not leak between them), over
one step after the warm-up.

Memory, over one step after the warm-up:

* CUDA: ``torch.cuda.max_memory_allocated()`` (peak held by tensors, model and
  optimizer state included), as in the design notes; ratios use it;
* CPU: the kernel's resident-set high-water mark (``VmHWM`` of
  ``/proc/self/status``, reset through ``/proc/self/clear_refs`` just before the
  step) minus the resident set before the step: what the step needs above the
  state kept between steps (weights, gradients, optimizer state), i.e. its
  activations and temporaries; ratios use this ``step MiB`` (the absolute RSS is
  mostly libraries). The subprocess runs with ``MALLOC_MMAP_THRESHOLD_=65536``
  so that glibc maps every tensor-sized block and unmaps it when freed: the
  resident set then follows live memory instead of keeping the warm-up's freed
  blocks. Without ``/proc`` the growth of ``ru_maxrss`` is used. tracemalloc
  does not see torch's allocations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a clean clone without installing
MODELS = ("resnet19", "cnn-mixer")
NEURONS = ("relu", "leaky", "proj", "fused")


def build(args, model_name, neuron_name, device):
    """Model, optimizer, data and a ``step()`` closure for one configuration."""
    import torch
    import torch.nn.functional as F

    from snntorch_ms.fused import set_fused_compile, use_fused
    from snntorch_ms.models import build_model

    torch.manual_seed(0)
    neuron = "proj" if neuron_name == "fused" else neuron_name
    model = build_model(model_name, neuron=neuron, num_classes=10, in_channels=3,
                        image_size=32, timesteps=1).to(device)
    if neuron_name == "fused":
        use_fused(model)
        if args.fused_compile is not None:
            set_fused_compile(args.fused_compile == "on")
    model.train()
    step_model = torch.compile(model) if args.compile else model
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = torch.randn(args.batch_size, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)
    amp = device.type == "cuda" and not args.no_amp

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(step_model(x), y)
        loss.backward()
        opt.step()

    return step, amp


def sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def _proc_status(field: str) -> float:
    """A field of /proc/self/status in MiB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def _reset_rss_peak() -> bool:
    """Reset the kernel's resident-set high-water mark (VmHWM) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure_memory(args) -> dict:
    """Memory of one configuration over one step after the warm-up (runs in a
    fresh subprocess). ``peak_mib``: CUDA, ``max_memory_allocated`` (model,
    optimizer state and activations); CPU, the peak resident set (libraries
    included). ``step_mib``: that peak minus the same measure just before the
    step (activations, gradients and temporaries of the step)."""
    import resource

    import torch

    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    model_name, neuron_name = args.one.split(",")
    step, amp = build(args, model_name, neuron_name, device)
    for _ in range(max(args.warmup, 1)):  # optimizer state exists after the first step
        step()
    sync(device)
    if device.type == "cuda":
        base = torch.cuda.memory_allocated() / 2**20
        torch.cuda.reset_peak_memory_stats()
        step()
        sync(device)
        peak = torch.cuda.max_memory_allocated() / 2**20
        kind = "cuda max_memory_allocated"
    elif _reset_rss_peak():
        base = _proc_status("VmRSS")
        step()
        peak = _proc_status("VmHWM")
        kind = "cpu resident set (VmHWM reset before the step)"
    else:  # no /proc: the high-water mark since the process started
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        step()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kind = "cpu ru_maxrss growth (may miss a step below an earlier peak)"
    return {"model": model_name, "neuron": neuron_name, "peak_mib": peak,
            "step_mib": peak - base, "memory": kind, "amp_bf16": amp}


def measure_time(args, model_name, device) -> list:
    """Time every neuron of one model in this process: warm-up each, then
    ``args.steps`` rounds of one step per configuration, round-robin (so that
    load from other processes hits every configuration alike); median per
    configuration."""
    steps = {n: build(args, model_name, n, device)[0] for n in args.neurons}
    warm = {}
    for name, step in steps.items():
        t0 = time.perf_counter()
        for _ in range(args.warmup):
            step()
        sync(device)
        warm[name] = time.perf_counter() - t0
    times = {n: [] for n in steps}
    for _ in range(args.steps):
        for name, step in steps.items():
            sync(device)
            t0 = time.perf_counter()
            step()
            sync(device)
            times[name].append((time.perf_counter() - t0) * 1e3)
    rows = []
    for name in steps:
        ms = statistics.median(times[name])
        rows.append({"model": model_name, "neuron": name, "batch_size": args.batch_size,
                     "ms": ms, "min_ms": min(times[name]),
                     "images_per_s": args.batch_size / ms * 1e3, "warmup_s": warm[name],
                     "steps": args.steps})
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--neurons", nargs="+", default=list(NEURONS), choices=NEURONS,
                   help="relu, leaky (snntorch), proj (ProjLeaky reference path), fused")
    p.add_argument("--batch-size", type=int, default=None, help="default 128 on CUDA, 8 on CPU")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 20 CUDA, 3 CPU)")
    p.add_argument("--warmup", type=int, default=None, help="default 5 CUDA, 1 CPU")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default 1 on the CPU, untouched on CUDA)")
    p.add_argument("--compile", action="store_true", help="torch.compile the whole model")
    p.add_argument("--fused-compile", choices=["on", "off"], default=None,
                   help="compile the fused math (default: on for CUDA, off for CPU)")
    p.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: model,neuron
    args = p.parse_args(argv)

    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = args.device.startswith("cuda")
    args.batch_size = args.batch_size or (128 if cuda else 8)
    args.steps = args.steps or (20 if cuda else 3)
    args.warmup = args.warmup if args.warmup is not None else (5 if cuda else 1)
    args.threads = args.threads if args.threads is not None else (0 if cuda else 1)

    if args.one:
        print(json.dumps(measure_memory(args)))
        return None

    import torch

    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for model in args.models:
        # memory: one fresh subprocess per configuration
        mem = {}
        for neuron in args.neurons:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--one", f"{model},{neuron}",
                   "--device", args.device, "--batch-size", str(args.batch_size),
                   "--warmup", str(args.warmup), "--threads", str(args.threads)]
            if args.compile:
                cmd.append("--compile")
            if args.no_amp:
                cmd.append("--no-amp")
            if args.fused_compile:
                cmd += ["--fused-compile", args.fused_compile]
            # glibc: serve every block >= 64 KiB by mmap and give it back on free, so
            # that the resident set follows live tensor memory (no effect elsewhere)
            env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
            if proc.returncode != 0:
                print(f"{model}/{neuron} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
                continue
            mem[neuron] = json.loads(proc.stdout.strip().splitlines()[-1])
        # time: every neuron of the model in this process, interleaved
        for row in measure_time(args, model, device):
            row.update({k: mem.get(row["neuron"], {}).get(k)
                        for k in ("peak_mib", "step_mib", "memory", "amp_bf16")})
            rows.append(row)
            print(f"  {model:<10} {row['neuron']:<7} {row['ms']:9.1f} ms/step", file=sys.stderr)

    import torch

    machine = (torch.cuda.get_device_name() if cuda else
               f"{platform.processor() or platform.machine()}, {args.threads} thread(s)")
    mem_kind = next((r["memory"] for r in rows if r.get("memory")), "")
    # memory ratios: absolute peak on CUDA (as in the design notes); on the CPU the
    # step's own memory (the absolute RSS is dominated by the libraries)
    mkey = "peak_mib" if cuda else "step_mib"
    print(f"# training step, batch {args.batch_size}, T=1, {args.device} ({machine}), torch "
          f"{torch.__version__}, bf16 autocast={cuda and not args.no_amp}, compile={args.compile}, "
          f"median of {args.steps} steps; memory: {mem_kind} (MiB); m/ ratios use "
          f"{'peak' if cuda else 'step'} MiB")
    print(f"{'model':<11}{'neuron':<8}{'ms/step':>10}{'img/s':>9}{'peak MiB':>10}{'step MiB':>10}"
          f"{'t/ReLU':>8}{'t/Leaky':>8}{'m/ReLU':>8}{'m/Leaky':>8}")

    def ratio(a, b):
        return a / b if a is not None and b else None

    def f(v, width=8, digits=2):
        return f"{v:{width}.{digits}f}" if v is not None else f"{'-':>{width}}"

    for model in args.models:
        by = {r["neuron"]: r for r in rows if r["model"] == model}
        relu, leaky = by.get("relu", {}), by.get("leaky", {})
        for neuron, r in by.items():
            r["time_vs_relu"] = ratio(r["ms"], relu.get("ms"))
            r["time_vs_leaky"] = ratio(r["ms"], leaky.get("ms"))
            r["mem_vs_relu"] = ratio(r.get(mkey), relu.get(mkey))
            r["mem_vs_leaky"] = ratio(r.get(mkey), leaky.get(mkey))
            print(f"{model:<11}{neuron:<8}{r['ms']:>10.1f}{r['images_per_s']:>9.1f}"
                  f"{f(r.get('peak_mib'), 10, 1)}{f(r.get('step_mib'), 10, 1)}"
                  f"{f(r['time_vs_relu'])}{f(r['time_vs_leaky'])}"
                  f"{f(r['mem_vs_relu'])}{f(r['mem_vs_leaky'])}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "benchmark": "train_step", "device": args.device, "machine": machine,
            "batch_size": args.batch_size, "steps": args.steps, "compile": args.compile,
            "torch": torch.__version__, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
