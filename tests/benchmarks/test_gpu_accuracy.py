"""The prepared GPU accuracy run (``benchmarks/gpu_accuracy.py``): its run list, the
CLI calls it makes, the device-time estimate, and the driver end to end on the CPU
(bundled digits, a few seconds a training): the results line built from a run's
``metrics.json`` and the partial result of a run the budget stops."""

import json

import pytest

from snntorch_ms.cli import build_parser
from snntorch_ms.train import load_checkpoint


@pytest.fixture(scope="module")
def acc(load_script):
    return load_script("gpu_accuracy")


def _args(acc, *argv):
    """The script's arguments as its main() resolves them (the driver not run)."""
    seen = []
    real, acc.driver = acc.driver, seen.append
    try:
        acc.main(list(argv) + ["--out", "/nonexistent/out"])
    finally:
        acc.driver = real
    return seen[0]


def _flags(cmd):
    """``{flag: [values]}`` of a CLI call, and its parse by the package's own parser."""
    assert cmd[1:4] == ["-m", "snntorch_ms", "train"]
    build_parser().parse_args(cmd[3:])  # every flag exists and has a valid value
    out, i = {}, 4
    while i < len(cmd):
        if i + 1 < len(cmd) and not cmd[i + 1].startswith("--"):
            out.setdefault(cmd[i], []).append(cmd[i + 1])
            i += 2
        else:
            out.setdefault(cmd[i], []).append(True)
            i += 1
    return out


def test_run_list(acc):
    specs = acc.all_specs(_args(acc))
    convnet = [f"convnet-{n}-s{s}" for n in ("relu", "leaky-T1", "leaky-T4", "proj-T1")
               for s in (0, 1)]
    mixer = ["mixer-relu-s0", "mixer-leaky-T1-s0", "mixer-proj-T1-s0"]
    cifar = ["cifar-mixer-relu-s0", "cifar-mixer-leaky-T1-s0", "cifar-mixer-proj-T1-s0"]
    assert sorted(specs) == sorted(convnet + mixer + cifar + ["convnet-best-T1-s0"])
    # the longest first: CIFAR-10, then the Fashion-MNIST mixers
    assert set(list(specs)[:3]) == set(cifar) and set(list(specs)[3:6]) == set(mixer)
    for name, s in specs.items():
        assert s["dataset"] == ("cifar10" if name.startswith("cifar") else "fashion-mnist")
        assert s["epochs"] == {"cifar10": acc.CIFAR_EPOCHS}.get(
            s["dataset"], 30 if "best" in name else 10), name
    assert specs["convnet-leaky-T4-s1"]["timesteps"] == 4
    # --only takes configurations and runs; an unknown name is refused
    assert list(acc.all_specs(_args(acc, "--only", "convnet-relu", "mixer-proj-T1-s0"))) == \
        ["mixer-proj-T1-s0", "convnet-relu-s0", "convnet-relu-s1"]
    with pytest.raises(SystemExit, match="unknown trainings"):
        acc.all_specs(_args(acc, "--only", "convnet-rleu"))


def test_cifar_commands_are_the_paper_setting(acc):
    args = _args(acc, "--cifar", "/x/cifar10-jpeg.tar.gz")
    specs = acc.all_specs(args)
    flags = {n: _flags(acc.command(specs[n], args, acc.Path("/w") / n,
                                   "triton" if "proj" in n else None))
             for n in ("cifar-mixer-relu-s0", "cifar-mixer-leaky-T1-s0", "cifar-mixer-proj-T1-s0")}
    for name, f in flags.items():
        assert f["--dataset"] == ["cifar10"] and f["--data-dir"] == ["/x/cifar10-jpeg.tar.gz"]
        assert f["--model"] == ["cnn-mixer"] and "--model-arg" not in f  # full size
        assert f["--recipe"] == ["paper"] and f["--val-images"] == ["5000"]
        assert f["--warmup-epochs"] == ["1"] and f["--epochs"] == [str(acc.CIFAR_EPOCHS)]
        assert f["--device"] == ["cuda"] and f["--out"] == [f"/w/{name}"]
        assert f["--fused-optimizer"] == [True] and f["--no-progress"] == [True]
        assert "--limit-train" not in f and "--batch-size" not in f
    assert "--neuron-arg" not in flags["cifar-mixer-relu-s0"]
    relu = acc.command(specs["cifar-mixer-relu-s0"], args, acc.Path("/w"), "triton")
    assert "--neuron-arg" not in relu  # the engine reaches ProjLeaky runs only
    paper = ["threshold=0.5", "beta=0.4", "spike_grad=rectangular:width=1",
             "reset_mechanism=subtract"]
    assert flags["cifar-mixer-leaky-T1-s0"]["--neuron-arg"] == paper  # no theta, no engine
    assert sorted(flags["cifar-mixer-proj-T1-s0"]["--neuron-arg"]) == \
        sorted(paper + ["theta=0.5", "backend=triton"])


