"""Benchmark (b): one training step of ResNet-19 and of the CNN spiking mixer, T=1,
with ProjLeaky (on the engines of its ``backend`` setting), snntorch Leaky and ReLU.

Neurons: ``relu``, ``leaky`` (snntorch), and ``proj-<backend>``: ProjLeaky with
that ``backend`` (``proj-reference``, ``proj-auto``: eager on the CPU, compiled on
CUDA; ``proj-eager``, ``proj-compiled``, ``proj-triton``: CUDA), set on every neuron
that can run it (``utils.set_backend(..., fallback="auto")``: ResNet-19's window-free
classifier neuron cannot run Triton and picks its own engine).

    python benchmarks/train_step.py                          # CPU defaults: batch 8, 3 steps
    python benchmarks/train_step.py --device cuda            # batch 128, bf16 autocast
    python benchmarks/train_step.py --models resnet19 --neurons relu proj-auto --json out.json

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
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a clean clone without installing
sys.path.insert(0, str(ROOT / "benchmarks"))

import timing  # noqa: E402  (benchmarks/timing.py, the shared harness)
MODELS = ("resnet19", "cnn-mixer")
NEURONS = ("relu", "leaky", "proj-reference", "proj-auto")
ALL_NEURONS = NEURONS + ("proj-eager", "proj-compiled", "proj-triton")


def build(args, model_name, neuron_name, device):
    """Model, optimizer, data and a ``step()`` closure for one configuration."""
    import torch
    import torch.nn.functional as F

    from snntorch_ms.functional.fused import configure
    from snntorch_ms.models import build_model
    from snntorch_ms.utils import set_backend

    torch.manual_seed(0)
    neuron = "proj" if neuron_name.startswith("proj-") else neuron_name
    model = build_model(model_name, neuron=neuron, num_classes=10, in_channels=3,
                        image_size=32, timesteps=1, **model_kwargs(args)).to(device)
    if neuron == "proj":
        # the engine wherever a neuron can run it; a window-free neuron (ResNet-19's
        # classifier, for Triton) picks its own
        set_backend(model, neuron_name[len("proj-"):], fallback="auto")
        configure(compile_backend=args.compile_backend)
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


def model_kwargs(args) -> dict:
    """``--model-arg KEY=VALUE`` as keywords (values read as Python literals)."""
    import ast

    out = {}
    for item in args.model_arg or ():
        key, raw = item.split("=", 1)
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def ran(args, neuron_name, device) -> str:
    """What a configuration runs: for ProjLeaky, the engine its ``backend`` resolves
    to on this device (a failed compile falls back to the eager math with a warning)."""
    if not neuron_name.startswith("proj-"):
        return {"relu": "ReLU", "leaky": "snntorch Leaky"}[neuron_name]
    from snntorch_ms import ProjLeaky

    backend = neuron_name[len("proj-"):]
    return f"ProjLeaky engine {ProjLeaky(0.5, backend=backend).resolved_backend(device)!r}"


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
    timing.sync(device)
    if device.type == "cuda":
        base = torch.cuda.memory_allocated() / 2**20
        torch.cuda.reset_peak_memory_stats()
        step()
        timing.sync(device)
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
    configuration (:func:`timing.measure`, the harness every timing script shares)."""

    def setup(name):
        return build(args, model_name, name, device)[0], lambda: ran(args, name, device)

    timings = timing.measure(args.neurons, setup, warmup=args.warmup, reps=args.steps,
                             device=device, label=f"{model_name}/")
    rows = []
    for t in timings:
        row = {"model": model_name, "neuron": t.name, "batch_size": args.batch_size,
               "warmup_s": t.warmup_s, "steps": args.steps, "warnings": t.warnings}
        if t.error:
            row.update(ms=None, min_ms=None, images_per_s=None, error=t.error, ran=None)
        else:
            row.update(ms=t.ms, min_ms=t.min_ms, images_per_s=args.batch_size / t.ms * 1e3,
                       ran=t.ran)
        rows.append(row)
    print(timing.compare_table(timings, f"training step, {model_name}"), file=sys.stderr)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--neurons", nargs="+", default=list(NEURONS), choices=ALL_NEURONS,
                   help="relu, leaky (snntorch), proj-<backend> (ProjLeaky with that backend: "
                        "reference, auto, eager, compiled, triton); default: the first four")
    p.add_argument("--batch-size", type=int, default=None, help="default 128 on CUDA, 8 on CPU")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 20 CUDA, 3 CPU)")
    p.add_argument("--warmup", type=int, default=None, help="default 5 CUDA, 1 CPU")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default 1 on the CPU, untouched on CUDA)")
    p.add_argument("--compile", action="store_true", help="torch.compile the whole model")
    p.add_argument("--compile-backend", default="inductor",
                   help="torch.compile backend of ProjLeaky's 'compiled' engine (aot_eager: "
                        "dry run)")
    p.add_argument("--mem-jobs", type=int, default=None,
                   help="memory subprocesses at a time (default: all neurons at once on CUDA, "
                        "where each process's peak is its own; 1 on the CPU)")
    p.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="model keyword for every model of the run, e.g. width=0.125 or "
                        "'dims=(8,16,16,16)' (a dry run at small size); default: full size")
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--warm", action="store_true",
                   help="only run --warmup steps of every model and neuron, then exit: fills "
                        "inductor's and Triton's on-disk caches for a later timed run")
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
    if args.warm:
        import torch

        device = torch.device(args.device)
        for model in args.models:
            for neuron in args.neurons:
                t0 = time.perf_counter()
                step = build(args, model, neuron, device)[0]
                for _ in range(max(1, args.warmup)):
                    step()
                timing.sync(device)
                print(f"warm {model}/{neuron}: {time.perf_counter() - t0:.1f} s", flush=True)
        return None

    import torch

    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    mem_jobs = args.mem_jobs or (len(args.neurons) if cuda else 1)
    rows = []
    for model in args.models:
        # memory: one fresh subprocess per configuration (before the timing, so that
        # they never share the device with it; on CUDA several at once: each
        # process's max_memory_allocated is its own, and they warm the compile cache)
        mem = {}
        # glibc: serve every block >= 64 KiB by mmap and give it back on free, so
        # that the resident set follows live tensor memory (no effect elsewhere)
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
        pending = list(args.neurons)
        running = {}
        while pending or running:
            while pending and len(running) < mem_jobs:
                neuron = pending.pop(0)
                cmd = [sys.executable, str(Path(__file__).resolve()), "--one", f"{model},{neuron}",
                       "--device", args.device, "--batch-size", str(args.batch_size),
                       "--warmup", str(args.warmup), "--threads", str(args.threads),
                       "--compile-backend", args.compile_backend]
                cmd += [f"--model-arg={kv}" for kv in args.model_arg]
                if args.compile:
                    cmd.append("--compile")
                if args.no_amp:
                    cmd.append("--no-amp")
                running[neuron] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                   text=True, cwd=ROOT, env=env)
            done = next((n for n, p in running.items() if p.poll() is not None), None)
            if done is None:
                time.sleep(0.2)
                continue
            proc = running.pop(done)
            out, err = proc.communicate()
            if proc.returncode != 0:
                print(f"{model}/{done} memory run failed:\n{err[-3000:]}", file=sys.stderr)
                continue
            mem[done] = json.loads(out.strip().splitlines()[-1])
        # time: every neuron of the model in this process, interleaved
        for row in measure_time(args, model, device):
            row.update({k: mem.get(row["neuron"], {}).get(k)
                        for k in ("peak_mib", "step_mib", "memory", "amp_bf16")})
            rows.append(row)
            ms = f"{row['ms']:9.1f} ms/step" if row["ms"] is not None else "FAILED"
            print(f"  {model:<10} {row['neuron']:<12} {ms}", file=sys.stderr)

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
    print(f"{'model':<11}{'neuron':<13}{'ms/step':>10}{'img/s':>9}{'peak MiB':>10}{'step MiB':>10}"
          f"{'t/ReLU':>8}{'t/Leaky':>8}{'m/ReLU':>8}{'m/Leaky':>8}  runs")

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
            if r["ms"] is None:
                print(f"{model:<11}{neuron:<13}{'FAILED':>10}  {r['error'][:200]}")
                continue
            print(f"{model:<11}{neuron:<13}{r['ms']:>10.1f}{r['images_per_s']:>9.1f}"
                  f"{f(r.get('peak_mib'), 10, 1)}{f(r.get('step_mib'), 10, 1)}"
                  f"{f(r['time_vs_relu'])}{f(r['time_vs_leaky'])}"
                  f"{f(r['mem_vs_relu'])}{f(r['mem_vs_leaky'])}  {r['ran']}")
            for w in r.get("warnings") or ():
                print(f"{'':<24}warning: {w[:200]}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "benchmark": "train_step", "device": args.device, "machine": machine,
            "batch_size": args.batch_size, "steps": args.steps, "compile": args.compile,
            "model_args": model_kwargs(args), "amp_bf16": cuda and not args.no_amp,
            "torch": torch.__version__, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
