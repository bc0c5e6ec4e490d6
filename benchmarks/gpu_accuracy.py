"""The accuracy table at full scale on one GPU (issues 13, 19, 22): every training is
the package's own CLI (``python -m snntorch_ms train ... --device cuda --fused-optimizer
--no-progress --out <dir>``), several at once on the card, run by this driver within a
budget. ``gpu_accuracy.sh`` wraps it for the GPU machine; the README says more.

    python benchmarks/gpu_accuracy.py --out $OUT --budget 200     # on the GPU machine
    python benchmarks/gpu_accuracy.py --tiny --out runs/acc-tiny   # CPU dry run
    python benchmarks/gpu_accuracy.py --estimate --json est.json   # device-time estimate
    python benchmarks/gpu_accuracy.py --list                       # the trainings' commands
"""

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from experiment import launch, run_jobs, step_costs

from snntorch_ms.cli import parse_kv
from snntorch_ms.data import dataset_info
from snntorch_ms.functional.fused import triton_available
from snntorch_ms.train import TrainConfig, build_from_config, load_checkpoint, resolve_config
from snntorch_ms.utils import set_backend

ROOT = Path(__file__).resolve().parents[1]
FASHION, CIFAR = "fashion-mnist", "cifar10"
DATA_NAMES = {FASHION: "Fashion-MNIST", CIFAR: "CIFAR-10 (JPEG q75 copy)"}
SIZES = {FASHION: (60000, 0, 10000), CIFAR: (45000, 5000, 10000)}  # train, val, test
CIFAR_ARCHIVE = next((a for a in (ROOT / "gpu-carry" / "data", ROOT.parent / "shared" / "data")
                      if (a / "cifar10-jpeg.tar.gz").is_file()), ROOT / "gpu-carry" / "data")
BATCH = 128  # the recipes' batch size
#: The paper's neuron constants (issue 19); Leaky drops theta, ReLU takes none.
PAPER_NEURON = {"threshold": 0.5, "beta": 0.4, "spike_grad": "rectangular:width=1",
                "theta": 0.5, "reset_mechanism": "subtract"}
CIFAR_EPOCHS = 6  # what fits the 4-minute slot for the three CIFAR rows alone (README)
CHECK = "backend-check"  # the job that picks ProjLeaky's engine (and reads the card)
TINY = dict(device="cpu", epochs=1, cifar_epochs=1, batch_size=32, jobs=2, limit=64,
            energy_images=8)  # the CPU dry run


def _row(dataset, model, neuron, T=1, seeds=(0,), **extra):
    return dict(dataset=dataset, model=model, neuron=neuron, timesteps=T, seeds=seeds, **extra)


# Fashion-MNIST, the CLI's basic recipe: the full-width ConvNet and the paper's CNN mixer at
# full size. CIFAR-10 (5,000 validation images): the full-size mixer with the paper's
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

# SLOT: the best T=1 configuration of issue 10 (docs/techniques.md, "Final round": Leaky,
# no technique, three times as long), or --best-t1 '<json>': a row's keys ("dataset"
# defaults to Fashion-MNIST, "seeds" to 0), and "epochs_factor" (x the Fashion-MNIST
# rows'), "neuron_kwargs", "model_kwargs", "config" (TrainConfig fields, passed as their
# CLI flags: {"lr": 1e-3} -> --lr 0.001) and "cli_args" (more CLI flags), all optional.
BEST_T1 = {"name": "convnet-best-T1", "model": "convnet", "neuron": "leaky", "timesteps": 1,
           "epochs_factor": 3, "seeds": (0,)}  # one seed: 30 epochs, ~20 s of the card


