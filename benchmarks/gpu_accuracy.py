"""The accuracy table at full scale on one GPU (issues 13, 19, 22): every training is
the package's own CLI (``python -m snntorch_ms train ... --device cuda --fused-optimizer
--no-progress --out <dir>``), several at once on the card, run by this driver within a
budget. ``gpu_accuracy.sh`` wraps it for the GPU machine; the README says more.

    python benchmarks/gpu_accuracy.py --out $OUT --budget 200     # on the GPU machine
    python benchmarks/gpu_accuracy.py --tiny --out runs/acc-tiny   # CPU dry run
    python benchmarks/gpu_accuracy.py --estimate --json est.json   # device-time estimate
    python benchmarks/gpu_accuracy.py --list                       # the trainings' commands

The run list is ``ROWS`` and the ``BEST_T1`` slot (``--only``: configurations or runs,
``<config>-s<seed>``). ProjLeaky's engine, ``--neuron-arg backend=``, is ``--backend``
(default triton) if a check job finds Triton's kernels compiling and agreeing with the
eager fused math on each ProjLeaky network of the run, else eager. Each ``metrics.json``
becomes a line of ``<out>/results.jsonl`` as its run ends; at the budget what still runs
is stopped and recorded from its checkpoint (``"partial"``: its last finished epoch);
``table.md`` and ``workers.log`` (every run's output) follow.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from experiment import launch, run_jobs

ROOT = Path(__file__).resolve().parents[1]
FASHION, CIFAR = "fashion-mnist", "cifar10"
DATA_NAMES = {FASHION: "Fashion-MNIST", CIFAR: "CIFAR-10 (JPEG q75 copy)"}
SIZES = {FASHION: (60000, 0, 10000), CIFAR: (45000, 5000, 10000)}  # train, val, test
CIFAR_ARCHIVES = (ROOT / "gpu-carry" / "data" / "cifar10-jpeg.tar.gz",
                  ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz")
#: The paper's neuron constants (issue 19); Leaky drops theta, ReLU takes none.
PAPER_NEURON = {"threshold": 0.5, "beta": 0.4, "spike_grad": "rectangular:width=1",
                "theta": 0.5, "reset_mechanism": "subtract"}
#: CIFAR-10 epochs: what fits the GPU issue's 4-minute slot when the three CIFAR rows
#: run on their own (README: "estimate"); beside the whole list they end partial.
CIFAR_EPOCHS = 6
CHECK = "backend-check"  # the job that picks ProjLeaky's engine (and reads the card)


def _row(dataset, model, neuron, T=1, seeds=(0,), **extra):
    return dict(dataset=dataset, model=model, neuron=neuron, timesteps=T, seeds=seeds, **extra)


# Fashion-MNIST 60,000 / 10,000 with the CLI's basic recipe (10 epochs): the full-width
# ConvNet (backbone windows for ProjLeaky) and the paper's CNN mixer at full size (dims
# 48-96-192-384, depths 2-2-6-2, four windows). CIFAR-10 (the JPEG q75 archive read in
# place) 45,000 / 5,000 validation / 10,000: the full-size CNN mixer with the paper's
# recipe, a one-epoch warm-up and neuron constants, as issue 19's experiment.
_CIFAR = dict(recipe="paper", neuron_kwargs=PAPER_NEURON, val_images=5000,
              config={"warmup_epochs": 1})
ROWS = {
    "convnet-relu": _row(FASHION, "convnet", "relu", seeds=(0, 1)),
    "convnet-leaky-T1": _row(FASHION, "convnet", "leaky", seeds=(0, 1)),
    "convnet-leaky-T4": _row(FASHION, "convnet", "leaky", 4, seeds=(0, 1)),
    "convnet-proj-T1": _row(FASHION, "convnet", "proj", seeds=(0, 1)),
    "mixer-relu": _row(FASHION, "cnn-mixer", "relu"),
    "mixer-leaky-T1": _row(FASHION, "cnn-mixer", "leaky"),
    "mixer-proj-T1": _row(FASHION, "cnn-mixer", "proj"),
    "cifar-mixer-relu": _row(CIFAR, "cnn-mixer", "relu", **_CIFAR),
    "cifar-mixer-leaky-T1": _row(CIFAR, "cnn-mixer", "leaky", **_CIFAR),
    "cifar-mixer-proj-T1": _row(CIFAR, "cnn-mixer", "proj", **_CIFAR),
}

# =====================================================================================
# SLOT: the best T=1 configuration of the T=1 techniques issue (issue 10), run with
# BEST_T1_SEEDS (or replaced with --best-t1 '<json>'). From
# benchmarks/results/t1_techniques/table.md (docs/techniques.md, "Final round"): Leaky
# with no technique trained three times as long (88.07 +- 0.21 % test against 86.47 +-
# 0.29 %) ties on validation with all techniques combined at a third of their time.
# Spec: a row's keys ("dataset" defaults to Fashion-MNIST), and optionally
# "epochs_factor" (times the Fashion-MNIST rows' epochs), "neuron_kwargs",
# "model_kwargs", "config" (TrainConfig fields as their CLI flags: {"lr": 1e-3} ->
# --lr 0.001) and "cli_args" (more CLI flags, e.g. ["--teacher", "auto"]).
BEST_T1 = {"name": "convnet-best-T1", "model": "convnet", "neuron": "leaky", "timesteps": 1,
           "epochs_factor": 3}
BEST_T1_SEEDS = (0,)  # one: its 30 epochs cost ~20 s of the card (README, estimate)
# =====================================================================================


def all_specs(args) -> dict:
    """run name -> spec (seed and epochs resolved), the longest-running first."""
    rows = dict(ROWS)
    best = dict(json.loads(args.best_t1) if args.best_t1 else BEST_T1)
    if best:
        rows[best.pop("name", "convnet-best-T1")] = dict(best, seeds=BEST_T1_SEEDS)
    specs = {}
    for name, row in rows.items():
        for seed in args.seeds or row["seeds"]:
            spec = dict({k: v for k, v in row.items() if k != "seeds"}, config_name=name, seed=seed)
            spec.setdefault("dataset", FASHION)
            spec["epochs"] = epochs_of(spec, args)
            specs[f"{name}-s{seed}"] = spec
    if args.only:
        known = set(specs) | {s["config_name"] for s in specs.values()}
        if set(args.only) - known:
            raise SystemExit(f"unknown trainings {sorted(set(args.only) - known)}; known: {sorted(specs)}")
        specs = {k: s for k, s in specs.items() if k in args.only or s["config_name"] in args.only}
    cost = lambda s: (s["dataset"] == CIFAR, s["model"] == "cnn-mixer", s["timesteps"],  # noqa: E731
                      s["neuron"] == "proj", s["epochs"])
    return dict(sorted(specs.items(), key=lambda kv: cost(kv[1]), reverse=True))


def epochs_of(spec, args) -> int:
    """CIFAR-10: ``--cifar-epochs``; else ``--epochs`` or the recipe's, times the spec's
    ``"epochs_factor"``."""
    if spec["dataset"] == CIFAR:
        return args.cifar_epochs
    epochs = args.epochs
    if epochs is None:
        from snntorch_ms.train import TrainConfig, resolve_config

        epochs = resolve_config(TrainConfig(dataset=spec["dataset"],
                                            recipe=spec.get("recipe", args.recipe))).epochs
    factor = spec.get("epochs_factor")
    if factor is not None and "epochs" in (spec.get("config") or {}):
        raise ValueError(f"{spec['config_name']}: give 'epochs_factor' or config 'epochs', not both")
    if factor is not None and (type(factor) not in (int, float) or factor <= 0):
        raise ValueError(f"'epochs_factor' must be a positive number, got {factor!r}")
    return epochs if factor is None else max(1, round(factor * epochs))


def neuron_args(spec, backend=None) -> dict:
    """A run's ``--neuron-arg`` keywords: none for ReLU; theta and the engine for
    ProjLeaky only."""
    kw = dict(spec.get("neuron_kwargs") or {})
    if spec["neuron"] != "proj":
        return {} if spec["neuron"] == "relu" else {k: v for k, v in kw.items() if k != "theta"}
    return dict(kw, backend=backend) if backend else kw


def command(spec, args, out: Path, backend=None) -> list:
    """The CLI call that trains ``spec`` into ``out``."""
    cmd = [sys.executable, "-m", "snntorch_ms", "train", "--dataset", spec["dataset"],
           "--data-dir", str(args.cifar if spec["dataset"] == CIFAR else args.data),
           "--no-download", "--model", spec["model"], "--neuron", spec["neuron"],
           "--timesteps", str(spec["timesteps"]), "--recipe", spec.get("recipe", args.recipe),
           "--epochs", str(spec["epochs"]), "--seed", str(spec["seed"]), "--device", args.device,
           "--threads", str(args.threads), "--out", str(out), "--no-progress", "--fused-optimizer"]
    flags = dict(batch_size=args.batch_size, limit_train=args.train_limit,
                 limit_test=args.test_limit, energy_images=args.energy_images,
                 val_images=spec.get("val_images") and (args.val_limit or spec["val_images"]))
    for field, value in dict(flags, **(spec.get("config") or {})).items():
        if value is not None and value is not False:
            cmd += ["--" + field.replace("_", "-")] + ([] if value is True else [str(value)])
    for k, v in (spec.get("model_kwargs") or {}).items():
        cmd += ["--model-arg", f"{k}={v}"]
    for k, v in neuron_args(spec, backend).items():
        cmd += ["--neuron-arg", f"{k}={v}"]
    return cmd + [str(a) for a in spec.get("cli_args") or ()]


def _network(spec, device, **model_kwargs):
    """The network the run's CLI call builds, and its input shape."""
    from snntorch_ms.cli import parse_kv
    from snntorch_ms.data import dataset_info
    from snntorch_ms.train import TrainConfig, build_from_config, resolve_config

    kv = lambda d: parse_kv([f"{k}={v}" for k, v in d.items()])  # noqa: E731
    c = resolve_config(TrainConfig(
        dataset=spec["dataset"], model=spec["model"], neuron=spec["neuron"],
        timesteps=spec["timesteps"], recipe=spec.get("recipe", "basic"),
        neuron_kwargs=kv(neuron_args(spec)),
        model_kwargs=kv(dict(spec.get("model_kwargs") or {}, **model_kwargs))))
    info = dataset_info(c.dataset)
    return build_from_config(c).to(device), (info.in_channels, info.image_size, info.image_size)


