"""The paper's claims on CIFAR-10 (JPEG q75 copy): does the multi-receptive-field
recurrence with the projection help at T=1, by how much, at what cost?

Setting, the same for every row: CIFAR-10 (JPEG q75 copy, ``shared/data/
cifar10-jpeg.tar.gz``, read in place and decoded once into the package's cache);
45,000 training images, a class-balanced 5,000 of the training set held out for
validation (every choice is made on it), the 10,000 test images for the final
table; ``--recipe paper`` (SGD 0.05, pad-4 crop + flip, mixup 0.1, dropout 0.1,
clip 20, cosine) for E = 8 epochs with one warm-up epoch; batch 128. Neuron
constants as the paper sets them, for Leaky and ProjLeaky alike: threshold 0.5,
beta 0.4, rectangular surrogate (width 1), theta 0.5, subtract reset. Networks: the
paper's mixers at reduced size (``dims=(16,32,64,128)``, ``depths=(1,1,2,1)``; g=4,
quad and overlap alternating, quad in the last stage; every neuron, ReLU included,
runs on the same windows) and the half-width all-spiking ConvNet (ProjLeaky at its
default g=2).

Rows, in priority order (the first must finish even if the rest does not):

* A. CNN mixer, seeds 0-2: ReLU, Leaky, ProjLeaky, each at g=4 and g=1.
* B. ConvNet, seeds 0-2: ReLU, Leaky, ProjLeaky; distillation from the same seed's
  ReLU run for Leaky and ProjLeaky, seeds 0-1 (charged the teacher's time).
* C. LSTM mixer, seeds 0-1: ReLU, Leaky, ProjLeaky at g=4, ProjLeaky at g=1.
* D. CNN mixer ProjLeaky, seeds 0-1 (the paper's Table 4, Figure 5a): g=2
  alternating; quad only, overlap only (g=4); projection none, mean, nested; the
  previous layer's membrane off (``lateral=False``).
* E. seed 0: Leaky T=4 in the CNN mixer and the ConvNet; ProjLeaky with
  ``condense="mean"`` (MSp, priced as spikes) and with Bernoulli input encoding.

Plan and estimate (timed on this machine, 2-core x86-64, one thread per run, two
runs at a time, 2,000-image probes): a 45,000-image epoch takes about 80 s for a
spiking CNN mixer (65 s ReLU), 85 s for the ConvNet (45 s ReLU), 105 s for the LSTM
mixer, four times that at T=4; validation and test add about 10 % per epoch. With
E = 8: A 18 runs x 11 min = 3.3 h, B 13 runs = 2.4 h, C 8 runs x 15 min = 2.0 h,
D 14 runs = 2.6 h, E 4 runs = 1.8 h: about 12 CPU-hours, 6 hours on two cores,
several sittings.

Every run is its own process (``python -m snntorch_ms train``) started from this
file's checkout (run it from a ``git worktree`` pinned at one commit: the commit and
the package path each run imported are recorded in its result); ``--jobs`` at a
time, one thread each. A finished run writes ``<results>/<name>-s<seed>/result.json``
(and, with ``--commit``, commits it in the checkout that holds ``--results``); a
later call skips what is done, and a killed run resumes from its checkpoint.

Usage::

    git worktree add ../exp-cifar10 <commit>
    cd ../exp-cifar10 && python benchmarks/cifar10_claims.py --jobs 2 --commit \\
        --results ../main/benchmarks/results/cifar10_claims
    python benchmarks/cifar10_claims.py --report --docs      # tables and pictures
    python benchmarks/cifar10_claims.py --plan               # list the runs only
    python benchmarks/cifar10_claims.py --tiny --runs /tmp/c --results /tmp/cr  # dry run
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from experiment import (commit, format_gain, label_points, launch, log_energy_axis, mean_sd,
                        paired_gain, pareto, pyplot, result_path, run_dir, run_jobs,
                        save_figure, trained)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
DATA_NAME = "CIFAR-10 (JPEG q75 copy)"

#: The paper's neuron constants, for Leaky and ProjLeaky alike (theta reaches
#: ProjLeaky only).
NEURON_ARGS = {"threshold": 0.5, "beta": 0.4, "spike_grad": "rectangular:width=1",
               "theta": 0.5, "reset_mechanism": "subtract"}
MIXER_ARGS = {"dims": "(16,32,64,128)", "depths": "(1,1,2,1)"}
CONVNET_ARGS = {"width": 0.5}


def _run(row, model, neuron, seeds, g=None, T=1, model_args=None, neuron_args=None,
         teacher=None, label=None):
    margs = dict(MIXER_ARGS if model.endswith("mixer") else CONVNET_ARGS)
    if g is not None:
        margs["groups"] = g
    margs.update(model_args or {})
    return dict(row=row, model=model, neuron=neuron, seeds=list(seeds), g=g, T=T,
                model_args=margs, neuron_args={**NEURON_ARGS, **(neuron_args or {})},
                teacher=teacher, label=label)


def configurations():
    """Every run of the experiment, by name, in priority order."""
    cfgs = {}
    s3, s2, s1 = (0, 1, 2), (0, 1), (0,)
    for g in (4, 1):
        for neuron in ("relu", "leaky", "proj"):
            cfgs[f"cnn-{neuron}-g{g}"] = _run("A", "cnn-mixer", neuron, s3, g)
    for neuron in ("relu", "leaky", "proj"):
        cfgs[f"conv-{neuron}"] = _run("B", "convnet", neuron, s3, 2 if neuron == "proj" else None)
    for neuron in ("leaky", "proj"):
        cfgs[f"conv-{neuron}-kd"] = _run("B", "convnet", neuron, s2,
                                         2 if neuron == "proj" else None, teacher="conv-relu")
    for neuron in ("relu", "leaky", "proj"):
        cfgs[f"lstm-{neuron}-g4"] = _run("C", "lstm-mixer", neuron, s2, 4)
    cfgs["lstm-proj-g1"] = _run("C", "lstm-mixer", "proj", s2, 1)
    d = {"cnn-proj-g2": dict(g=2),
         "cnn-proj-quad": dict(g=4, model_args={"windows": "quad"}),
         "cnn-proj-overlap": dict(g=4, model_args={"windows": "overlap"}),
         "cnn-proj-none": dict(g=4, neuron_args={"projection": "none"}),
         "cnn-proj-mean": dict(g=4, neuron_args={"projection": "mean"}),
         "cnn-proj-nested": dict(g=4, neuron_args={"projection": "nested"}),
         "cnn-proj-nolateral": dict(g=4, model_args={"lateral": False})}
    for name, kw in d.items():
        cfgs[name] = _run("D", "cnn-mixer", "proj", s2, **kw)
    cfgs["cnn-leaky-T4"] = _run("E", "cnn-mixer", "leaky", s1, 4, T=4)
    cfgs["conv-leaky-T4"] = _run("E", "convnet", "leaky", s1, T=4)
    cfgs["cnn-proj-msp"] = _run("E", "cnn-mixer", "proj", s1, 4, neuron_args={"condense": "mean"})
    cfgs["cnn-proj-bernoulli"] = _run("E", "cnn-mixer", "proj", s1, 4,
                                      model_args={"encode": "bernoulli"})
    return cfgs


def jobs_in_order(cfgs):
    """``(name, seed)`` in priority order: row by row, and within a row seed by seed,
    so a sitting that ends early leaves whole seeds of the first rows."""
    out = []
    for row in "ABCDE":
        names = [n for n, c in cfgs.items() if c["row"] == row]
        for seed in range(3):
            out += [(n, seed) for n in names if seed in cfgs[n]["seeds"]]
    return out


# -- running ------------------------------------------------------------------------


def command(args, cfgs, name, seed):
    c = cfgs[name]
    cmd = [sys.executable, "-m", "snntorch_ms", "train", "--dataset", "cifar10",
           "--data-dir", str(args.data), "--model", c["model"], "--neuron", c["neuron"],
           "--timesteps", str(c["T"]), "--recipe", "paper", "--epochs", str(args.epochs),
           "--warmup-epochs", "1", "--batch-size", str(args.batch_size),
           "--val-images", str(args.val), "--seed", str(seed), "--device", "cpu",
           "--threads", "1", "--energy-images", str(args.energy_images), "--no-download",
           "--out", str(run_dir(args.runs, name, seed)), "--resume", "--no-progress"]
    if args.train:
        cmd += ["--limit-train", str(args.train)]
    if args.test:
        cmd += ["--limit-test", str(args.test)]
    for key, value in c["model_args"].items():
        cmd += ["--model-arg", f"{key}={value}"]
    if c["neuron"] != "relu":
        for key, value in c["neuron_args"].items():
            cmd += ["--neuron-arg", f"{key}={value}"]
    if c["teacher"]:
        cmd += ["--teacher", str(run_dir(args.runs, c["teacher"], seed))]
    return cmd


def git_commit_of(repo):
    out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                         text=True)
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--",
                            "snntorch_ms"], capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("+uncommitted-package-changes" if dirty else "")


def checkout_of(folder):
    """The git checkout holding ``folder`` (results land in main, not in the worktree)."""
    out = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
                         capture_output=True, text=True)
    return Path(out.stdout.strip()) if out.returncode == 0 else REPO


def summarise(args, cfgs, name, seed):
    """The compact result of a finished run: what the tables and pictures need."""
    m = json.loads((run_dir(args.runs, name, seed) / "metrics.json").read_text())
    c = cfgs[name]
    rep, ann = m["energy_report"], m["ann_energy_report"]
    return {
        "name": name, "seed": seed, "row": c["row"], "model": c["model"],
        "neuron": c["neuron"], "g": c["g"], "T": c["T"],
        "model_args": c["model_args"], "neuron_args": c["neuron_args"] if c["neuron"] != "relu"
        else {}, "teacher": c["teacher"],
        "epochs": m["epochs"], "test_acc": m["test_acc"], "val_acc": m.get("val_acc"),
        "val_curve": [h.get("val_acc") for h in m["history"]],
        "test_curve": [h.get("test_acc") for h in m["history"]],
        "energy_j": m["energy_j"],
        "energy_with_neurons_j": rep["per_image_with_neurons_j"],
        "ann_energy_with_neurons_j": ann["per_image_with_neurons_j"],
        "ratio_with_neurons": ann["per_image_with_neurons_j"] / rep["per_image_with_neurons_j"],
        "paper_energy_j": m["paper_convention"]["energy_j"],
        "paper_ann_energy_j": m["paper_convention"]["ann_energy_j"],
        "mean_rate": rep.get("mean_rate"),
        "train_s": m["timing"]["train_s"],
        "train_s_total": (m.get("budget") or {}).get("train_s_total", m["timing"]["train_s"]),
        "teacher_acc": (m.get("teacher") or {}).get("test_acc"),
        "data_source": m.get("data_source"), "commit": git_commit_of(REPO),
        "snntorch_ms_path": m.get("snntorch_ms_path"), "torch": m.get("torch_version"),
        "date": time.strftime("%Y-%m-%d"),
        "setting": {k: getattr(args, k) for k in ("epochs", "batch_size", "val", "train",
                                                 "test")},
    }


def record(args, cfgs, name, seed, wall):
    result = summarise(args, cfgs, name, seed)
    path = result_path(args.results, name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(path)
    print(f"[{time.strftime('%H:%M:%S')}] done  {name} seed {seed}: test "
          f"{result['test_acc']:.2f} %  val {result['val_acc']:.2f} %  {wall:.0f} s", flush=True)
    if args.commit:
        commit(checkout_of(path.parent), [path],
               f"cifar10_claims: {name} seed {seed} ({result['test_acc']:.2f} % test)")


def run(args, cfgs, rows):
    jobs = [j for j in jobs_in_order(cfgs) if cfgs[j[0]]["row"] in rows]
    deps = lambda k: [(cfgs[k[0]]["teacher"], k[1])] if cfgs[k[0]]["teacher"] else []  # noqa: E731
    return run_jobs(
        jobs, dependencies=deps, trained=lambda k: trained(run_dir(args.runs, *k)),
        done=lambda k: result_path(args.results, *k).is_file(),
        start=lambda k: launch(command(args, cfgs, *k), run_dir(args.runs, *k), REPO,
                               env={"PYTHONPATH": str(REPO)}),
        record=lambda k, wall: record(args, cfgs, *k, wall), parallel=args.jobs,
        log_of=lambda k: f"{k[0]} seed {k[1]}")


# -- report ---------------------------------------------------------------------------


def load_results(results_dir):
    out = {}
    for path in sorted(Path(results_dir).glob("*-s*/result.json")):
        r = json.loads(path.read_text())
        out.setdefault(r["name"], []).append(r)
    return out


def rows(results):
    table = {}
    for name, runs in results.items():
        runs = sorted(runs, key=lambda r: r["seed"])
        acc, acc_sd = mean_sd(r["test_acc"] for r in runs)
        val, val_sd = mean_sd(r["val_acc"] for r in runs)
        table[name] = {
            "runs": runs, "seeds": [r["seed"] for r in runs], "row": runs[0]["row"],
            "acc": acc, "acc_sd": acc_sd, "val": val, "val_sd": val_sd,
            "energy": mean_sd(r["energy_with_neurons_j"] for r in runs)[0],
            "paper_energy": mean_sd(r["paper_energy_j"] for r in runs)[0],
            "paper_ratio": mean_sd(r["paper_ann_energy_j"] / r["paper_energy_j"]
                                   for r in runs)[0],
            "ratio": mean_sd(r["ratio_with_neurons"] for r in runs)[0],
            "train_s": mean_sd(r["train_s_total"] for r in runs)[0],
            "neuron": runs[0]["neuron"], "model": runs[0]["model"], "g": runs[0]["g"],
            "T": runs[0]["T"],
        }
    return table


#: Claims and the paired comparisons (name, partner) that test them.
CLAIMS = [
    ("Windows help (g=4 against g=1, same neuron)",
     [("cnn-proj-g4", "cnn-proj-g1"), ("cnn-leaky-g4", "cnn-leaky-g1"),
      ("cnn-relu-g4", "cnn-relu-g1"), ("lstm-proj-g4", "lstm-proj-g1")]),
    ("The projection beats the alternatives (sincos against none, mean, nested; the "
     "previous layer's membrane on against off)",
     [("cnn-proj-g4", "cnn-proj-none"), ("cnn-proj-g4", "cnn-proj-mean"),
      ("cnn-proj-g4", "cnn-proj-nested"), ("cnn-proj-g4", "cnn-proj-nolateral")]),
    ("ProjLeaky beats Leaky at T=1",
     [("cnn-proj-g4", "cnn-leaky-g4"), ("conv-proj", "conv-leaky"),
      ("lstm-proj-g4", "lstm-leaky-g4"), ("conv-proj-kd", "conv-leaky-kd")]),
    ("T=1 close to the ANN (spiking against ReLU, same network and windows)",
     [("cnn-proj-g4", "cnn-relu-g4"), ("cnn-leaky-g4", "cnn-relu-g4"),
      ("conv-proj", "conv-relu"), ("conv-leaky", "conv-relu"),
      ("lstm-proj-g4", "lstm-relu-g4")]),
]

#: A default moves when, over at least this many seeds, the paired validation gain
#: exceeds this many standard errors (the rule used before, fixed in advance).
VERDICT_MIN_SEEDS = 3
VERDICT_STANDARD_ERRORS = 2.0


def compare(table, a, b):
    """One claim's line: paired test and validation differences of ``a`` minus ``b``."""
    if a not in table or b not in table:
        return f"- {a} vs {b}: not measured yet"
    test, val = paired_gain(table, a, b, "test_acc"), paired_gain(table, a, b, "val_acc")
    if test is None:
        return f"- {a} vs {b}: no common seed yet"
    mean, sd, n = val
    se = sd / n ** 0.5
    if n < VERDICT_MIN_SEEDS:
        word = f"{n} seed{'s' if n > 1 else ''}: too few to decide"
    elif mean > VERDICT_STANDARD_ERRORS * se and mean > 0:
        word = "supported (validation gain > 2 SE)"
    elif mean < -VERDICT_STANDARD_ERRORS * se:
        word = "contradicted (validation loss > 2 SE)"
    else:
        word = "no significant difference"
    return (f"- {a} vs {b}: test {format_gain(test)}, validation {format_gain(val)} "
            f"points: {word}")