def test_fashion_and_tiny_commands(acc):
    args = _args(acc, "--data", "/d")
    spec = acc.all_specs(args)["convnet-proj-T1-s0"]
    f = _flags(acc.command(spec, args, acc.Path("/w"), "eager"))
    assert f["--dataset"] == ["fashion-mnist"] and f["--data-dir"] == ["/d"]
    assert f["--recipe"] == ["basic"] and f["--epochs"] == ["10"] and "--val-images" not in f
    assert f["--neuron-arg"] == ["backend=eager"]
    tiny = _args(acc, "--tiny")
    specs = acc.all_specs(tiny)
    assert {s["epochs"] for s in specs.values()} == {1, 3}  # the best-T1 row: 3 x 1
    f = _flags(acc.command(specs["cifar-mixer-leaky-T1-s0"], tiny, acc.Path("/w")))
    assert f["--device"] == ["cpu"] and f["--batch-size"] == ["32"]
    assert f["--limit-train"] == f["--limit-test"] == f["--val-images"] == ["64"]
    assert f["--energy-images"] == ["8"] and tiny.jobs == 2


def test_best_t1_slot(acc):
    specs = acc.all_specs(_args(acc))
    assert [k for k in specs if "best" in k] == ["convnet-best-T1-s0"]
    assert [k for k in acc.all_specs(_args(acc, "--seeds", "0", "1")) if "best" in k] == \
        ["convnet-best-T1-s0", "convnet-best-T1-s1"]
    assert acc.all_specs(_args(acc, "--epochs", "2"))["convnet-best-T1-s0"]["epochs"] == 6
    # its spec's config and CLI flags reach the call
    args = _args(acc, "--best-t1", json.dumps({
        "name": "x", "model": "convnet", "neuron": "proj", "timesteps": 1, "epochs_factor": 2,
        "config": {"lr": 0.001, "membrane_bn": True}, "cli_args": ["--teacher", "auto"]}))
    spec = acc.all_specs(args)["x-s0"]
    f = _flags(acc.command(spec, args, acc.Path("/w"), "eager"))
    assert f["--epochs"] == ["20"] and f["--lr"] == ["0.001"] and f["--membrane-bn"] == [True]
    assert f["--teacher"] == ["auto"]
    base = dict(model="convnet", neuron="leaky", timesteps=1, seed=0, config_name="x",
                dataset="fashion-mnist")
    with pytest.raises(ValueError, match="'epochs_factor' or config 'epochs', not both"):
        acc.epochs_of(dict(base, epochs_factor=2, config={"epochs": 4}), args)
    for bad in (0, -1, "3", True):
        with pytest.raises(ValueError, match="'epochs_factor' must be a positive number"):
            acc.epochs_of(dict(base, epochs_factor=bad), args)


def test_estimate(acc, tmp_path, capsys):
    out = tmp_path / "est.json"
    acc.main(["--estimate", "--only", "convnet-relu-s0", "convnet-leaky-T4-s0", "--json", str(out),
              "--budget", "200"])
    est = json.loads(out.read_text())
    t4, relu = est["rows"]  # the longest first
    assert (relu["run"], t4["run"]) == ("convnet-relu-s0", "convnet-leaky-T4-s0")
    assert 25 < relu["mmac_per_image"] < 35  # the full-width ConvNet on 28x28
    assert t4["mmac_per_image"] == pytest.approx(4 * relu["mmac_per_image"])
    assert t4["ops_per_step"] > relu["ops_per_step"] > 0
    # 469 steps and 79 evaluation batches a Fashion-MNIST epoch at batch 128 (50 TFLOP/s,
    # 4 us a kernel)
    ev_dev = 2e3 * relu["mmac_per_image"] * 1e6 * 128 / 50e12 + relu["ops_per_eval_batch"] * 4e-3
    assert relu["epoch_device_s"] == pytest.approx(
        (469 * relu["device_ms_per_step"] + 79 * ev_dev) / 1e3)
    assert relu["gpu_busy_s"] == pytest.approx(10 * relu["epoch_device_s"])
    assert est["summary"]["gpu_busy_sum_s"] == pytest.approx(relu["gpu_busy_s"] + t4["gpu_busy_s"])
    assert est["summary"]["epochs_by_budget"]["convnet-relu-s0"] == pytest.approx(10)
    assert "all at once within the 200 s budget" in capsys.readouterr().out