def check_backend(specs: list, backend: str, batch: int) -> dict:
    """ProjLeaky's engine for the run: ``backend``, unless it is ``triton`` and Triton
    is missing, or fails to compile, or disagrees with the eager fused math (cosine <
    0.99 logits / 0.98 gradients, bf16) on a network of ``specs``: then ``eager``."""
    import copy

    import torch
    import torch.nn.functional as F

    from snntorch_ms.functional.fused import triton_available
    from snntorch_ms.utils import set_backend

    cuda = torch.cuda.is_available()
    out = {"card": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__,
           "backend": backend, "why": f"--backend {backend}"}
    if not specs:
        return dict(out, backend="-", why="no ProjLeaky run")
    if backend != "triton":
        return out
    if not (cuda and triton_available()):
        return dict(out, backend="eager", why="no CUDA or no Triton: eager fused math")
    seen, t0 = [], time.time()
    for spec in specs:
        try:
            model, shape = _network(spec, "cuda")
            x = torch.randn(batch, *shape, device="cuda", generator=torch.Generator("cuda").manual_seed(0))
            res = []
            for engine in ("eager", "triton"):
                net = set_backend(copy.deepcopy(model).train(), engine)
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    logits = net(x).float()
                F.cross_entropy(logits, torch.arange(batch, device="cuda") % 10).backward()
                res.append((logits.detach().flatten(), torch.cat([
                    p.grad.flatten().float() for p in net.parameters() if p.grad is not None])))
            cos = [float(F.cosine_similarity(a, b, 0)) for a, b in zip(*res)]
        except Exception as err:  # a kernel that does not compile: the eager fused math
            return dict(out, backend="eager", why=f"Triton FAILED on {spec['config_name']} "
                        f"({type(err).__name__}: {err})"[:800])
        if cos[0] < 0.99 or cos[1] < 0.98:
            return dict(out, backend="eager", why=f"Triton DISAGREES on {spec['config_name']}: "
                        f"cosine logits {cos[0]:.4f}, grads {cos[1]:.4f}")
        seen.append(f"{spec['config_name']} {cos[0]:.4f}/{cos[1]:.4f}")
    return dict(out, why=f"Triton agrees with the eager fused math (cosine logits/grads "
                f"{', '.join(seen)}; {time.time() - t0:.0f} s)")