def energy_lines(table):
    out = []
    for name in sorted(table):
        r = table[name]
        if r["neuron"] == "relu":
            continue
        out.append(f"- {name}: the ANN twin takes {r['ratio']:.1f}x its energy per image "
                   f"(spike-driven default, neuron work included; {r['energy'] * 1e6:.2f} µJ); "
                   f"{r['paper_ratio']:.1f}x in the paper's convention "
                   f"({r['paper_energy'] * 1e6:.2f} µJ)")
    return out


#: What each row of the experiment compares (the module docs say more).
ROW_TITLES = {"A": "the CNN mixer, g=4 and g=1", "B": "the half-width ConvNet, distillation",
              "C": "the LSTM mixer", "D": "ablations of ProjLeaky in the CNN mixer",
              "E": "T=4, condense=\"mean\", Bernoulli input"}


def table_line(table, name):
    """One run's line: accuracy, energy and training time against the same network's ReLU."""
    r = table[name]
    relu = {"cnn-mixer": "cnn-relu-g4", "lstm-mixer": "lstm-relu-g4",
            "convnet": "conv-relu"}[r["model"]]
    if r["model"] == "cnn-mixer" and r["g"] == 1:
        relu = "cnn-relu-g1"
    ratio = f"{r['train_s'] / table[relu]['train_s']:.2f}" if relu in table else ""
    sd = f" ± {r['acc_sd']:.2f}" if len(r["seeds"]) > 1 else ""
    return (f"| {name} | {len(r['seeds'])} | {r['acc']:.2f}{sd} | {r['val']:.2f} "
            f"| {r['energy'] * 1e6:.2f} | {r['ratio']:.1f} | {r['paper_energy'] * 1e6:.2f} "
            f"| {r['train_s']:.0f} | {ratio} |")