def all_specs(args) -> dict:
    """run name -> spec (seed and epochs resolved), the longest-running first."""
    rows = dict(ROWS)
    best = dict(json.loads(args.best_t1) if args.best_t1 else BEST_T1)
    if best:
        rows[best.pop("name", "convnet-best-T1")] = {"seeds": (0,), **best}
    specs = {}
    for name, row in rows.items():
        for seed in args.seeds or row["seeds"]:
            spec = {"dataset": FASHION, "recipe": "basic", "config_name": name, "seed": seed,
                    **{k: v for k, v in row.items() if k != "seeds"}}
            specs[f"{name}-s{seed}"] = dict(spec, epochs=epochs_of(spec, args))
    if args.only:
        unknown = set(args.only) - set(specs) - {s["config_name"] for s in specs.values()}
        if unknown:
            raise SystemExit(f"unknown trainings {sorted(unknown)}; known: {sorted(specs)}")
        specs = {k: s for k, s in specs.items() if {k, s["config_name"]} & set(args.only)}
    cost = lambda s: (s["dataset"] == CIFAR, s["model"] == "cnn-mixer", s["timesteps"],  # noqa
                      s["neuron"] == "proj", s["epochs"])
    return dict(sorted(specs.items(), key=lambda kv: cost(kv[1]), reverse=True))


def epochs_of(spec, args) -> int:
    """CIFAR-10: ``--cifar-epochs``; else ``--epochs`` or the recipe's, x ``epochs_factor``."""
    if spec["dataset"] == CIFAR:
        return args.cifar_epochs
    factor = spec.get("epochs_factor")
    if factor is not None and "epochs" in (spec.get("config") or {}):
        raise ValueError(f"{spec['config_name']}: give 'epochs_factor' or config 'epochs', "
                         "not both")
    if factor is not None and (type(factor) not in (int, float) or factor <= 0):
        raise ValueError(f"'epochs_factor' must be a positive number, got {factor!r}")
    recipe = TrainConfig(dataset=spec["dataset"], recipe=spec.get("recipe", "basic"))
    epochs = args.epochs or resolve_config(recipe).epochs
    return epochs if factor is None else max(1, round(factor * epochs))


def neuron_args(spec, backend=None) -> dict:
    """A run's ``--neuron-arg``s: none for ReLU; theta and the engine for ProjLeaky only."""
    kw = dict(spec.get("neuron_kwargs") or {})
    if spec["neuron"] != "proj":
        return {} if spec["neuron"] == "relu" else {k: v for k, v in kw.items() if k != "theta"}
    return dict(kw, backend=backend) if backend else kw


def command(spec, args, out: Path, backend=None) -> list:
    """The CLI call that trains ``spec`` into ``out`` (a True setting: its flag alone)."""
    flags = dict(
        dataset=spec["dataset"], data_dir=args.cifar if spec["dataset"] == CIFAR else args.data,
        no_download=True, model=spec["model"], neuron=spec["neuron"],
        timesteps=spec["timesteps"], recipe=spec["recipe"], epochs=spec["epochs"],
        seed=spec["seed"], device=args.device, threads=1, out=out, no_progress=True,
        fused_optimizer=True, batch_size=args.batch_size, limit_train=args.limit,
        limit_test=args.limit, energy_images=args.energy_images,
        val_images=spec.get("val_images") and (args.limit or spec["val_images"]))
    cmd = [sys.executable, "-m", "snntorch_ms", "train"]
    for field, value in dict(flags, **(spec.get("config") or {})).items():
        if value is not None and value is not False:
            cmd += ["--" + field.replace("_", "-")] + ([] if value is True else [str(value)])
    for flag, kw in (("--model-arg", spec.get("model_kwargs") or {}),
                     ("--neuron-arg", neuron_args(spec, backend))):
        cmd += [a for k, v in kw.items() for a in (flag, f"{k}={v}")]
    return cmd + [str(a) for a in spec.get("cli_args") or ()]


def _network(spec, device, **model_kwargs):
    """The network the run's CLI call builds, and its input shape."""
    kv = lambda d: parse_kv([f"{k}={v}" for k, v in d.items()])  # noqa: E731
    c = resolve_config(TrainConfig(
        dataset=spec["dataset"], model=spec["model"], neuron=spec["neuron"],
        timesteps=spec["timesteps"], recipe=spec["recipe"], neuron_kwargs=kv(neuron_args(spec)),
        model_kwargs=kv(dict(spec.get("model_kwargs") or {}, **model_kwargs))))
    info = dataset_info(c.dataset)
    return build_from_config(c).to(device), (info.in_channels, info.image_size, info.image_size)


