"""What closes the T=1 gap: distillation, warm start from T=4, membrane batch norm
(MPBN) and learnable thresholds, alone and combined, for snntorch Leaky at T=1 and
ProjLeaky (two and four windows, ``condense="mean"``), against ReLU, Leaky T=1 and
Leaky T=4, at equal training budget, on real Fashion-MNIST.

Setting (the defaults): 9,000 training + 1,000 validation images (the validation
split is held out of the training split; every choice is made on it) and 5,000 test
images, 5 epochs, the half-width ConvNet, batch 64, the ``basic`` recipe.

* **screening** (seed 0): the baselines and, per neuron, each technique alone and
  all combined (distillation + warm start + MPBN), plus cold runs given the same
  total epochs as the techniques that build on other runs (a teacher's epochs and a
  warm start's T=4 epochs count toward the cost), and one diagnostic run
  (``proj-g2-noproj``: ProjLeaky's windows without its projection).
* **final** (seeds 0, 1, 2): the baselines and the two best configurations per
  neuron (Leaky; ProjLeaky over both window counts) by seed-0 validation accuracy
  in the screening, plus per neuron the technique with the largest validation gain
  over its equal-budget cold run (the candidate for a default), each with its
  equal-budget cold run.

Every run is its own process (``python -m snntorch_ms train``), ``--jobs`` at a time
(two on two cores), one thread each. Run folders (with checkpoints) go to ``--runs``;
each finished configuration writes ``<results>/<name>-s<seed>/result.json`` (and,
with ``--commit``, commits it). A later call skips what is done and reuses a
teacher or T=4 run already trained; a killed run resumes from its checkpoint.
At the end of each round: ``screening.md``/``.png`` (seed 0, every configuration)
and ``table.md``/``.png`` (the final round, every seed): table and picture (accuracy against energy per image,
neuron-internal work included, log scale, seed spread, Pareto front) in
``<results>``, copied to ``docs/results/t1_techniques_<name>.*`` with ``--docs``.

Usage::

    python benchmarks/t1_techniques.py --round all --jobs 2 --commit --docs
    python benchmarks/t1_techniques.py --tiny --round all --runs /tmp/t1 --results /tmp/t1r
    python benchmarks/t1_techniques.py --plan            # list the runs, train nothing

Targets: best T=1 binary configuration within 1.0 point of ReLU and at least Leaky
T=4; at most 1/10 of the twin's energy per image including neuron work; best
ProjLeaky at least best Leaky T=1 (or a measured statement why not).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from experiment import (commit, format_gain, label_points, launch, log_energy_axis,  # noqa: F401
                        paired_gain, pareto, pyplot, result_path, run_dir, run_jobs,
                        save_figure, spread_labels, trained)

REPO = Path(__file__).resolve().parents[1]

#: Neuron families compared: name -> (neuron, neuron args, model args).
FAMILIES = {
    "leaky": ("leaky", {}, {}),
    "proj-g2": ("proj", {"condense": "mean"}, {"groups": 2}),
    "proj-g4": ("proj", {"condense": "mean"}, {"groups": 4}),
}

#: Techniques: name -> what they add (teacher, warm start from T=4, MPBN, neuron args).
TECHNIQUES = {
    "kd": dict(teacher=True),
    "warm": dict(warm=True),
    "mpbn": dict(mpbn=True),
    "learn": dict(neuron_args={"learn_threshold": True, "learn_beta": True}),  # DIET-SNN
    "all": dict(teacher=True, warm=True, mpbn=True),
}


def spec(family, timesteps=1, epochs=None, technique=None):
    """A run: dict(neuron, T, epochs factor, neuron/model args, mpbn, deps)."""
    neuron, nargs, margs = FAMILIES[family] if family != "relu" else ("relu", {}, {})
    t = TECHNIQUES.get(technique, {})
    return dict(family=family, neuron=neuron, T=timesteps, epochs=epochs,
                neuron_args={**nargs, **t.get("neuron_args", {})}, model_args=dict(margs),
                mpbn=bool(t.get("mpbn")), teacher="relu" if t.get("teacher") else None,
                warm=(f"{family}-T4" + ("-mpbn" if t.get("mpbn") else "")) if t.get("warm")
                else None, technique=technique)


def budget_epochs(s, epochs):
    """Total epochs a configuration costs: its own, its teacher's, its source's."""
    return (s["epochs"] or epochs) + (epochs if s["teacher"] else 0) + (epochs if s["warm"] else 0)


def configurations(epochs):
    """Every configuration of the screening, by name (dependencies included)."""
    cfgs = {"relu": spec("relu"), "leaky-T1": spec("leaky"), "leaky-T4": spec("leaky", 4)}
    for fam in FAMILIES:
        base = "leaky" if fam == "leaky" else fam
        cfgs[f"{base}-T1"] = spec(fam)
        cfgs[f"{fam}-T4"] = spec(fam, 4)
        cfgs[f"{fam}-T4-mpbn"] = dict(spec(fam, 4, technique="mpbn"), role="source")
        for tech in TECHNIQUES:
            cfgs[f"{fam}-{tech}"] = spec(fam, technique=tech)
        for total in sorted({budget_epochs(cfgs[f"{fam}-{t}"], epochs) for t in TECHNIQUES}):
            if total != epochs:
                cfgs[f"{fam}-T1-e{total}"] = dict(spec(fam, epochs=total), role="cold")
    cfgs["leaky-T4"]["role"] = "baseline"
    # why ProjLeaky trails Leaky: the same windows without the projection (the
    # carried membrane enters the next window as beta * U instead of projected)
    cfgs["proj-g2-noproj"] = dict(spec("proj-g2"), role="diagnostic",
                                  neuron_args={"condense": "mean", "projection": "none"})
    return cfgs


def screening_names(cfgs):
    names = ["relu", "leaky-T1", "leaky-T4"]
    for fam in FAMILIES:
        names += [f"{fam}-T1" if fam != "leaky" else "leaky-T1"]
        names += [f"{fam}-{t}" for t in TECHNIQUES]
        names += [n for n in cfgs if n.startswith(f"{fam}-T1-e")]
    names += [n for n, c in cfgs.items() if c.get("role") == "diagnostic"]
    return list(dict.fromkeys(names))


def cold_partner(cfgs, name, epochs):
    """The cold T=1 run of the same neuron given the same total epochs as technique
    ``name``: ``<family>-T1-e<total>``, or the plain T=1 run when the technique
    costs no more epochs (MPBN, learnable threshold); None for anything else."""
    s = cfgs.get(name)
    if not s or not s.get("technique") or s.get("role") == "source":
        return None
    total = budget_epochs(s, epochs)
    partner = f"{s['family']}-T1-e{total}" if total != epochs else f"{s['family']}-T1"
    return partner if partner in cfgs else None


#: A technique moves a default when, over at least this many seeds, ...
VERDICT_MIN_SEEDS = 3
#: ... its paired validation gain over the equal-budget cold run exceeds this many
#: standard errors of the paired differences (fixed before the final round ran).
VERDICT_STANDARD_ERRORS = 2.0


def verdict(table, name, partner):
    """Whether technique ``name`` earns a default over its cold partner, with why:
    ``(moves, text)``; decided on validation, never on test."""
    val, test = paired_gain(table, name, partner, "val_acc"), \
        paired_gain(table, name, partner, "test_acc")
    mean, sd, n = val
    se = sd / n ** 0.5
    moves = n >= VERDICT_MIN_SEEDS and mean > VERDICT_STANDARD_ERRORS * se and mean > 0
    word = "moves a default" if moves else ("stays off" if n >= VERDICT_MIN_SEEDS
                                            else "too few seeds to decide")
    return moves, (f"{name} vs {partner}: validation {format_gain(val)}, test "
                   f"{format_gain(test)} ({n} seed{'s' if n > 1 else ''}): {word}")


def dependencies(cfgs, name):
    s = cfgs[name]
    return [d for d in (s["teacher"], s["warm"]) if d]


# -- running ------------------------------------------------------------------


def command(args, cfgs, name, seed):
    s = cfgs[name]
    out = run_dir(args.runs, name, seed)
    cmd = [sys.executable, "-m", "snntorch_ms", "train", "--dataset", args.dataset,
           "--data-dir", args.data_dir, "--model", "convnet", "--neuron", s["neuron"],
           "--timesteps", str(s["T"]), "--epochs", str(s["epochs"] or args.epochs),
           "--batch-size", str(args.batch_size), "--limit-train", str(args.train),
           "--val-images", str(args.val), "--limit-test", str(args.test), "--seed", str(seed),
           "--device", args.device, "--threads", "1", "--energy-images", str(args.energy_images),
           "--out", str(out), "--resume", "--no-progress",
           "--model-arg", f"width={args.width}"]
    for key, value in s["neuron_args"].items():
        cmd += ["--neuron-arg", f"{key}={value}"]
    for key, value in s["model_args"].items():
        cmd += ["--model-arg", f"{key}={value}"]
    if s["mpbn"]:
        cmd += ["--membrane-bn"]
    if s["teacher"]:
        cmd += ["--teacher", str(run_dir(args.runs, s["teacher"], seed)),
                "--distill-weight", str(args.distill_weight),
                "--distill-temperature", str(args.distill_temperature)]
    if s["warm"]:
        cmd += ["--init-from", str(run_dir(args.runs, s["warm"], seed))]
    return cmd


def summarise(args, cfgs, name, seed):
    """The compact result of a finished run (what the table and the plot need)."""
    m = json.loads((run_dir(args.runs, name, seed) / "metrics.json").read_text())
    rep, ann = m["energy_report"], m["ann_energy_report"]
    s = cfgs[name]
    return {
        "name": name, "seed": seed, "family": s["family"], "neuron": s["neuron"], "T": s["T"],
 "binary": s["neuron_args"].get("condense", "or") != "mean",
        "technique": s.get("technique"), "role": s.get("role", "technique" if s.get("technique")
                                                        else "baseline"),
        "epochs": m["epochs"], "test_acc": m["test_acc"], "val_acc": m.get("val_acc"),
        "energy_j": m["energy_j"], "energy_with_neurons_j": rep["per_image_with_neurons_j"],
        "ann_energy_with_neurons_j": ann["per_image_with_neurons_j"],
        "ratio_with_neurons": ann["per_image_with_neurons_j"] / rep["per_image_with_neurons_j"],
        "mean_rate": rep.get("mean_rate"), "train_s": m["timing"]["train_s"],
        "budget": m.get("budget"), "teacher_acc": (m.get("teacher") or {}).get("test_acc"),
        "setting": {k: getattr(args, k) for k in ("dataset", "train", "val", "test", "epochs",
                                                 "batch_size", "width")},
    }


def run_all(args, cfgs, jobs):
    """Train the ``(name, seed)`` jobs and what they need, ``args.jobs`` at a time."""
    return run_jobs(
        jobs, dependencies=lambda k: [(d, k[1]) for d in dependencies(cfgs, k[0])],
        trained=lambda k: trained(run_dir(args.runs, *k)),
        done=lambda k: result_path(args.results, *k).is_file(),
        start=lambda k: launch(command(args, cfgs, *k), run_dir(args.runs, *k), REPO),
        record=lambda k, wall: record(args, cfgs, *k, wall), parallel=args.jobs,
        log_of=lambda k: f"{k[0]} seed {k[1]}")


def record(args, cfgs, name, seed, wall):
    result = summarise(args, cfgs, name, seed)
    path = result_path(args.results, name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"[{time.strftime('%H:%M:%S')}] done  {name} seed {seed}: test {result['test_acc']:.2f} %"
          f"  val {result['val_acc']:.2f} %  {wall:.0f} s", flush=True)
    if args.commit:
        commit(REPO, [path], f"t1_techniques: {name} seed {seed} ({result['test_acc']:.2f} %)")


# -- rounds ---------------------------------------------------------------------


def load_results(args):
    out = {}
    for path in sorted(Path(args.results).glob("*-s*/result.json")):
        r = json.loads(path.read_text())
        out.setdefault(r["name"], []).append(r)
    return out


#: The neurons the final round picks its configurations for: Leaky, and ProjLeaky
#: over both window counts (the issue asks for "the two best per neuron").
NEURONS = {"leaky": ("leaky",), "proj": ("proj-g2", "proj-g4")}


def seed0_val(results, name):
    """Seed 0's validation accuracy of ``name`` (None when not run yet)."""
    runs = [r for r in results.get(name, []) if r["seed"] == 0]
    return runs[0].get("val_acc") if runs else None


