"""The one-time-step training techniques: distillation from a teacher, warm start
from another run, the validation split, and their resume safety."""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from snntorch_ms.cli import build_parser
from snntorch_ms.train import (
    CheckpointError,
    ConfigError,
    TrainConfig,
    build_from_config,
    distillation_loss,
    evaluate_checkpoint,
    load_checkpoint,
    load_sets,
    load_teacher,
    load_validation,
    resolve_config,
    train,
    warm_start,
)

TINY = dict(dataset="digits", epochs=2, limit_train=96, limit_test=48, batch_size=32,
            model_kwargs={"width": 0.25}, threads=1)


def _train(tmp_path, name, **kwargs):
    cfg = TrainConfig(out=str(tmp_path / name), **{**TINY, **kwargs})
    return train(cfg, progress=False, log=None)


# -- the loss, by hand -------------------------------------------------------


def test_distillation_loss_hand_values():
    zs = torch.zeros(1, 2, requires_grad=True)
    zt = torch.tensor([[2 * math.log(3.0), 0.0]])  # / tau=2: softmax (3/4, 1/4)
    hard = torch.tensor(0.7)
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)  # = 0.130812...
    assert kl == pytest.approx(0.1308121, abs=1e-6)
    loss = distillation_loss(zs, zt, hard, weight=0.25, temperature=2.0)
    assert float(loss.detach()) == pytest.approx(0.75 * 0.7 + 0.25 * 4 * kl, abs=1e-6)
    loss.backward()
    # d/dz_s of w tau^2 KL = w tau (p_s - p_t) = 0.25 x 2 x (-1/4, 1/4)
    assert zs.grad[0].tolist() == pytest.approx([-0.125, 0.125], abs=1e-6)
    # w = 0: the recipe's loss itself; the teacher agreeing: no soft term
    assert float(distillation_loss(zs, zt, hard, 0.0, 2.0).detach()) == pytest.approx(0.7)
    same = torch.tensor([[1.0, -2.0, 0.5]])
    assert float(distillation_loss(same, same, torch.tensor(0.0), 1.0, 3.0)) == \
        pytest.approx(0.0, abs=1e-7)


def test_technique_settings_are_flags_and_checked():
    args = build_parser().parse_args(
        ["train", "--teacher", "runs/relu", "--distill-weight", "0.3", "--distill-temperature",
         "2", "--init-from", "runs/t4", "--membrane-bn", "--val-images", "100"])
    assert (args.teacher, args.distill_weight, args.distill_temperature, args.init_from,
            args.membrane_bn, args.val_images) == ("runs/relu", 0.3, 2.0, "runs/t4", True, 100)
    c = resolve_config(TrainConfig())
    assert (c.distill_weight, c.distill_temperature, c.membrane_bn) == (0.5, 4.0, False)
    for bad in (dict(distill_weight=1.5), dict(distill_temperature=0.0), dict(val_images=0)):
        with pytest.raises(ConfigError):
            resolve_config(TrainConfig(**bad))


# -- the validation split -----------------------------------------------------


def test_validation_split_is_held_out_balanced_and_seed_independent():
    c0 = resolve_config(TrainConfig(dataset="digits", val_images=100, limit_train=300, seed=0))
    c1 = resolve_config(TrainConfig(dataset="digits", val_images=100, limit_train=300, seed=1))
    val0, val1 = load_validation(c0), load_validation(c1)
    assert list(val0.indices) == list(val1.indices) and len(val0) == 100
    assert torch.bincount(torch.tensor([y for _, y in val0])).tolist() == [10] * 10
    train0 = load_sets(c0)[0]
    # the training subset indexes the held-out-free pool: map back to the full set
    pool = train0.dataset
    used = {int(pool.indices[i]) for i in train0.indices}
    assert len(used) == 300 and not used & set(val0.indices)
    assert load_validation(resolve_config(TrainConfig())) is None


# -- distillation --------------------------------------------------------------