def check_job(folder: Path, backend: str, batch: int) -> int:
    """ProjLeaky's engine into ``<folder>/backend.json``: ``backend``, or ``eager`` if it
    is ``triton`` and Triton is missing, fails or disagrees with the eager fused math
    (cosine < 0.99 logits / 0.98 gradients) on a network of ``specs.json``. Never fails."""
    cuda = torch.cuda.is_available()
    v = dict(card=torch.cuda.get_device_name() if cuda else "cpu", torch=torch.__version__,
             backend=backend, why=f"--backend {backend}")
    failed, seen, t0 = "check FAILED", [], time.time()
    try:
        specs = json.loads((folder / "specs.json").read_text())
        if not specs:
            v.update(backend="-", why="no ProjLeaky run")
        elif backend == "triton" and not (cuda and triton_available()):
            v.update(backend="eager", why="no CUDA or no Triton: eager fused math")
        elif backend == "triton":
            for name, spec in ((s["config_name"], s) for s in specs):
                failed, res = f"Triton FAILED on {name}", []
                for engine in ("eager", "triton"):  # the same network, batch and loss
                    torch.manual_seed(0)
                    net, shape = _network(spec, "cuda")
                    x = torch.randn(batch, *shape, device="cuda")
                    with torch.autocast("cuda", dtype=torch.bfloat16):
                        logits = set_backend(net, engine)(x).float()
                    F.cross_entropy(logits, torch.arange(batch, device="cuda") % 10).backward()
                    grads = [p.grad.flatten() for p in net.parameters() if p.grad is not None]
                    res.append((logits.detach().flatten(), torch.cat(grads).float()))
                cos = [float(F.cosine_similarity(a, b, 0)) for a, b in zip(*res)]
                seen.append(f"{name} {cos[0]:.4f}/{cos[1]:.4f}")
                if cos[0] < 0.99 or cos[1] < 0.98:
                    v.update(backend="eager", why=f"Triton DISAGREES on {name}: cosine logits "
                             f"{cos[0]:.4f}, grads {cos[1]:.4f}")
                    break
            else:
                v["why"] = ("Triton agrees with the eager fused math (cosine logits/grads "
                            f"{', '.join(seen)}; {time.time() - t0:.0f} s)")
    except BaseException as err:  # a kernel that does not compile: the eager fused math
        v.update(backend="eager", why=f"{failed} ({type(err).__name__}: {err})"[:800])
    (folder / "backend.json").write_text(json.dumps(v))
    print(json.dumps(v), flush=True)
    return 0


def result_line(name, spec, folder: Path, status: str, wall=None) -> dict:
    """A run's ``results.jsonl`` line: from its metrics, or its checkpoint if stopped."""
    m = json.loads((folder / "metrics.json").read_text()) if status == "done" else {}
    if status == "partial":
        try:
            m = {k: v for k, v in load_checkpoint(folder).items() if k in ("history", "config")}
        except Exception:  # stopped before its first epoch ended
            pass
    hist, cfg, timing = m.get("history") or [], m.get("config") or {}, m.get("timing") or {}
    last = hist[-1] if hist else {}
    copied = ("energy_j", "ann_energy_j", "energy_ratio", "firing_rates", "parameters",
              "device", "threads", "torch_version", "snntorch_ms_version", "data_source")
    return {"run": name, **{k: spec[k] for k in ("config_name", "seed", "dataset", "model",
                                                 "neuron", "timesteps")},
            "status": status, "epochs": len(hist), "epochs_planned": spec["epochs"],
            "test_acc": last.get("test_acc"), "val_acc": last.get("val_acc"),
            "best_test_acc": max((h["test_acc"] for h in hist), default=None),
            "train_s": timing.get("train_s", sum(h["time_s"] for h in hist) if hist else None),
            "process_s": timing.get("process_s"), "wall_s": wall,
            "proj_backend": (cfg.get("neuron_kwargs") or {}).get("backend"),
            **{k: m.get(k) for k in copied},
            "paper_energy_ratio": (m.get("paper_convention") or {}).get("energy_ratio"),
            "history": hist, "config": cfg}