def result_line(name, spec, m, status, wall=None) -> dict:
    """A line of ``results.jsonl`` from a ``metrics.json`` (or from the history and
    config of a stopped run's checkpoint)."""
    hist, cfg, t = m.get("history") or [], m.get("config") or {}, m.get("timing") or {}
    keep = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr", "time_s")
    line = {"run": name, **{k: spec[k] for k in ("config_name", "seed", "dataset", "model", "neuron",
                                                 "timesteps")},
            "status": status, "epochs": len(hist), "epochs_planned": spec["epochs"],
            "test_acc": hist[-1]["test_acc"] if hist else None,
            "val_acc": hist[-1].get("val_acc") if hist else None,
            "best_test_acc": max(h["test_acc"] for h in hist) if hist else None,
            "train_s": t.get("train_s", sum(h["time_s"] for h in hist) if hist else None),
            "process_s": t.get("process_s"), "wall_s": wall,
            "proj_backend": (cfg.get("neuron_kwargs") or {}).get("backend")}
    for k in ("energy_j", "ann_energy_j", "energy_ratio", "firing_rates", "parameters", "device",
              "threads", "torch_version", "snntorch_ms_version", "data_source"):
        line[k] = m.get(k)
    line["paper_energy_ratio"] = (m.get("paper_convention") or {}).get("energy_ratio")
    return dict(line, history=[{k: h[k] for k in keep if k in h} for h in hist], config=cfg)


