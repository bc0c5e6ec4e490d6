"""The T=1 techniques experiment's bookkeeping (``benchmarks/t1_techniques.py``):
what each configuration costs, which cold run it is set beside, what the final round
picks (on validation, never on test) and what the report writes. No training here."""

import argparse
import json

import pytest


@pytest.fixture(scope="module")
def t1(load_script):
    return load_script("t1_techniques")


@pytest.fixture(scope="module")
def cfgs(t1):
    return t1.configurations(5)


def test_budget_counts_the_teacher_and_the_warm_start_source(t1, cfgs):
    # own 5 epochs + 5 of the ReLU teacher + 5 at T=4 for the source
    assert t1.budget_epochs(cfgs["leaky-all"], 5) == 15
    assert t1.budget_epochs(cfgs["leaky-kd"], 5) == 10
    assert t1.budget_epochs(cfgs["proj-g4-warm"], 5) == 10
    assert t1.budget_epochs(cfgs["proj-g2-mpbn"], 5) == 5
    assert t1.budget_epochs(cfgs["leaky-T1-e15"], 5) == 15


def test_each_technique_has_its_equal_budget_cold_run(t1, cfgs):
    assert t1.cold_partner(cfgs, "leaky-all", 5) == "leaky-T1-e15"
    assert t1.cold_partner(cfgs, "proj-g2-warm", 5) == "proj-g2-T1-e10"
    assert t1.cold_partner(cfgs, "proj-g4-kd", 5) == "proj-g4-T1-e10"
    # no more epochs than cold T=1: the plain T=1 run is the partner
    assert t1.cold_partner(cfgs, "leaky-mpbn", 5) == "leaky-T1"
    assert t1.cold_partner(cfgs, "proj-g4-learn", 5) == "proj-g4-T1"
    assert t1.cold_partner(cfgs, "leaky-T1-e10", 5) is None  # not a technique
    assert t1.cold_partner(cfgs, "proj-g2-T4-mpbn", 5) is None  # a warm start's source
    # the diagnostic run is screened, and is nobody's partner nor a technique
    assert "proj-g2-noproj" in t1.screening_names(cfgs)
    assert t1.cold_partner(cfgs, "proj-g2-noproj", 5) is None
    assert cfgs["proj-g2-noproj"]["neuron_args"] == {"condense": "mean", "projection": "none"}
    assert cfgs["leaky-T1-e10"]["role"] == "cold" and cfgs["leaky-T1-e10"]["epochs"] == 10


def test_warm_start_builds_on_the_same_neurons_T4_run(t1, cfgs):
    assert t1.dependencies(cfgs, "proj-g4-warm") == ["proj-g4-T4"]
    assert t1.dependencies(cfgs, "leaky-all") == ["relu", "leaky-T4-mpbn"]
    assert t1.dependencies(cfgs, "leaky-learn") == []


def test_command_points_at_the_same_seeds_teacher_and_source(t1, cfgs, tmp_path):
    args = argparse.Namespace(dataset="fashion-mnist", data_dir="data", batch_size=64,
                              train=9000, val=1000, test=5000, epochs=5, width=0.5,
                              device="cpu", energy_images=64, runs=str(tmp_path),
                              distill_weight=0.5, distill_temperature=4.0)
    cmd = t1.command(args, cfgs, "proj-g2-all", 2)
    flag = lambda name: cmd[cmd.index(name) + 1]  # noqa: E731
    assert flag("--teacher") == str(tmp_path / "relu-s2")
    assert flag("--init-from") == str(tmp_path / "proj-g2-T4-mpbn-s2")
    assert "--membrane-bn" in cmd and flag("--seed") == "2" and flag("--timesteps") == "1"
    assert "condense=mean" in cmd and "groups=2" in cmd


def fake(name, seed, test, val, energy=1e-6, ratio=10.0):
    family = "relu" if name == "relu" else ("leaky" if name.startswith("leaky")
                                             else name[:7])
    return dict(name=name, seed=seed, family=family, T=4 if "T4" in name else 1,
                binary=not family.startswith("proj"), role="cold" if "-e1" in name else
                "baseline", test_acc=test, val_acc=val, energy_with_neurons_j=energy,
                ratio_with_neurons=ratio, epochs=5, train_s=100.0,
                budget={"epochs_total": 5, "train_s_total": 100.0 * (1 + seed)})