def table(records, specs, header: str) -> str:
    """Mean ± half range over seeds per configuration, in run-list order; time ratios
    to the same network's ReLU and Leaky T=4 rows on the same data and epochs."""
    rows = []
    for name in dict.fromkeys(s["config_name"] for s in specs.values()):
        runs = [r for r in records if r["config_name"] == name]
        ok = [r for r in runs if r["test_acc"] is not None]
        accs = [r["test_acc"] for r in ok]
        mean = lambda k: (statistics.mean(r[k] for r in ok)  # noqa: E731
                          if ok and all(r[k] is not None for r in ok) else None)
        status = {r["status"] + (f" ({r['epochs']}/{r['epochs_planned']} ep)"
                                 if r["status"] == "partial" else "") for r in runs}
        rows += [dict(runs[0], name=name, acc=mean("test_acc"), val=mean("val_acc"),
                      time=mean("train_s"), energy=mean("energy_ratio"), status=sorted(status),
                      spread=(max(accs) - min(accs)) / 2 if accs else 0.0,
                      seeds=",".join(map(str, sorted(r["seed"] for r in runs))))] if runs else []

    def ratio(r, neuron, T):
        base = [b["time"] for b in rows if (b["neuron"], b["timesteps"]) == (neuron, T)
                and all(b[k] == r[k] for k in ("dataset", "model", "epochs_planned"))]
        return f"{r['time'] / base[0]:.2f}" if base and base[0] and r["time"] else "-"

    fmt = lambda v, f=".2f": "-" if v is None else format(v, f)  # noqa: E731
    lines = [header, "", "| configuration | data | T | epochs | test acc % | val acc % | train s | "
             "time / ReLU | time / Leaky T=4 | ANN/SNN energy | seeds | status |",
             "|---" * 12 + "|"]
    for r in rows:
        cells = (r["name"] + (f" ({r['proj_backend']})" if r["proj_backend"] else ""),
                 DATA_NAMES.get(r["dataset"], r["dataset"]), r["timesteps"], r["epochs_planned"],
                 fmt(r["acc"]) + (f" ± {r['spread']:.2f}" if r["spread"] else ""), fmt(r["val"]),
                 fmt(r["time"], ".1f"), ratio(r, "relu", 1), ratio(r, "leaky", 4),
                 fmt(r["energy"]), r["seeds"], ", ".join(r["status"]))
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


def driver(args) -> int:
    """Every run of :func:`all_specs` within ``--budget``; the results into ``--out``."""
    out, work, t0 = Path(args.out), Path(args.work), time.time()
    specs = all_specs(args)
    jobs, parallel = [CHECK, *specs], args.jobs or len(specs) + 1
    for job in jobs:  # an earlier run's folders: each run starts afresh
        shutil.rmtree(work / job, ignore_errors=True)
    (work / CHECK).mkdir(parents=True)
    proj = {(s["dataset"], s["model"]): s for s in specs.values() if s["neuron"] == "proj"}
    (work / CHECK / "specs.json").write_text(json.dumps(list(proj.values())))
    verdict_file, results = work / CHECK / "backend.json", out / "results.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    results.write_text("")
    print(f"# {len(specs)} trainings, {parallel} at a time, {args.budget:.0f} s: "
          + ", ".join(specs), flush=True)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def verdict():  # the check job's, once it has written it
        return json.loads(verdict_file.read_text()) if verdict_file.is_file() else {
            "backend": "eager", "why": "no verdict from the check", "card": args.device}

    def start(job):
        if job == CHECK:
            cmd = [sys.executable, Path(__file__).resolve(), "--check-backend", work / CHECK,
                   "--backend", args.backend, "--batch-size", args.batch_size or BATCH]
        else:  # the engine reaches ProjLeaky runs only
            cmd = command(specs[job], args, work / job, verdict()["backend"])
        return launch(cmd, work / job, ROOT, env)

    def finish(job, status, wall=None):  # a run's results line, the moment it ends
        msg = "ProjLeaky: {backend} ({why}); card {card}".format(**verdict())
        if job != CHECK:
            line = result_line(job, specs[job], work / job, status, wall)
            with open(results, "a") as fh:
                fh.write(json.dumps(line, default=str) + "\n")
            done = f": test {line['test_acc']:.2f} %, {wall:.0f} s" if status == "done" else ""
            msg = f"{status} {job}{done}"
        print(f"[{time.time() - t0:6.1f} s] {msg}", flush=True)

    failed = run_jobs(
        jobs, dependencies=lambda j: [CHECK] if specs.get(j, {}).get("neuron") == "proj" else [],
        trained=lambda j: verdict_file.is_file(), done=lambda j: False, start=start,
        record=lambda j, wall: finish(j, "done", wall), parallel=parallel,
        deadline=t0 + args.budget,
        stopped=lambda j, began: finish(j, "partial" if began else "not started (budget)"))
    for job in sorted(failed - {CHECK}):
        finish(job, "FAILED")
    logs = {j: work / j / "log.txt" for j in jobs if (work / j / "log.txt").is_file()}
    (out / "workers.log").write_text("".join(f"===== {j}\n{f.read_text('utf-8', 'replace')}\n"
                                             for j, f in logs.items()))
    records = [json.loads(x) for x in results.read_text().splitlines() if x.strip()]
    data = ", ".join(DATA_NAMES.get(d, d) for d in dict.fromkeys(r["dataset"] for r in records))
    v = verdict()
    text = table(records, specs, f"{data}: {args.limit or 'all'} images a split; on {v['card']}"
                 f", torch {v.get('torch', '?')}; {len(records)} trainings, up to {parallel} "
                 f"processes at once, {time.time() - t0:.0f} s; ProjLeaky backend "
                 f"{v['backend']} ({v['why']})")
    (out / "table.md").write_text(text)
    bad = [r["run"] for r in records if r["status"] != "done"]
    print("\n" + text + (f"# not done: {', '.join(bad)}" if bad else "# all done"), flush=True)
    return 0