def partial_line(name, spec, out: Path, started: bool) -> dict:
    """The line of a run the budget stopped (its last finished epoch, from its
    checkpoint) or never started."""
    if not started:
        return result_line(name, spec, {}, "not started (budget)")
    try:
        from snntorch_ms.train import load_checkpoint

        m = {k: v for k, v in load_checkpoint(out).items() if k in ("history", "config")}
    except Exception:  # stopped before its first epoch ended
        m = {}
    return result_line(name, spec, m, "partial")


def table(records, specs, header: str) -> str:
    """Mean ± half range over seeds per configuration, in run-list order; time ratios
    to the same network's ReLU and Leaky T=4 rows on the same data and epochs."""
    by = {}
    for r in records:
        by.setdefault(r["config_name"], []).append(r)
    rows = {}
    for name in [n for n in dict.fromkeys(s["config_name"] for s in specs.values()) if n in by]:
        runs = by[name]
        ok = [r for r in runs if r.get("test_acc") is not None]
        mean = lambda k: statistics.mean(r[k] for r in ok) if ok and all(r.get(k) is not None for r in ok) else None  # noqa: E731
        accs = [r["test_acc"] for r in ok]
        rows[name] = dict(r0=runs[0], acc=mean("test_acc"), val=mean("val_acc"), train_s=mean("train_s"),
                          energy=mean("energy_ratio"), seeds=sorted(r["seed"] for r in runs),
                          spread=(max(accs) - min(accs)) / 2 if len(accs) > 1 else 0.0,
                          status=sorted({r["status"] + (f" ({r['epochs']}/{r['epochs_planned']} ep)"
                                                        if r["status"] == "partial" else "") for r in runs}))
    same = ("dataset", "model", "epochs_planned")

    def ratio(r, neuron, T):
        base = next((b for b in rows.values() if all(b["r0"][k] == r["r0"][k] for k in same)
                     and (b["r0"]["neuron"], b["r0"]["timesteps"]) == (neuron, T)), None)
        return f"{r['train_s'] / base['train_s']:.2f}" if base and base["train_s"] and r["train_s"] else "-"

    fmt = lambda v, f=".2f": "-" if v is None else format(v, f)  # noqa: E731
    lines = [header, "", "| configuration | data | T | epochs | test acc % | val acc % | train s | time / "
             "ReLU | time / Leaky T=4 | ANN/SNN energy | seeds | status |", "|---" * 12 + "|"]
    for name, r in rows.items():
        r0 = r["r0"]
        lines.append(
            f"| {name}{' (' + r0['proj_backend'] + ')' if r0.get('proj_backend') else ''} | "
            f"{DATA_NAMES.get(r0['dataset'], r0['dataset'])} | {r0['timesteps']} | {r0['epochs_planned']} | {fmt(r['acc'])}"
            f"{' ± %.2f' % r['spread'] if r['spread'] else ''} | {fmt(r['val'])} | {fmt(r['train_s'], '.1f')} | "
            f"{ratio(r, 'relu', 1)} | {ratio(r, 'leaky', 4)} | {fmt(r['energy'])} | "
            f"{','.join(map(str, r['seeds']))} | {', '.join(r['status'])} |")
    return "\n".join(lines) + "\n"