def write_table(args, table, path):
    first = next(iter(table.values()))["runs"][0]
    src = first.get("data_source") or {}
    lines = [
        f"<!-- written by benchmarks/cifar10_claims.py on {time.strftime('%Y-%m-%d')} -->", "",
        f"{src.get('name', DATA_NAME)} (sha256 {str(src.get('sha256', '?'))[:12]}…): "
        f"{45000 if not args.train else args.train} training / {args.val} validation / "
        f"{10000 if not args.test else args.test} test images; paper recipe, "
        f"{args.epochs} epochs (1 warm-up), batch {args.batch_size}; reduced networks "
        "(mixers dims (16, 32, 64, 128), depths (1, 1, 2, 1); half-width ConvNet); CPU, "
        "one thread per run. These are short runs of small networks, not the paper's 300 "
        "epochs at full size. Accuracy: mean ± standard deviation over the seeds run.",
        "", f"Code: commit {first.get('commit', '?')[:12]}, package "
        f"{first.get('snntorch_ms_path')}, torch {first.get('torch')}.", "",
        "Columns: seeds run; test and validation accuracy; energy per image (µJ, "
        "spike-driven, neuron work included) and the ReLU twin's over it; the paper's "
        "convention (µJ); training seconds (a teacher's included) and their ratio to the "
        "same network's ReLU run.", "",
    ]
    for row in sorted({r["row"] for r in table.values()}):
        lines += [f"**Row {row}: {ROW_TITLES[row]}**", "",
                  "| run | seeds | test % | val % | µJ | ANN/SNN | paper µJ | train s | × ReLU |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [table_line(table, name) for name in sorted(table)
                  if table[name]["row"] == row] + [""]
    lines += ["", "Claims (paired by seed: mean ± sd of the differences, in points):", ""]
    for claim, pairs in CLAIMS:
        lines += [f"**{claim}**", ""] + [compare(table, a, b) for a, b in pairs] + [""]
    lines += ["**Energy**", ""] + energy_lines(table)
    path.write_text("\n".join(lines) + "\n")