def test_distillation_records_teacher_and_budget(tmp_path):
    teacher = _train(tmp_path, "relu", neuron="relu", val_images=40)
    student = _train(tmp_path, "kd", neuron="leaky", val_images=40,
                     teacher=str(tmp_path / "relu"), distill_weight=0.7)
    info = student["teacher"]
    assert info["neuron"] == "relu" and info["epochs"] == 2
    # the teacher's own accuracy, on the same test and validation images
    assert info["test_acc"] == pytest.approx(teacher["test_acc"])
    assert info["val_acc"] == pytest.approx(teacher["val_acc"])
    assert info["test_acc"] == pytest.approx(evaluate_checkpoint(tmp_path / "relu",
                                                                 device="cpu")["test_acc"])
    budget = student["budget"]
    assert budget["epochs_own"] == 2 and budget["epochs_total"] == 4
    assert budget["train_s_total"] == pytest.approx(
        budget["train_s_own"] + teacher["timing"]["train_s"])
    assert "val_acc" in student and "val_acc" in student["history"][-1]


def test_distillation_changes_training_and_weight_zero_does_not(tmp_path):
    _train(tmp_path, "relu", neuron="relu")
    plain = _train(tmp_path, "plain", neuron="leaky")
    w0 = _train(tmp_path, "w0", neuron="leaky", teacher=str(tmp_path / "relu"),
                distill_weight=0.0)
    kd = _train(tmp_path, "kd", neuron="leaky", teacher=str(tmp_path / "relu"),
                distill_weight=1.0)
    losses = [h["train_loss"] for h in plain["history"]]
    assert [h["train_loss"] for h in w0["history"]] == pytest.approx(losses, abs=1e-12)
    assert [h["train_loss"] for h in kd["history"]] != pytest.approx(losses, abs=1e-3)


def test_teacher_of_another_dataset_is_refused(tmp_path):
    _train(tmp_path, "relu", neuron="relu")
    for dataset, classes in (("mnist", "10 classes"), ("cifar100", "100 classes")):
        with pytest.raises(CheckpointError, match=f"digits.*{dataset} \\({classes}\\)"):
            load_teacher(tmp_path / "relu", resolve_config(TrainConfig(dataset=dataset)))


def test_distillation_resumes_bit_identically_and_needs_its_teacher(tmp_path):
    _train(tmp_path, "relu", neuron="relu")
    kw = dict(neuron="leaky", teacher=str(tmp_path / "relu"))
    whole = _train(tmp_path, "whole", **kw)
    _train(tmp_path, "cut", stop_after=1, **kw)
    assert load_checkpoint(tmp_path / "cut")["techniques"]["teacher"]["fingerprint"] == \
        whole["teacher"]["fingerprint"]
    resumed = _train(tmp_path, "cut", resume=True, **kw)
    assert [h["train_loss"] for h in resumed["history"]] == \
        [h["train_loss"] for h in whole["history"]]
    assert resumed["test_acc"] == whole["test_acc"]
    # a different teacher at the same path: refused
    _train(tmp_path, "cut2", stop_after=1, **kw)
    _train(tmp_path, "relu", neuron="relu", seed=5)
    with pytest.raises(CheckpointError, match="not the teacher this run started with"):
        _train(tmp_path, "cut2", resume=True, **kw)
    # the teacher gone: a clear error naming it
    shutil.rmtree(tmp_path / "relu")
    with pytest.raises(CheckpointError, match="teacher .*relu.*restore it"):
        _train(tmp_path, "cut2", resume=True, **kw)


# -- warm start ----------------------------------------------------------------


def test_warm_start_loads_the_source_weights(tmp_path):
    _train(tmp_path, "t2", neuron="leaky", timesteps=2)
    cfg = resolve_config(TrainConfig(**{**TINY, "neuron": "leaky"}))
    model = build_from_config(cfg)
    info = warm_start(model, tmp_path / "t2", cfg)
    source = load_checkpoint(tmp_path / "t2")["model"]
    assert all(torch.equal(v, source[k]) for k, v in model.state_dict().items())
    assert info["timesteps"] == 2 and info["epochs"] == 2 and info["cost"]["epochs"] == 2