def test_final_round_picks_on_validation_over_both_window_counts(t1, cfgs):
    results = {n: [fake(n, 0, test, val)] for n, test, val in [
        ("leaky-kd", 99.0, 80.0),     # best test, worst validation: never picked
        ("leaky-warm", 85.0, 89.0), ("leaky-all", 84.0, 90.0), ("leaky-mpbn", 86.0, 88.0),
        ("proj-g2-learn", 80.0, 86.0), ("proj-g4-warm", 79.0, 87.0),
        ("proj-g2-kd", 90.0, 70.0)]}
    best = t1.best_per_neuron(cfgs, results)
    assert best == {"leaky": ["leaky-all", "leaky-warm"],
                    "proj": ["proj-g4-warm", "proj-g2-learn"]}
    # Leaky's first, each neuron's cheapest budget first: warm (10 epochs), all (15);
    # then ProjLeaky's learn (5), warm (10)
    assert t1.final_names(cfgs, results, 5) == [
        "relu", "leaky-T1", "proj-g2-T1", "proj-g4-T1", "leaky-T4",
        "leaky-warm", "leaky-T1-e10", "leaky-all", "leaky-T1-e15",
        "proj-g2-learn", "proj-g4-warm", "proj-g4-T1-e10"]


def test_final_round_adds_the_largest_equal_budget_gain(t1, cfgs):
    # proj-g2-learn is neither of ProjLeaky's two most accurate configurations but
    # gains most over its cold partner (same 5 epochs): the default candidate joins
    val = {"leaky-warm": 89.6, "leaky-all": 90.1, "leaky-mpbn": 87.7, "leaky-T1": 87.8,
           "leaky-T1-e10": 89.0, "leaky-T1-e15": 89.3,
           "proj-g2-warm": 87.3, "proj-g4-warm": 87.2, "proj-g2-learn": 86.7,
           "proj-g2-T1": 85.0, "proj-g4-T1": 84.7, "proj-g2-T1-e10": 87.4,
           "proj-g4-T1-e10": 87.3}
    results = {n: [fake(n, 0, 80.0, v)] for n, v in val.items()}
    assert t1.best_gain_per_neuron(cfgs, results, 5) == {"leaky": "leaky-all",
                                                        "proj": "proj-g2-learn"}
    assert t1.final_names(cfgs, results, 5) == [
        "relu", "leaky-T1", "proj-g2-T1", "proj-g4-T1", "leaky-T4",
        "leaky-warm", "leaky-T1-e10", "leaky-all", "leaky-T1-e15",
        "proj-g2-learn", "proj-g2-warm", "proj-g2-T1-e10", "proj-g4-warm", "proj-g4-T1-e10"]


def test_pareto_front_by_hand(t1):
    # (energy, accuracy): (1, 80) and (2, 90) and (5, 95) survive; (3, 85) is beaten by (2, 90)
    points = [(2.0, 90.0), (1.0, 80.0), (3.0, 85.0), (5.0, 95.0)]
    assert t1.pareto(points) == [(1.0, 80.0), (2.0, 90.0), (5.0, 95.0)]


def test_rows_average_over_seeds_with_spread(t1):
    results = {"relu": [fake("relu", 0, 90.0, 91.0), fake("relu", 1, 92.0, 93.0)]}
    r = t1.rows(results)["relu"]
    assert r["acc"] == 91.0 and r["acc_sd"] == pytest.approx(2 ** 0.5)
    assert r["seeds"] == [0, 1] and r["total_s"] == 150.0