def plot_windows(table, path):
    """The paper's Table 4 / Figure 5a mirrored: accuracy against g per neuron."""
    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=False)
    for ax, model, prefix in ((axes[0], "CNN mixer", "cnn"), (axes[1], "LSTM mixer", "lstm")):
        for neuron, colour in (("relu", "black"), ("leaky", "tab:blue"), ("proj", "tab:orange")):
            pts = [(g, table[f"{prefix}-{neuron}-g{g}"]) for g in (1, 2, 4)
                   if f"{prefix}-{neuron}-g{g}" in table]
            if not pts:
                continue
            gs = [g for g, _ in pts]
            ax.errorbar(gs, [r["acc"] for _, r in pts], yerr=[r["acc_sd"] for _, r in pts],
                        marker="o", capsize=3, color=colour, label=neuron)
            for g, r in pts:  # the single seeds, so the spread is visible
                ax.plot([g] * len(r["runs"]), [x["test_acc"] for x in r["runs"]], ".",
                        color=colour, alpha=0.4)
        if not any(f"{prefix}-{n}-g{g}" in table for n in ("relu", "leaky", "proj")
                   for g in (1, 2, 4)):
            ax.text(0.5, 0.5, "not measured yet", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
        ax.set_xticks([1, 2, 4])
        ax.set_xlabel("windows g")
        ax.set_title(model)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].legend(fontsize=8)
    fig.suptitle("CIFAR-10 (JPEG q75 copy), T=1: accuracy against the number of windows "
                 "(mean ± sd over seeds, dots: single seeds)", fontsize=9)
    save_figure(fig, path)