def driver(args) -> int:
    out, work, t0 = Path(args.out), Path(args.work), time.time()
    specs = all_specs(args)
    for name in [*specs, CHECK]:  # an earlier run's folders: each run starts afresh
        shutil.rmtree(work / name, ignore_errors=True)
    (work / CHECK).mkdir(parents=True)
    out.mkdir(parents=True, exist_ok=True)
    results, verdict_file = out / "results.jsonl", work / CHECK / "backend.json"
    results.write_text("")
    proj = {(s["dataset"], s["model"]): s for s in specs.values() if s["neuron"] == "proj"}
    (work / CHECK / "specs.json").write_text(json.dumps(list(proj.values())))
    parallel = args.jobs or len(specs) + 1
    print(f"# {len(specs)} trainings, device {args.device}, budget {args.budget:.0f} s, "
          f"{parallel} processes at a time: {', '.join(specs)}", flush=True)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    verdict = lambda: json.loads(verdict_file.read_text()) if verdict_file.is_file() else \
        {"backend": "eager", "why": "no verdict from the check", "card": args.device}  # noqa: E731

    def append(line):
        with open(results, "a") as fh:
            fh.write(json.dumps(line, default=str) + "\n")

    def start(job):
        if job == CHECK:
            return launch([sys.executable, str(Path(__file__).resolve()), "--check-backend",
                           str(work / CHECK), "--backend", args.backend,
                           "--batch-size", str(args.batch_size or 128)], work / CHECK, ROOT, env)
        backend = verdict()["backend"] if specs[job]["neuron"] == "proj" else None
        return launch(command(specs[job], args, work / job, backend), work / job, ROOT, env)

    def record(job, wall):
        if job == CHECK:
            v = verdict()
            print(f"[{time.time() - t0:6.1f} s] ProjLeaky: {v['backend']} ({v['why']}); card {v['card']}")
            return
        line = result_line(job, specs[job], json.loads((work / job / "metrics.json").read_text()), "done", wall)
        append(line)
        print(f"[{time.time() - t0:6.1f} s] done {job}: test {line['test_acc']:.2f} %, {wall:.0f} s", flush=True)

    failed = run_jobs([CHECK, *specs], dependencies=lambda j: [CHECK] if specs.get(j, {}).get("neuron") == "proj" else [],
                      trained=lambda j: verdict_file.is_file(), done=lambda j: False, start=start,
                      record=record, parallel=parallel, deadline=t0 + args.budget,
                      stopped=lambda j, s: j == CHECK or append(partial_line(j, specs[j], work / j, s)))
    logs = {j: (work / j / "log.txt").read_text(errors="replace") for j in [CHECK, *specs]
            if (work / j / "log.txt").is_file()}
    for job in sorted(failed - {CHECK}):
        append(dict(result_line(job, specs[job], {}, "FAILED"),
                    error=" | ".join(logs.get(job, "").strip().splitlines()[-3:])[-1500:]))
    (out / "workers.log").write_text("".join(f"===== {j}\n{text}\n" for j, text in logs.items()))
    records = [json.loads(x) for x in results.read_text().splitlines() if x.strip()]
    v = verdict()
    sizes = {FASHION: f"{args.train_limit or 60000}/{args.test_limit or 10000}",
             CIFAR: f"{args.train_limit or 45000}/{args.val_limit or 5000} val/{args.test_limit or 10000}"}
    data = "; ".join(f"{DATA_NAMES.get(d, d)} {sizes.get(d, '')}" for d in dict.fromkeys(s["dataset"] for s in specs.values()))
    text = table(records, specs, f"{data} images; on {v['card']}, torch {v.get('torch', '?')}; "
                 f"{len(records)} trainings, up to {parallel} processes at once, {time.time() - t0:.0f} s; "
                 f"ProjLeaky backend {v['backend']} ({v['why']})")
    (out / "table.md").write_text(text)
    bad = [r["run"] for r in records if r["status"] != "done"]
    print("\n" + text + (f"# not done: {', '.join(bad)}" if bad else "# all done"), flush=True)
    return 0