def best_per_neuron(cfgs, results, k=2):
    """The ``k`` technique configurations of each neuron (:data:`NEURONS`) with the
    best seed-0 validation accuracy; never chosen on test accuracy."""
    best = {}
    for neuron, families in NEURONS.items():
        scored = [(seed0_val(results, n), n)
                  for fam in families for n in (f"{fam}-{t}" for t in TECHNIQUES)
                  if seed0_val(results, n) is not None]
        best[neuron] = [n for _, n in sorted(scored, reverse=True)[:k]]
    return best


def best_gain_per_neuron(cfgs, results, epochs):
    """The technique configuration of each neuron with the largest seed-0 validation
    gain over its equal-budget cold run: the candidate for a default, which the two
    most accurate configurations (often the ones with the largest budget) may not
    include."""
    best = {}
    for neuron, families in NEURONS.items():
        scored = []
        for n in (f"{fam}-{t}" for fam in families for t in TECHNIQUES):
            own = seed0_val(results, n)
            cold = seed0_val(results, cold_partner(cfgs, n, epochs))
            if own is not None and cold is not None:
                scored.append((own - cold, n))
        if scored:
            best[neuron] = max(scored)[1]
    return best


def final_names(cfgs, results, epochs):
    """Baselines (ReLU, Leaky and cold ProjLeaky with two and four windows at T=1,
    Leaky T=4), then the chosen configurations (:func:`best_per_neuron` and
    :func:`best_gain_per_neuron`), Leaky's first (the binary targets rest on them),
    each neuron's cheapest budget first (so that a sitting that ends early has
    finished the most rows), each followed by its equal-budget cold run."""
    names = ["relu", "leaky-T1", "proj-g2-T1", "proj-g4-T1", "leaky-T4"]
    chosen = [n for picked in best_per_neuron(cfgs, results).values() for n in picked]
    chosen += [n for n in best_gain_per_neuron(cfgs, results, epochs).values()
               if n not in chosen]
    # Leaky's first (it carries the binary targets), then cheapest budget first
    for n in sorted(chosen, key=lambda n: (cfgs[n]["family"] != "leaky",
                                           budget_epochs(cfgs[n], epochs))):
        names.append(n)
        partner = cold_partner(cfgs, n, epochs)
        if partner:
            names.append(partner)
    return list(dict.fromkeys(names))