def plot_curves(table, path):
    """Per-epoch validation accuracy of every run (mean over its seeds), one panel per
    network."""
    plt = pyplot()

    models = [m for m in ("cnn-mixer", "convnet", "lstm-mixer")
              if any(r["model"] == m for r in table.values())]
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.2), squeeze=False)
    colours = {"relu": "black", "leaky": "tab:blue", "proj": "tab:orange"}
    for ax, model in zip(axes[0], models):
        for name, r in sorted(table.items()):
            if r["model"] != model:
                continue
            curves = [run["val_curve"] for run in r["runs"]]
            epochs = min(len(c) for c in curves)
            mean = [sum(c[e] for c in curves) / len(curves) for e in range(epochs)]
            style = "-" if r["row"] in "ABC" else ":"
            ax.plot(range(1, epochs + 1), mean, style, color=colours[r["neuron"]], lw=1,
                    alpha=0.8)
            ax.annotate(name, (epochs, mean[-1]), fontsize=6, xytext=(2, 0),
                        textcoords="offset points")
        ax.set_title(model)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("validation accuracy (%)")
    fig.suptitle("CIFAR-10 (JPEG q75 copy): validation accuracy per epoch (mean over seeds; "
                 "dotted: rows D-E)", fontsize=9)
    save_figure(fig, path)