def test_warm_start_of_another_model_names_the_difference(tmp_path):
    _train(tmp_path, "t2", neuron="leaky", timesteps=2)
    other = resolve_config(TrainConfig(**{**TINY, "neuron": "leaky",
                                          "model_kwargs": {"width": 0.5}}))
    with pytest.raises(CheckpointError, match="model_kwargs: source .*0.25.*this run .*0.5"):
        warm_start(build_from_config(other), tmp_path / "t2", other)
    proj = resolve_config(TrainConfig(**{**TINY, "neuron": "proj"}))
    with pytest.raises(CheckpointError, match="neuron: source 'leaky', this run 'proj'"):
        warm_start(build_from_config(proj), tmp_path / "t2", proj)
    with pytest.raises(CheckpointError, match="warm start .*nowhere"):
        warm_start(build_from_config(proj), tmp_path / "nowhere", proj)


def test_warm_start_run_resumes_without_its_source(tmp_path):
    _train(tmp_path, "t2", neuron="leaky", timesteps=2)
    kw = dict(neuron="leaky", init_from=str(tmp_path / "t2"))
    whole = _train(tmp_path, "whole", **kw)
    assert whole["init_from"]["timesteps"] == 2 and whole["budget"]["epochs_total"] == 4
    cold = _train(tmp_path, "cold", neuron="leaky")
    assert whole["history"][0]["train_loss"] != cold["history"][0]["train_loss"]
    _train(tmp_path, "cut", stop_after=1, **kw)
    shutil.rmtree(tmp_path / "t2")  # the weights live in the run's own checkpoint now
    resumed = _train(tmp_path, "cut", resume=True, **kw)
    assert [h["train_loss"] for h in resumed["history"]] == \
        [h["train_loss"] for h in whole["history"]]
    assert resumed["init_from"]["fingerprint"] == whole["init_from"]["fingerprint"]


# -- "auto": one command trains what the run is built on -----------------------


def test_auto_trains_the_teacher_and_the_source_first_then_reuses_them(tmp_path):
    out = tmp_path / "kd-warm"
    lines = []
    cfg = TrainConfig(out=str(out), neuron="leaky", teacher="auto", init_from="auto:2", **TINY)
    m = train(cfg, progress=False, log=lines.append)
    # the ANN twin and the T=2 source, each a finished run of its own inside out/
    teacher = load_checkpoint(out / "teacher")
    source = load_checkpoint(out / "warm-T2")
    assert teacher["config"]["neuron"] == "relu" and teacher["config"]["timesteps"] == 1
    assert source["config"]["neuron"] == "leaky" and source["config"]["timesteps"] == 2
    assert teacher["epoch"] == source["epoch"] == TINY["epochs"]
    assert m["teacher"]["path"] == str(out / "teacher")
    assert m["init_from"]["timesteps"] == 2
    # the budget counts both prerequisites' epochs
    assert m["budget"]["epochs_total"] == 3 * TINY["epochs"]
    assert any("training the teacher first" in line for line in lines)
    # a second run with the same prerequisites reuses them, untouched
    stamp = (out / "teacher" / "checkpoint.pt").stat().st_mtime_ns
    lines.clear()
    other = TrainConfig(out=str(out), neuron="leaky", teacher="auto", init_from="auto:2",
                        resume=True, **TINY)
    train(other, progress=False, log=lines.append)
    assert any("reusing the finished teacher" in line for line in lines)
    assert (out / "teacher" / "checkpoint.pt").stat().st_mtime_ns == stamp


def test_auto_needs_an_out_folder_and_a_spiking_run():
    with pytest.raises(ConfigError, match="pass out"):
        train(TrainConfig(out=None, teacher="auto", **TINY), progress=False, log=None)
    with pytest.raises(ConfigError, match="ANN already"):
        train(TrainConfig(out="unused", neuron="relu", teacher="auto", **TINY),
              progress=False, log=None)
    with pytest.raises(ConfigError, match="N >= 2"):
        train(TrainConfig(out="unused", init_from="auto:1", **TINY), progress=False, log=None)