# -- table and picture --------------------------------------------------------------


def rows(results):
    table = {}
    for name, runs in results.items():
        acc = [r["test_acc"] for r in runs]
        energy = [r["energy_with_neurons_j"] for r in runs]
        total_s = [(r["budget"] or {}).get("train_s_total", r["train_s"]) for r in runs]
        table[name] = {
            "runs": runs, "seeds": sorted(r["seed"] for r in runs),
            "acc": statistics.mean(acc), "acc_sd": statistics.stdev(acc) if len(acc) > 1 else 0.0,
            "val": statistics.mean(r["val_acc"] for r in runs),
            "energy": statistics.mean(energy),
            "energy_sd": statistics.stdev(energy) if len(energy) > 1 else 0.0,
            "ratio": statistics.mean(r["ratio_with_neurons"] for r in runs),
            "epochs": statistics.mean((r["budget"] or {}).get("epochs_total", r["epochs"])
                                      for r in runs),
            "total_s": statistics.mean(total_s), "family": runs[0]["family"],
            "role": runs[0]["role"], "T": runs[0]["T"],
            "binary": runs[0].get("binary", not runs[0]["family"].startswith("proj")),
        }
    return table


def write_table(args, cfgs, table, path):
    relu = table.get("relu")
    lines = [f"<!-- written by benchmarks/t1_techniques.py on {time.strftime('%Y-%m-%d')} -->",
             "", f"{args.dataset}, half-width ConvNet (width {args.width}), {args.train} train + "
             f"{args.val} validation / {args.test} test images, {args.epochs} epochs per run, "
             "batch %d, basic recipe, CPU, one thread per run. Accuracy: mean ± standard "
             "deviation over the seeds listed. Energy per image includes neuron-internal work "
             "(spike-driven convention); budget: epochs and training time including a "
             "teacher's and a warm start's source runs." % args.batch_size, "",
             "Columns: test and validation accuracy (%); energy per image (µJ); the twin's "
             "energy over the run's; budget epochs; total training seconds and their ratio "
             "to ReLU's; test points gained over the cold run of the same neuron given the same "
             "total epochs (its `-T1`, `-e10` or `-e15` row), paired by seed: mean ± sd.",
             "",
             "| run | T | test | val | µJ | twin / SNN "
             "| epochs | train s | x ReLU | vs cold |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    seeds = sorted({seed for r in table.values() for seed in r["seeds"]})
    fewer = [f"{n} ({', '.join(map(str, r['seeds']))})" for n, r in sorted(table.items())
             if r["seeds"] != seeds]
    lines.insert(4, f"Seeds: {', '.join(map(str, seeds))}"
                 + (f"; fewer for {', '.join(fewer)}." if fewer else " (every row)."))
    lines.insert(5, "")
    for name, r in sorted(table.items(), key=lambda kv: (kv[1]["family"], kv[0])):
        partner = cold_partner(cfgs, name, args.epochs)
        gain = paired_gain(table, name, partner, "test_acc") if partner in table else None
        vs = format_gain(gain) if gain else ""
        ratio = f"{r['total_s'] / relu['total_s']:.2f}" if relu else ""
        sd = f" ± {r['acc_sd']:.2f}" if len(r["seeds"]) > 1 else ""
        lines.append(f"| {name} | {r['T']} | {r['acc']:.2f}{sd} "
                     f"| {r['val']:.2f} | {r['energy'] * 1e6:.3f} | {r['ratio']:.1f} "
                     f"| {r['epochs']:.0f} | {r['total_s']:.0f} | {ratio} | {vs} |")
    lines += ["", *targets(table), "", *verdicts(args, cfgs, table)]
    path.write_text("\n".join(lines) + "\n")


def targets(table):
    out = ["Targets:", ""]
    t1 = {n: r for n, r in table.items() if r["T"] == 1 and r["family"] != "relu"}
    if not t1 or "relu" not in table:
        return out + ["- (not measured yet)"]
    relu, t4 = table["relu"]["acc"], table.get("leaky-T4", {}).get("acc")
    for label, pool in (("binary (OR / Leaky)", {n: r for n, r in t1.items() if r["binary"]}),
                        ("any, condense=\"mean\" included", t1)):
        if not pool:
            continue
        best = max(pool, key=lambda n: pool[n]["val"])  # chosen on validation, never on test
        out.append(f"- best T=1 configuration (on validation), {label}: {best} "
                   f"{pool[best]['acc']:.2f} % test, "
                   f"{pool[best]['acc'] - relu:+.2f} against ReLU (target >= -1.0)"
                   + (f", {pool[best]['acc'] - t4:+.2f} against Leaky T=4 (target >= 0)"
                      if t4 else "")
                   + f"; energy per image incl. neuron work 1/{pool[best]['ratio']:.1f} of the "
                   "twin's (target: at most 1/10)")
    proj = {n: r for n, r in t1.items() if r["family"].startswith("proj")}
    leaky = {n: r for n, r in t1.items() if r["family"] == "leaky"}
    if proj and leaky:
        bp, bl = max(proj, key=lambda n: proj[n]["val"]), max(leaky, key=lambda n: leaky[n]["val"])
        out.append(f"- best ProjLeaky (on validation) {bp} {proj[bp]['acc']:.2f} % vs best Leaky "
                   f"T=1 {bl} "
                   f"{leaky[bl]['acc']:.2f} %: {proj[bp]['acc'] - leaky[bl]['acc']:+.2f}")
    return out


def verdicts(args, cfgs, table):
    """The default each technique earns (:func:`verdict`), per technique row."""
    out = [f"Defaults (rule, fixed before the final round: a technique moves the basic "
           f"recipe's default when, over >= {VERDICT_MIN_SEEDS} seeds, its paired "
           f"validation gain over the equal-budget cold run exceeds "
           f"{VERDICT_STANDARD_ERRORS:g} standard errors):", ""]
    for name in sorted(table):
        partner = cold_partner(cfgs, name, args.epochs)
        if partner in table:
            out.append("- " + verdict(table, name, partner)[1])
    return out if len(out) > 2 else out + ["- (no technique measured yet)"]


def plot(table, path):
    plt = pyplot()

    colours = {"relu": "black", "leaky": "tab:blue", "proj-g2": "tab:orange",
               "proj-g4": "tab:green"}
    fig, ax = plt.subplots(figsize=(8, 5.5))
    points = []
    for name, r in table.items():
        x, y = r["energy"] * 1e6, r["acc"]
        points.append((x, y))
        ax.errorbar(x, y, xerr=r["energy_sd"] * 1e6 or None, yerr=r["acc_sd"] or None,
                    fmt="s" if r["role"] == "cold" else "o", color=colours.get(r["family"], "grey"),
                    capsize=3, ms=5, alpha=0.9)
    # labels placed once the axes are final, so that the clustered ProjLeaky rows
    # stay readable
    log_energy_axis(ax, "energy per image, neuron-internal work included (µJ, log scale)")
    label_points(fig, ax, list(table), points)
    front = pareto(points)
    if front:
        xs, ys = zip(*front)
        ax.step(xs, ys, where="post", color="red", lw=1, alpha=0.6, label="Pareto front")
    for fam, col in colours.items():
        ax.plot([], [], "o", color=col, label=fam)
    ax.plot([], [], "s", color="grey", label="cold run, same epochs")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("One time step: accuracy against energy (seed spread as error bars)")
    save_figure(fig, path)


def report(args, cfgs, only=None, stem="table"):
    """Write ``<stem>.md`` and ``<stem>.png`` in ``--results`` (and, with ``--docs``,
    as ``docs/results/t1_techniques_<stem>.*``): the screening (``stem="screening"``,
    seed 0 of every configuration) or the final round (the final names, every seed)."""
    results = load_results(args)
    if only is not None:
        results = {n: r for n, r in results.items() if n in only}
    if stem == "screening":
        results = {n: [r for r in runs if r["seed"] == 0] for n, runs in results.items()}
        results = {n: runs for n, runs in results.items() if runs}
    if not results:
        print("no results yet")
        return
    table = rows(results)
    out = Path(args.results)
    write_table(args, cfgs, table, out / f"{stem}.md")
    plot(table, out / f"{stem}.png")
    print((out / f"{stem}.md").read_text())
    if args.docs:
        docs = REPO / "docs" / "results"
        shutil.copy(out / f"{stem}.md", docs / f"t1_techniques_{stem}.md")
        shutil.copy(out / f"{stem}.png", docs / f"t1_techniques_{stem}.png")
    if args.commit:
        paths = [out / f"{stem}.md", out / f"{stem}.png"]
        if args.docs:
            paths += [docs / f"t1_techniques_{stem}.md", docs / f"t1_techniques_{stem}.png"]
        round_name = "screening round" if stem == "screening" else "final round"
        commit(REPO, paths, f"t1_techniques: {round_name}'s table and picture")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--round", choices=("screening", "final", "all", "report"), default="all")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--train", type=int, default=9000)
    p.add_argument("--val", type=int, default=1000)
    p.add_argument("--test", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--width", type=float, default=0.5)
    p.add_argument("--energy-images", type=int, default=64)
    p.add_argument("--distill-weight", type=float, default=0.5)
    p.add_argument("--distill-temperature", type=float, default=4.0)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="final round")
    p.add_argument("--device", default="cpu")
    p.add_argument("--runs", default="runs/t1_techniques", help="run folders (checkpoints)")
    p.add_argument("--results", default="benchmarks/results/t1_techniques")
    p.add_argument("--commit", action="store_true", help="git-commit each result file")
    p.add_argument("--docs", action="store_true", help="copy table and picture to docs/results")
    p.add_argument("--plan", action="store_true", help="list the runs and stop")
    p.add_argument("--tiny", action="store_true",
                   help="dry run: 200 + 100 / 200 images, 1 epoch, width 0.25")
    args = p.parse_args(argv)
    if args.tiny:
        args.train, args.val, args.test, args.epochs, args.width = 200, 100, 200, 1, 0.25
        args.energy_images = 16
    cfgs = configurations(args.epochs)
    screening = [(n, 0) for n in screening_names(cfgs)]
    if args.plan:
        for n, s in screening:
            print(f"screening {n} s{s}: {' '.join(command(args, cfgs, n, s)[3:])}")
        return
    if args.round in ("screening", "all"):
        run_all(args, cfgs, screening)
        report(args, cfgs, stem="screening")
    if args.round in ("final", "all"):
        names = final_names(cfgs, load_results(args), args.epochs)
        print("final round:", ", ".join(names), flush=True)
        run_all(args, cfgs, [(n, s) for n in names for s in args.seeds])
        report(args, cfgs, only=set(names))
    if args.round == "report":
        report(args, cfgs, stem="screening")
        names = final_names(cfgs, load_results(args), args.epochs)
        report(args, cfgs, only=set(names))


if __name__ == "__main__":
    main()