def test_report_writes_screening_on_seed0_and_final_over_seeds(t1, cfgs, tmp_path):
    res = tmp_path / "results"
    for name, seed, test, val in [("relu", 0, 90.0, 91.0), ("relu", 1, 92.0, 93.0),
                                  ("leaky-T1", 0, 86.0, 87.0), ("leaky-T1", 1, 88.0, 89.0),
                                  ("leaky-T4", 0, 87.0, 88.0)]:
        path = res / f"{name}-s{seed}" / "result.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(fake(name, seed, test, val)))
    args = argparse.Namespace(results=str(res), docs=False, commit=False, dataset="fashion-mnist",
                              width=0.5, train=9000, val=1000, test=5000, epochs=5,
                              batch_size=64)
    t1.report(args, cfgs, stem="screening")
    t1.report(args, cfgs, only={"relu", "leaky-T1", "leaky-T4"})
    screening = (res / "screening.md").read_text()
    final = (res / "table.md").read_text()
    assert "| relu | 1 | 90.00 |" in screening and "| 90.00 ±" not in screening
    assert "Seeds: 0 (every row)." in screening
    assert "| relu | 1 | 91.00 ± 1.41 |" in final
    # leaky-T4 has seed 0 only: the table says so instead of claiming every row
    assert "Seeds: 0, 1; fewer for leaky-T4 (0)." in final
    # leaky-T1 (val 88 on average) is the best binary T=1 row: 87.00 vs ReLU 91.00
    assert "leaky-T1 87.00 % test, -4.00 against ReLU" in final
    assert (res / "screening.png").stat().st_size > 0 and (res / "table.png").stat().st_size > 0


def test_verdict_by_hand(t1):
    # paired validation gains 1.0, 1.5, 2.0: mean 1.5, sd 0.5, standard error 0.289;
    # 1.5 > 2 x 0.289: the technique moves a default
    def runs(name, vals):
        return [fake(name, seed, 80.0 + v, 80.0 + v) for seed, v in enumerate(vals)]
    table = t1.rows({"proj-g2-learn": runs("proj-g2-learn", [1.0, 1.5, 2.0]),
                     "proj-g2-T1": runs("proj-g2-T1", [0.0, 0.0, 0.0])})
    moves, text = t1.verdict(table, "proj-g2-learn", "proj-g2-T1")
    assert moves and "validation +1.50 ± 0.50" in text and "(3 seeds): moves a default" in text
    # gains 2.0, -1.0, 2.5: mean 1.17, sd 1.89, standard error 1.09: 1.17 < 2.18, stays off
    table = t1.rows({"proj-g2-learn": runs("proj-g2-learn", [2.0, -1.0, 2.5]),
                     "proj-g2-T1": runs("proj-g2-T1", [0.0, 0.0, 0.0])})
    assert t1.verdict(table, "proj-g2-learn", "proj-g2-T1") == (
        False, "proj-g2-learn vs proj-g2-T1: validation +1.17 ± 1.89, test +1.17 ± 1.89 "
               "(3 seeds): stays off")
    # one seed never decides
    table = t1.rows({"leaky-all": runs("leaky-all", [3.0]), "leaky-T1-e15": runs("leaky-T1-e15", [0.0])})
    assert t1.verdict(table, "leaky-all", "leaky-T1-e15")[1].endswith("too few seeds to decide")


def test_picture_labels_do_not_overlap(t1):
    # five points in a cluster (as ProjLeaky's rows) and one alone, in points
    anchors = [(100, 100), (101, 102), (102, 99), (100, 101), (103, 100), (300, 200)]
    sizes = [(40, 8)] * 6
    bounds = (20, 20, 400, 300)
    offsets = t1.spread_labels(anchors, sizes, gap=9, bounds=bounds)
    boxes = [(x + dx, y + dy, x + dx + w, y + dy + h)
             for (x, y), (dx, dy), (w, h) in zip(anchors, offsets, sizes)]
    for i, a in enumerate(boxes):
        assert bounds[0] <= a[0] and a[2] <= bounds[2] and bounds[1] <= a[1] and a[3] <= bounds[3]
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    assert offsets[-1] == (4.0, 3.0)  # nothing near it: the default place
    # the highest of the cluster keeps the default; the next goes to the left, same height
    assert offsets[1] == (4.0, 3.0) and offsets[3] == (-44.0, 3.0)
    # a label that cannot fit right of a point at the frame's edge goes to its left
    assert t1.spread_labels([(390, 100)], [(40, 8)], gap=9, bounds=bounds) == [(-44.0, 3.0)]