def estimate(args) -> int:
    """Device time from CPU measurements (README, "estimate"; ``experiment.step_costs``).
    A batch takes max(host, device): host = ops x this CPU's time per op x
    ``--host-factor``, device = FLOPs / ``--tflops`` + ops x ``--us-per-kernel``."""
    torch.set_num_threads(1)
    minimal = {"convnet": {"width": 1 / 32}, "cnn-mixer": {"dims": "(4,4,4,4)"}}
    nets, rows, bs = {}, [], args.batch_size or BATCH
    for run, spec in all_specs(args).items():
        if spec["config_name"] not in nets:
            model, shape = _network(spec, "cpu")
            small = _network(spec, "cpu", **minimal[spec["model"]])[0]
            twin = _network(dict(spec, neuron="relu"), "cpu")[0]
            nets[spec["config_name"]] = step_costs(model, small, twin, shape)
        m, (n_train, n_val, n_test) = nets[spec["config_name"]], SIZES[spec["dataset"]]
        steps, evals = math.ceil(n_train / bs), math.ceil(n_test / bs) + math.ceil(n_val / bs)
        fwd_ms = 2e3 * m["mmac_per_image"] * 1e6 * bs / (args.tflops * 1e12)  # one forward
        step_ops, ev_ops = m["ops_per_step"] + 2, m["ops_per_eval_batch"]  # + the optimizer's
        host_ms = m["cpu_us_per_op"] * args.host_factor / 1e3  # an op's
        host, ev_host = step_ops * host_ms, ev_ops * host_ms
        dev = 3 * fwd_ms + step_ops * args.us_per_kernel / 1e3  # forward and backward
        ev_dev = fwd_ms + ev_ops * args.us_per_kernel / 1e3
        epoch_s = (steps * max(host, dev) + evals * max(ev_host, ev_dev)) / 1e3
        epoch_device_s = (steps * dev + evals * ev_dev) / 1e3
        rows.append(dict(m, run=run, dataset=spec["dataset"], epochs=spec["epochs"],
                         host_ms_per_step=host, device_ms_per_step=dev, epoch_s=epoch_s,
                         epoch_device_s=epoch_device_s, gpu_busy_s=spec["epochs"] * epoch_device_s,
                         train_s=spec["epochs"] * epoch_s
                         + (args.decode_s if spec["dataset"] == CIFAR else 0)))
        print(f"{run:<24} host {host:5.1f}, device {dev:5.1f} ms a step, {epoch_s:5.1f} s an epoch")
    busy, done = sum(r["gpu_busy_s"] for r in rows), shared_card(rows, args)
    longest = max(rows, key=lambda r: r["train_s"])
    summary = dict(trainings=len(rows), longest=longest["run"], longest_s=longest["train_s"],
                   gpu_busy_sum_s=busy, wall_estimate_s=args.startup_s + max(longest["train_s"],
                   busy), budget_s=args.budget, epochs_by_budget=done)
    short = [f"{r['run']} {done[r['run']]:.1f}/{r['epochs']}" for r in rows
             if done[r["run"]] < r["epochs"]]
    print(f"# {len(rows)} trainings, the card busy {busy:.0f} s summed; all at once within the "
          f"{args.budget:.0f} s budget, epochs done: {', '.join(short) or 'all'}", flush=True)
    if args.json:
        assume = ("host_factor", "us_per_kernel", "tflops", "startup_s", "decode_s", "batch_size")
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary, "assumptions": {
            k: getattr(args, k) for k in assume}}, indent=2))
    return 0