def plot_energy(table, path):
    plt = pyplot()

    colours = {"relu": "black", "leaky": "tab:blue", "proj": "tab:orange"}
    markers = {"cnn-mixer": "o", "lstm-mixer": "^", "convnet": "s"}
    fig, ax = plt.subplots(figsize=(9, 6))
    points, names = [], []
    for name, r in table.items():
        x, y = r["energy"] * 1e6, r["acc"]
        points.append((x, y))
        names.append(name)
        ax.errorbar(x, y, yerr=r["acc_sd"] or None, fmt=markers[r["model"]],
                    color=colours[r["neuron"]], capsize=3, ms=5, alpha=0.9)
    log_energy_axis(ax, "energy per image, neuron-internal work included (µJ, log scale)")
    label_points(fig, ax, names, points)
    front = pareto(points)
    if front:
        xs, ys = zip(*front)
        ax.step(xs, ys, where="post", color="red", lw=1, alpha=0.6, label="Pareto front")
    for neuron, col in colours.items():
        ax.plot([], [], "o", color=col, label=neuron)
    for model, m in markers.items():
        ax.plot([], [], m, color="grey", label=model)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("CIFAR-10 (JPEG q75 copy), T=1 unless named: accuracy against energy")
    save_figure(fig, path)


def report(args):
    results = load_results(args.results)
    if not results:
        print("no results yet")
        return
    table = rows(results)
    out = Path(args.results)
    write_table(args, table, out / "table.md")
    plot_windows(table, out / "windows.png")
    plot_energy(table, out / "energy.png")
    plot_curves(table, out / "curves.png")
    print((out / "table.md").read_text())
    paths = [out / "table.md", out / "windows.png", out / "energy.png", out / "curves.png"]
    if args.docs:
        docs = REPO / "docs" / "results"
        for p in list(paths):
            target = docs / f"cifar10_claims_{p.name}"
            shutil.copy(p, target)
            paths.append(target)
    if args.commit:
        commit(checkout_of(out), paths, "cifar10_claims: table and pictures")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", default="ABCDE", help="rows to run (default ABCDE)")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    p.add_argument("--data", default=str(DEFAULT_DATA),
                   help="the CIFAR-10 image folder or .tar.gz (default: shared/data's copy)")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--val", type=int, default=5000)
    p.add_argument("--train", type=int, default=0, help="limit the training set (0: all)")
    p.add_argument("--test", type=int, default=0, help="limit the test set (0: all)")
    p.add_argument("--energy-images", type=int, default=64)
    p.add_argument("--runs", default=str(REPO / "runs" / "cifar10_claims"))
    p.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "cifar10_claims"))
    p.add_argument("--commit", action="store_true", help="git-commit each result as it lands")
    p.add_argument("--docs", action="store_true", help="copy the report into docs/results")
    p.add_argument("--report", action="store_true", help="write the report only")
    p.add_argument("--plan", action="store_true", help="list the runs and stop")
    p.add_argument("--tiny", action="store_true",
                   help="dry run: 300 train / 100 validation / 200 test images, 1 epoch")
    args = p.parse_args(argv)
    if args.tiny:
        args.train, args.val, args.test, args.epochs, args.energy_images = 300, 100, 200, 1, 8
    cfgs = configurations()
    if args.plan:
        for name, seed in jobs_in_order(cfgs):
            if cfgs[name]["row"] in args.rows:
                print(f"{cfgs[name]['row']} {name} s{seed}: "
                      f"{' '.join(command(args, cfgs, name, seed)[3:])}")
        return
    if not args.report:
        failed = run(args, cfgs, set(args.rows))
        if failed:
            print(f"failed: {sorted(failed)}", flush=True)
    report(args)


if __name__ == "__main__":
    main()
