"""The CIFAR-10 claims experiment's bookkeeping (``benchmarks/cifar10_claims.py``):
which runs exist in which order, the command each one gets, how the report pairs them.
No training here (the experiment itself trains for hours)."""

import argparse
import json

import pytest


@pytest.fixture(scope="module")
def exp(load_script):
    return load_script("cifar10_claims")


@pytest.fixture(scope="module")
def cfgs(exp):
    return exp.configurations()


def args(tmp_path, **kw):
    base = dict(data="/data/c10.tar.gz", epochs=8, batch_size=128, val=5000, train=0, test=0,
                energy_images=64, runs=str(tmp_path / "runs"), results=str(tmp_path / "res"),
                docs=False, commit=False)
    return argparse.Namespace(**{**base, **kw})


def test_rows_and_seeds_as_the_issue_lists_them(exp, cfgs):
    by_row = {row: sorted((n, tuple(c["seeds"])) for n, c in cfgs.items() if c["row"] == row)
              for row in "ABCDE"}
    assert [n for n, _ in by_row["A"]] == sorted(
        f"cnn-{k}-g{g}" for k in ("relu", "leaky", "proj") for g in (1, 4))
    assert all(s == (0, 1, 2) for _, s in by_row["A"])
    assert dict(by_row["B"])["conv-proj-kd"] == (0, 1) and dict(by_row["B"])["conv-relu"] == (0, 1, 2)
    assert len(by_row["C"]) == 4 and len(by_row["D"]) == 7 and len(by_row["E"]) == 4
    jobs = exp.jobs_in_order(cfgs)
    assert len(jobs) == 18 + 13 + 8 + 14 + 4
    # row A first, seed by seed: a sitting that ends early leaves whole seeds of A
    assert jobs[:6] == [(n, 0) for n in cfgs if cfgs[n]["row"] == "A"]
    assert {cfgs[n]["row"] for n, _ in jobs[:18]} == {"A"}


def test_command_carries_the_papers_constants_and_setting(exp, cfgs, tmp_path):
    cmd = exp.command(args(tmp_path), cfgs, "cnn-proj-g1", 2)
    text = " ".join(cmd)
    for piece in ("--recipe paper", "--epochs 8", "--warmup-epochs 1", "--val-images 5000",
                  "--seed 2", "--threads 1", "--model cnn-mixer", "--neuron proj",
                  "--model-arg dims=(16,32,64,128)", "--model-arg depths=(1,1,2,1)",
                  "--model-arg groups=1", "--neuron-arg threshold=0.5", "--neuron-arg beta=0.4",
                  "--neuron-arg spike_grad=rectangular:width=1", "--neuron-arg theta=0.5",
                  "--neuron-arg reset_mechanism=subtract", "--data-dir /data/c10.tar.gz",
                  "--resume", "--no-download"):
        assert piece in text, piece
    assert "--limit-train" not in text  # all 45,000 images
    relu = " ".join(exp.command(args(tmp_path), cfgs, "cnn-relu-g4", 0))
    assert "--neuron-arg" not in relu and "--model-arg groups=4" in relu
    ablation = " ".join(exp.command(args(tmp_path), cfgs, "cnn-proj-nolateral", 1))
    assert "--model-arg lateral=False" in ablation
    assert "--neuron-arg projection=nested" in " ".join(
        exp.command(args(tmp_path), cfgs, "cnn-proj-nested", 0))
    assert "--timesteps 4" in " ".join(exp.command(args(tmp_path), cfgs, "conv-leaky-T4", 0))


def test_distillation_depends_on_the_same_seeds_relu_run(exp, cfgs, tmp_path):
    a = args(tmp_path)
    cmd = exp.command(a, cfgs, "conv-proj-kd", 1)
    assert cmd[cmd.index("--teacher") + 1] == str(exp.run_dir(a.runs, "conv-relu", 1))


def fake(name, seed, test, val, row="A", neuron="proj", model="cnn-mixer", g=4):
    return {"name": name, "seed": seed, "row": row, "model": model, "neuron": neuron, "g": g,
            "T": 1, "test_acc": test, "val_acc": val, "val_curve": [val - 5, val],
            "energy_with_neurons_j": 2e-6, "paper_energy_j": 1e-6, "paper_ann_energy_j": 1e-5,
            "ratio_with_neurons": 3.0, "train_s_total": 100.0 if neuron == "relu" else 150.0,
            "data_source": {"name": "CIFAR-10 (JPEG q75 copy)", "sha256": "45b041e8" * 8},
            "commit": "abc123", "snntorch_ms_path": "/x/snntorch_ms", "torch": "2.14.1"}


def test_claim_lines_pair_by_seed_and_apply_the_rule(exp):
    res = {"cnn-proj-g4": [fake("cnn-proj-g4", s, 60 + s, 61 + s) for s in range(3)],
           "cnn-proj-g1": [fake("cnn-proj-g1", s, 59 + s, 60 + s + 0.1 * s, g=1)
                           for s in range(3)]}
    table = exp.rows(res)
    # validation differences 1.0, 0.9, 0.8: mean 0.9, sd 0.1, SE 0.058 -> supported
    line = exp.compare(table, "cnn-proj-g4", "cnn-proj-g1")
    assert "test +1.00 ± 0.00" in line and "validation +0.90 ± 0.10" in line
    assert "supported" in line
    assert exp.compare(table, "cnn-proj-g4", "cnn-leaky-g4").endswith("not measured yet")
    two = exp.rows({k: v[:2] for k, v in res.items()})
    assert "too few to decide" in exp.compare(two, "cnn-proj-g4", "cnn-proj-g1")


def test_report_names_the_data_copy_and_writes_pictures(exp, tmp_path):
    a = args(tmp_path)
    for name, neuron in (("cnn-relu-g4", "relu"), ("cnn-proj-g4", "proj")):
        for seed in (0, 1):
            path = tmp_path / "res" / f"{name}-s{seed}" / "result.json"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(fake(name, seed, 60.0 + seed, 61.0, neuron=neuron)))
    exp.report(a)
    table = (tmp_path / "res" / "table.md").read_text()
    assert "CIFAR-10 (JPEG q75 copy)" in table and "commit abc123" in table
    assert "**Row A: the CNN mixer, g=4 and g=1**" in table
    assert "| cnn-proj-g4 | 2 | 60.50 ± 0.71 |" in table
    assert "| 150 | 1.50 |" in table  # training time against the ReLU twin's
    assert "10.0x in the paper's convention" in table
    for picture in ("windows.png", "energy.png", "curves.png"):
        assert (tmp_path / "res" / picture).stat().st_size > 10_000