def shared_card(rows, args) -> dict:
    """Epochs each run finishes by the budget, all at once: each at its pace alone, all
    slowed alike while their shares of the card sum above 1; CIFAR-10's after the decode."""
    left = {r["run"]: r["epochs"] * r["epoch_s"] for r in rows}  # seconds of work alone
    t, dt = args.startup_s, 0.1
    while t < args.budget and any(v > 0 for v in left.values()):
        active = [r for r in rows if left[r["run"]] > 0
                  and t >= args.startup_s + (args.decode_s if r["dataset"] == CIFAR else 0)]
        load = max(1.0, sum(r["epoch_device_s"] / r["epoch_s"] for r in active))
        for r in active:
            left[r["run"]] -= dt / load
        t += dt
    return {r["run"]: r["epochs"] - max(0.0, left[r["run"]]) / r["epoch_s"] for r in rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = p.add_argument
    add("--data", default=str(ROOT / "gpu-carry" / "data"), help="holds FashionMNIST/raw/")
    add("--cifar", default=str(CIFAR_ARCHIVE / "cifar10-jpeg.tar.gz"), help="the CIFAR-10 "
        "archive (default: gpu-carry/data/'s, else ../shared/data/'s)")
    add("--out", default="runs/gpu-accuracy")
    add("--work", help="the run folders (default <out>/../.<name>-work)")
    add("--device", default="cuda")
    add("--budget", type=float, default=200.0, help="seconds until what still runs is stopped")
    add("--jobs", type=int, default=0, help="processes at a time (0: all at once)")
    add("--backend", default="triton", choices="auto reference eager compiled triton".split())
    add("--epochs", type=int, help="Fashion-MNIST rows (default: the recipe's, 10)")
    add("--cifar-epochs", type=int, default=CIFAR_EPOCHS)
    add("--batch-size", type=int, help=f"default: the recipe's ({BATCH})")
    add("--limit", type=int, help="at most this many images in each split")
    add("--energy-images", type=int, help="default: the CLI's (64)")
    add("--seeds", type=int, nargs="+", help="every row's seeds")
    add("--only", nargs="+", help="configurations or runs (<config>-s<seed>) to train")
    add("--best-t1", help="JSON spec filling the BEST_T1 slot")
    add("--tiny", action="store_true", help=f"the CPU dry run: {TINY}")
    add("--list", action="store_true", help="print the trainings' commands")
    add("--estimate", action="store_true", help="the device-time estimate (on the CPU)")
    add("--host-factor", type=float, default=1.0, help="estimate: GPU host op time / this CPU's")
    add("--us-per-kernel", type=float, default=4.0, help="estimate: a small kernel's device µs")
    add("--tflops", type=float, default=50.0, help="estimate: effective bf16 TFLOP/s")
    add("--startup-s", type=float, default=25.0, help="estimate: process start, data load")
    add("--decode-s", type=float, default=40.0, help="estimate: decoding CIFAR-10 once")
    add("--json", help="estimate: write it here")
    add("--check-backend", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.tiny:
        p.set_defaults(**TINY)
        args = p.parse_args(argv)
    if args.check_backend:
        return check_job(Path(args.check_backend), args.backend, args.batch_size or BATCH)
    if args.list:
        for name, spec in all_specs(args).items():
            print(name, " ".join(command(spec, args, Path(args.out) / name, "<checked>")[2:]))
        return 0
    if args.estimate:
        return estimate(args)
    args.work = args.work or str(Path(args.out).parent / f".{Path(args.out).name}-work")
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