def test_shared_card(acc):
    class A:
        startup_s, decode_s, budget = 0.0, 5.0, 30.0

    rows = [dict(run=r, dataset="fashion-mnist", epochs=2, epoch_s=10.0, epoch_device_s=10.0)
            for r in ("a", "b")]
    # two device-bound runs share the card: half speed each, 15 s of 20 by 30 s
    assert acc.shared_card(rows, A) == pytest.approx({"a": 1.5, "b": 1.5}, abs=0.02)
    host_bound = [dict(r, epoch_device_s=1.0) for r in rows]  # 10 % of the card each
    assert acc.shared_card(host_bound, A) == pytest.approx({"a": 2, "b": 2})
    cifar = [dict(rows[0], dataset="cifar10")]  # starts after the decode
    assert acc.shared_card(cifar, A)["a"] == pytest.approx(2.0)
    A.budget = 15.0
    assert acc.shared_card(cifar, A)["a"] == pytest.approx(1.0, abs=0.02)


def _digits(acc, monkeypatch, **rows):
    small = {"width": 0.25}
    monkeypatch.setattr(acc, "ROWS", {name: dict(dataset="digits", model="convnet", neuron=neuron,
                                                 timesteps=1, seeds=(0,), model_kwargs=small,
                                                 config=config)
                                      for name, (neuron, config) in rows.items()})
    monkeypatch.setattr(acc, "BEST_T1", {})


def test_driver_records_each_run_from_its_metrics(acc, tmp_path, monkeypatch):
    _digits(acc, monkeypatch, relu=("relu", {"limit_train": 64}),
            proj=("proj", {"limit_train": 64}))
    out, work = tmp_path / "out", tmp_path / "work"
    assert acc.main(["--device", "cpu", "--epochs", "1", "--limit", "50", "--energy-images", "4",
                     "--budget", "300", "--out", str(out), "--work", str(work)]) == 0
    lines = {r["run"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert set(lines) == {"relu-s0", "proj-s0"}
    for run, line in lines.items():
        m = json.loads((work / run / "metrics.json").read_text())
        assert line["status"] == "done" and line["epochs"] == line["epochs_planned"] == 1
        assert line["test_acc"] == m["test_acc"] and line["energy_ratio"] == m["energy_ratio"]
        assert line["history"][0]["test_acc"] == m["history"][0]["test_acc"]
        assert line["config"]["fused_optimizer"] is True and line["config"]["limit_train"] == 64
        assert line["wall_s"] > 0 and line["train_s"] == m["timing"]["train_s"]
    assert lines["proj-s0"]["proj_backend"] == "eager"  # no CUDA: the check picks eager
    assert lines["relu-s0"]["proj_backend"] is None
    assert json.loads((work / acc.CHECK / "backend.json").read_text())["backend"] == "eager"
    table = (out / "table.md").read_text()
    assert "| proj (eager) | digits | 1 | 1 |" in table and "| relu | digits |" in table
    assert "ProjLeaky backend eager (no CUDA or no Triton" in table
    assert "===== relu-s0" in (out / "workers.log").read_text()


def test_driver_stops_at_the_budget_with_a_partial_result(acc, tmp_path, monkeypatch):
    _digits(acc, monkeypatch, long=("relu", {"limit_train": 64}), late=("relu", {}))
    out, work = tmp_path / "out", tmp_path / "work"
    acc.main(["--device", "cpu", "--epochs", "100000", "--limit", "20", "--jobs", "1",
              "--budget", "45", "--out", str(out), "--work", str(work)])
    lines = {r["run"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    # one at a time: the check, then the first training, stopped; the second never starts
    assert lines["late-s0"]["status"] == "not started (budget)"
    assert lines["late-s0"]["test_acc"] is None and lines["late-s0"]["epochs"] == 0
    stopped = lines["long-s0"]
    assert stopped["status"] == "partial"
    hist = load_checkpoint(work / stopped["run"])["history"]
    assert 1 <= stopped["epochs"] == len(hist) < 100000 and stopped["epochs_planned"] == 100000
    assert stopped["test_acc"] == hist[-1]["test_acc"]
    table = (out / "table.md").read_text()
    assert f"| long | digits | 1 | 100000 | {hist[-1]['test_acc']:.2f} |" in table
    assert f"partial ({len(hist)}/100000 ep)" in table
    assert "ProjLeaky backend - (no ProjLeaky run)" in table


def test_step_costs(load_script):
    """What the estimate measures (``experiment.count_ops`` / ``step`` / ``step_costs``)."""
    import torch

    experiment = load_script("experiment")
    lin, x = torch.nn.Linear(4, 10), torch.randn(2, 4)
    assert experiment.count_ops(lambda: lin(x)) == 1  # one addmm: views, allocations left out
    train = experiment.count_ops(lambda: experiment.step(lin, x))
    assert train > experiment.count_ops(lambda: experiment.step(lin, x, False)) >= 1
    costs = experiment.step_costs(lin, lin, lin, (4,))
    assert costs["mmac_per_image"] == pytest.approx(40 / 1e6)
    assert costs["ops_per_step"] == train and costs["cpu_us_per_op"] > 0