def estimate(args) -> int:
    """Device time from CPU measurements (README, "estimate"). Per network: MACs per
    image (the energy counter's count for its ANN twin), the non-view aten ops
    of a training step and of an evaluation batch (each about one CUDA kernel), and
    this CPU's time per op on the same network at minimal width and batch 1 (eager
    PyTorch's per-op host cost, which a GPU run pays too). A step takes max(host,
    device): host = ops x that time x ``--host-factor``, device = FLOPs / ``--tflops``
    + ops x ``--us-per-kernel``; the card runs one process's kernels at a time."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    from snntorch_ms.energy import measure_energy

    torch.set_num_threads(1)
    skip = {"empty", "empty_like", "empty_strided", "detach", "alias", "lift_fresh", "t",
            "_unsafe_view", "expand", "view", "as_strided", "new_empty", "new_empty_strided",
            "promote_types"}

    class Count(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, a=(), kw=None):
            self.n += not getattr(func, "is_view", False) and func.overloadpacket.__name__ not in skip
            return func(*a, **(kw or {}))

    def step(model, x, train=True):
        if train:
            model.zero_grad(set_to_none=True)
            return torch.nn.functional.cross_entropy(model(x), torch.arange(len(x)) % 10).backward()
        with torch.no_grad():
            model.eval()(x)
        model.train()

    def ops(model, x, train=True):
        step(model, x, train)
        with Count() as c:
            step(model, x, train)
        return c.n

    minimal = {"convnet": {"width": 1 / 32}, "cnn-mixer": {"dims": "(4,4,4,4)"}}
    rows, seen, bs = [], {}, args.batch_size or 128
    for run, spec in all_specs(args).items():
        if spec["config_name"] not in seen:
            model, shape = _network(spec, "cpu")
            x2, x1 = torch.randn(2, *shape), torch.randn(1, *shape)
            twin = _network(dict(spec, neuron="relu"), "cpu")[0].eval()
            small = _network(spec, "cpu", **minimal[spec["model"]])[0]
            times = []
            for i in range(17):
                t = time.perf_counter()
                step(small, x1)
                times.append(time.perf_counter() - t if i >= 2 else math.inf)
            seen[spec["config_name"]] = dict(
                mmac_per_image=measure_energy(twin, x1).macs / 1e6,
                ops_per_step=ops(model, x2), ops_per_eval_batch=ops(model, x2, False),
                cpu_us_per_op=min(times) * 1e6 / max(1, ops(small, x1)))
        m = seen[spec["config_name"]]
        n_train, n_val, n_test = SIZES[spec["dataset"]]
        steps, evals = math.ceil(n_train / bs), math.ceil(n_test / bs) + math.ceil(n_val / bs)
        flop_ms = 2e3 * m["mmac_per_image"] * 1e6 * bs / (args.tflops * 1e12)  # forward
        host = (m["ops_per_step"] + 2) * m["cpu_us_per_op"] * args.host_factor / 1e3
        dev = 3 * flop_ms + (m["ops_per_step"] + 2) * args.us_per_kernel / 1e3
        ev_host = m["ops_per_eval_batch"] * m["cpu_us_per_op"] * args.host_factor / 1e3
        ev_dev = flop_ms + m["ops_per_eval_batch"] * args.us_per_kernel / 1e3
        epoch_s = (steps * max(host, dev) + evals * max(ev_host, ev_dev)) / 1e3
        row = dict(m, run=run, dataset=spec["dataset"], epochs=spec["epochs"], host_ms_per_step=host,
                   device_ms_per_step=dev, epoch_s=epoch_s, epoch_device_s=(steps * dev + evals * ev_dev) / 1e3)
        row.update(train_s=row["epochs"] * epoch_s + (args.decode_s if spec["dataset"] == CIFAR else 0),
                   gpu_busy_s=row["epochs"] * row["epoch_device_s"])
        rows.append(row)
        print(f"{run:<24} {row['mmac_per_image']:6.1f} MMAC/img {m['ops_per_step']:5d} ops/step "
              f"({m['cpu_us_per_op']:4.1f} us/op): host {host:5.1f}, device {dev:5.1f} ms/step; epoch "
              f"{epoch_s:5.1f} s alone ({row['epoch_device_s']:4.1f} s device) x {row['epochs']} -> "
              f"{row['train_s']:4.0f} s", flush=True)
    longest, busy, done = max(rows, key=lambda r: r["train_s"]), sum(r["gpu_busy_s"] for r in rows), shared_card(rows, args)
    summary = dict(trainings=len(rows), longest=longest["run"], longest_s=longest["train_s"], gpu_busy_sum_s=busy,
                   wall_estimate_s=args.startup_s + max(longest["train_s"], busy), budget_s=args.budget,
                   epochs_by_budget=done)
    short = [f"{r['run']} {done[r['run']]:.1f}/{r['epochs']}" for r in rows if done[r["run"]] < r["epochs"]]
    print(f"# {len(rows)} trainings; longest alone {longest['train_s']:.0f} s ({longest['run']}); device busy "
          f"summed {busy:.0f} s; wall ~ {args.startup_s:.0f} s start + the larger = {summary['wall_estimate_s']:.0f} s; "
          f"all at once within the {args.budget:.0f} s budget: "
          + (f"epochs done {', '.join(short)}, the others finish" if short else "all finish"), flush=True)
    if args.json:
        assume = ("host_factor", "us_per_kernel", "tflops", "startup_s", "decode_s", "batch_size")
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary, "assumptions": {
            k: getattr(args, k) for k in assume}}, indent=2))
    return 0


def shared_card(rows, args) -> dict:
    """Epochs each run finishes by the budget, all at once: each runs at its pace
    alone, all slowed alike while their shares of the card sum above 1; CIFAR-10 rows
    start after the decode."""
    left = {r["run"]: r["epochs"] * r["epoch_s"] for r in rows}
    share = {r["run"]: r["epoch_device_s"] / r["epoch_s"] for r in rows}
    begin = {r["run"]: args.startup_s + (args.decode_s if r["dataset"] == CIFAR else 0) for r in rows}
    t, dt = args.startup_s, 0.1
    while t < args.budget and any(v > 0 for v in left.values()):
        active = [k for k, v in left.items() if v > 0 and begin[k] <= t]
        for k in active:
            left[k] -= dt / max(1.0, sum(share[j] for j in active))
        t += dt
    return {r["run"]: r["epochs"] * (1 - max(0.0, left[r["run"]]) / (r["epochs"] * r["epoch_s"])) for r in rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add = p.add_argument
    add("--data", default=str(ROOT / "gpu-carry" / "data"), help="Fashion-MNIST: a folder with "
        "FashionMNIST/raw/ (IDX, plain or .gz; else Debian's dataset-fashion-mnist is unpacked there)")
    add("--cifar", help="the CIFAR-10 archive (default gpu-carry/data/, else ../shared/data/)")
    add("--out", default="runs/gpu-accuracy")
    add("--work", help="the run folders (default <out>/../.<name>-work)")
    add("--device", default="cuda")
    add("--budget", type=float, default=200.0, help="seconds until what still runs is stopped")
    add("--jobs", type=int, default=0, help="processes at a time (0: all at once)")
    add("--threads", type=int, default=1, help="CPU threads per training")
    add("--backend", default="triton", choices=["auto", "reference", "eager", "compiled", "triton"],
        help="ProjLeaky's engine (default triton where the check passes, else eager)")
    add("--recipe", default="basic", help="the Fashion-MNIST rows' recipe")
    add("--epochs", type=int, help="Fashion-MNIST rows (default: the recipe's, 10)")
    add("--cifar-epochs", type=int, default=CIFAR_EPOCHS)
    add("--batch-size", type=int, help="default: the recipe's (128)")
    add("--train-limit", type=int)
    add("--test-limit", type=int)
    add("--val-limit", type=int, help="CIFAR-10 validation images (default 5000)")
    add("--energy-images", type=int, help="default: the CLI's (64)")
    add("--seeds", type=int, nargs="+", help="every row's seeds")
    add("--only", nargs="+", help="configurations or runs to train")
    add("--best-t1", help="JSON spec filling the BEST_T1 slot")
    add("--tiny", action="store_true", help="CPU dry run: 64 images a split, 1 epoch, batch 32, 2 at a time")
    add("--list", action="store_true", help="print the trainings' commands")
    add("--estimate", action="store_true", help="the device-time estimate (on the CPU)")
    for flag, value, what in (("host-factor", 1.0, "GPU host per-op time / this CPU's"),
                              ("us-per-kernel", 4.0, "device time of a small kernel"),
                              ("tflops", 50.0, "effective bf16 TFLOP/s"), ("startup-s", 25.0, "process "
                              "start and data load"), ("decode-s", 40.0, "decoding CIFAR-10 once")):
        add(f"--{flag}", type=float, default=value, help=f"estimate: {what} (default {value:g})")
    add("--json", help="estimate: write it here")
    add("--check-backend", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.tiny:
        args.device, args.epochs, args.cifar_epochs = "cpu", args.epochs or 1, 1
        args.batch_size, args.jobs = args.batch_size or 32, args.jobs or 2
        args.train_limit, args.test_limit = args.train_limit or 64, args.test_limit or 64
        args.val_limit, args.energy_images = args.val_limit or 64, args.energy_images or 8
    args.cifar = args.cifar or str(next((a for a in CIFAR_ARCHIVES if a.is_file()), CIFAR_ARCHIVES[0]))
    if args.check_backend:  # the check job never fails: the ProjLeaky runs wait for it
        folder = Path(args.check_backend)
        try:
            verdict = check_backend(json.loads((folder / "specs.json").read_text()), args.backend,
                                    args.batch_size or 128)
        except BaseException as err:
            verdict = {"card": "?", "backend": "eager", "why": f"check FAILED ({type(err).__name__}: {err})"[:800]}
        (folder / "backend.json").write_text(json.dumps(verdict))
        print(json.dumps(verdict), flush=True)
        return 0
    if args.list:
        for name, spec in all_specs(args).items():
            backend = "<checked>" if spec["neuron"] == "proj" else None
            print(name, " ".join(command(spec, args, Path(args.out) / name, backend)[2:]))
        return 0
    if args.estimate:
        return estimate(args)
    args.work = args.work or str(Path(args.out).parent / f".{Path(args.out).name}-work")
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
