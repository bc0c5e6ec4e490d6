"""Accuracy at one time step: ReLU, snntorch Leaky (T=1, T=4) and ProjLeaky (T=1)
trained with one network and one recipe on real Fashion-MNIST, plus an ablation of
ProjLeaky's choices.

Every configuration runs in its own process through the command line
(``python -m snntorch_ms train``), so each starts from a clean interpreter and the
timings are comparable within one run of this script. Ratios are against the
baselines measured in the same run (the machines are shared and noisy).

Usage::

    python benchmarks/accuracy_t1.py                       # main comparison, CPU subset
    python benchmarks/accuracy_t1.py --suite ablation      # ProjLeaky variants
    python benchmarks/accuracy_t1.py --suite all --train 60000 --test 10000 \\
        --epochs 10 --seeds 0 1 --device cuda               # the full set on a GPU

Goals (issue: the main job): ProjLeaky at T=1 at least Leaky at T=4, within one
point of ReLU, in less training time than Leaky at T=4.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# name -> (neuron, T, model, neuron args, model args)
MAIN = {
    "relu": ("relu", 1, {}, {}),
    "leaky-T1": ("leaky", 1, {}, {}),
    "leaky-T4": ("leaky", 4, {}, {}),
    "proj-T1": ("proj", 1, {}, {}),
    "proj-T1-eager": ("proj", 1, {"backend": "eager"}, {}),  # "proj-T1-fused" before 0.4.0
}

# ProjLeaky variants at T=1; each changes one choice of the default
ABLATION = {
    "proj-thr0.5": ("proj", 1, {"threshold": 0.5}, {}),
    "proj-theta1.0": ("proj", 1, {"theta": 1.0}, {}),
    "proj-theta0.25": ("proj", 1, {"theta": 0.25}, {}),
    "proj-learn": ("proj", 1, {"learn_beta": True, "learn_threshold": True,
                               "learn_theta": True}, {}),
    "proj-lateral": ("proj", 1, {}, {"lateral": True}),
    "proj-quad": ("proj", 1, {}, {"windows": "quad"}),
    "proj-overlap": ("proj", 1, {}, {"windows": "overlap"}),
    "proj-g2": ("proj", 1, {}, {"groups": 2}),
    "proj-g4": ("proj", 1, {}, {"groups": 4}),  # the backbones' default before 0.1.0's ablation
    "proj-mean": ("proj", 1, {"condense": "mean"}, {}),
    "proj-rect": ("proj", 1, {"spike_grad": "rectangular:width=1"}, {}),
    "proj-reset-zero": ("proj", 1, {"reset_mechanism": "zero"}, {}),
    "proj-reset-none": ("proj", 1, {"reset_mechanism": "none"}, {}),
    "proj-nested": ("proj", 1, {"projection": "nested"}, {}),
    "proj-noproj": ("proj", 1, {"projection": "none"}, {}),
}

SUITES = {"main": MAIN, "ablation": ABLATION, "all": {**MAIN, **ABLATION}}


def _arg(value) -> str:
    return str(value)


def run_one(name, spec, args, seed, root: Path):
    neuron, timesteps, neuron_args, model_args = spec
    out = root / f"{name}-s{seed}"
    metrics_path = out / "metrics.json"
    if metrics_path.exists() and not args.rerun:
        return json.loads(metrics_path.read_text())  # resume a sweep without redoing runs
    cmd = [sys.executable, "-m", "snntorch_ms", "train", "--dataset", args.dataset,
           "--data-dir", args.data_dir, "--model", args.model, "--neuron", neuron,
           "--timesteps", str(timesteps), "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size), "--limit-train", str(args.train),
           "--limit-test", str(args.test), "--seed", str(seed), "--device", args.device,
           "--out", str(out), "--no-progress", "--energy-images", "32"]
    if args.lr is not None:
        cmd += ["--lr", str(args.lr)]
    for key, value in {**args.neuron_args, **neuron_args}.items():
        cmd += ["--neuron-arg", f"{key}={_arg(value)}"]
    for key, value in {**args.model_args, **model_args}.items():
        cmd += ["--model-arg", f"{key}={_arg(value)}"]
    print(f"[{time.strftime('%H:%M:%S')}] {name} seed {seed}: {' '.join(cmd[3:])}", flush=True)
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL if args.quiet else None)
    if done.returncode != 0:
        print(f"{name} seed {seed} FAILED (exit {done.returncode}); going on", flush=True)
        return None
    return json.loads(metrics_path.read_text())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", choices=tuple(SUITES), default="main")
    p.add_argument("--only", nargs="*", help="run only these configuration names")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--model", default="convnet")
    p.add_argument("--train", type=int, default=4000, help="training images (balanced subset)")
    p.add_argument("--test", type=int, default=2000, help="test images (balanced subset)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--neuron-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="applied to every configuration (before its own)")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", default="runs/accuracy_t1")
    p.add_argument("--json", help="write the table here as JSON")
    p.add_argument("--rerun", action="store_true", help="ignore finished runs in --out")
    p.add_argument("--quiet", action="store_true", help="hide the per-epoch lines")
    args = p.parse_args(argv)
    args.neuron_args = dict(kv.split("=", 1) for kv in args.neuron_arg)
    args.model_args = dict(kv.split("=", 1) for kv in args.model_arg)

    configs = dict(SUITES[args.suite])
    if args.suite == "ablation":
        configs = {"proj-T1": MAIN["proj-T1"], **configs}
    if args.only:
        unknown = set(args.only) - set(SUITES["all"])
        if unknown:
            p.error(f"unknown configurations {sorted(unknown)}; known: {sorted(SUITES['all'])}")
        configs = {k: SUITES["all"][k] for k in args.only}
    root = Path(args.out) / f"{args.dataset}-{args.model}-n{args.train}-e{args.epochs}"
    root.mkdir(parents=True, exist_ok=True)

    rows = {}
    for name, spec in configs.items():
        runs = [r for r in (run_one(name, spec, args, seed, root) for seed in args.seeds) if r]
        if not runs:
            continue
        accs = [r["test_acc"] for r in runs]
        times = [r["timing"]["train_s"] for r in runs]
        rows[name] = {
            "acc": statistics.mean(accs),
            "acc_spread": (max(accs) - min(accs)) / 2 if len(accs) > 1 else 0.0,
            "train_s": statistics.mean(times),
            "energy_ratio": statistics.mean(r["energy_ratio"] for r in runs),
            "seeds": args.seeds,
        }

    def ratio(name, key, base):
        if base in rows and rows[base][key]:
            return rows[name][key] / rows[base][key]
        return float("nan")

    header = (f"{'configuration':<16} {'test acc %':>12} {'train s':>9} {'time/ReLU':>10} "
              f"{'time/LeakyT4':>13} {'ANN/SNN energy':>15}")
    print()
    print(f"{args.dataset}, {args.model}, {args.train} train / {args.test} test images, "
          f"{args.epochs} epochs, seeds {args.seeds}, device {args.device}")
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        acc = f"{row['acc']:.2f}" + (f"±{row['acc_spread']:.2f}" if row["acc_spread"] else "")
        print(f"{name:<16} {acc:>12} {row['train_s']:>9.1f} {ratio(name, 'train_s', 'relu'):>10.2f} "
              f"{ratio(name, 'train_s', 'leaky-T4'):>13.2f} {row['energy_ratio']:>15.2f}")
    if {"proj-T1", "leaky-T4", "relu"} <= set(rows):
        proj, t4, relu = rows["proj-T1"], rows["leaky-T4"], rows["relu"]
        print()
        print(f"goal: ProjLeaky T1 >= Leaky T4: {proj['acc']:.2f} vs {t4['acc']:.2f} -> "
              f"{'met' if proj['acc'] >= t4['acc'] else 'not met'}")
        print(f"goal: within 1 point of ReLU: {proj['acc'] - relu['acc']:+.2f} -> "
              f"{'met' if proj['acc'] >= relu['acc'] - 1 else 'not met'}")
        print(f"goal: less training time than Leaky T4: ratio {proj['train_s'] / t4['train_s']:.2f} -> "
              f"{'met' if proj['train_s'] < t4['train_s'] else 'not met'}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": {k: v for k, v in vars(args).items()}, "rows": rows,
             "machine": {"cpus": os.cpu_count(), "device": args.device}}, indent=2))


if __name__ == "__main__":
    main()
