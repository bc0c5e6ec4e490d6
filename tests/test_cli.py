"""The ``snntorch-ms`` command line: train, kill, resume, eval, energy, errors.

Runs are tiny (200 digits, a quarter-width convnet, 2 epochs, 1 thread) so the
whole file takes well under a minute of CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from snntorch_ms.data import download as data_download
from snntorch_ms.cli import main, parse_kv
from snntorch_ms.train import load_checkpoint

# a run that learns a little in 2 short epochs (threshold 0.5 keeps the small
# net firing); one thread everywhere so in-process and subprocess runs compute
# the same thing
TINY = [
    "--limit-train", "200", "--limit-test", "100", "--epochs", "2", "--batch-size", "25",
    "--model-arg", "width=0.25", "--neuron-arg", "threshold=0.5", "--energy-images", "16",
    "--threads", "1", "--no-progress", "--seed", "3",
]
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
REPO = Path(__file__).resolve().parents[1]


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """An uninterrupted 2-epoch run: (out dir, metrics, checkpoint)."""
    out = tmp_path_factory.mktemp("cli") / "base"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    return out, metrics, load_checkpoint(out)


def test_train_writes_metrics_checkpoint_and_plots(baseline):
    out, m, ckpt = baseline
    for key in ("history", "test_acc", "firing_rates", "energy_j", "ann_energy_j", "energy_ratio",
                "energy_report", "ann_energy_report", "config", "timing", "paper_convention"):
        assert key in m, key
    assert 0.0 <= m["test_acc"] <= 100.0
    assert m["energy_j"] > 0 and m["ann_energy_j"] > 0
    assert m["energy_ratio"] == pytest.approx(m["ann_energy_j"] / m["energy_j"])
    assert [h["epoch"] for h in m["history"]] == [1, 2]
    assert set(m["history"][0]) >= {"train_loss", "train_acc", "test_loss", "test_acc", "lr", "time_s"}
    assert m["test_acc"] == m["history"][-1]["test_acc"]
    assert m["firing_rates"] and all(0.0 <= r <= 1.0 for r in m["firing_rates"].values())
    assert m["config"]["neuron_kwargs"] == {"threshold": 0.5}
    assert m["config"]["model_kwargs"] == {"width": 0.25}
    assert ckpt["epoch"] == 2 and len(ckpt["history"]) == 2
    assert not (out / "checkpoint.pt.tmp").exists()
    for png in ("curves.png", "energy.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stop_and_resume_is_bit_identical(baseline, tmp_path, capsys):
    _, m, ckpt = baseline
    out = tmp_path / "run"
    # the hidden --stop-after ends the run after epoch 1, as a kill would
    assert main(["train", *TINY, "--out", str(out), "--stop-after", "1"]) == 0
    assert load_checkpoint(out)["epoch"] == 1
    assert not (out / "metrics.json").exists()
    # resume with no other flag: the settings (thread count included) come from
    # the checkpoint
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert "resuming" in capsys.readouterr().out
    resumed = load_checkpoint(out)
    assert resumed["epoch"] == 2
    assert _states_equal(resumed["model"], ckpt["model"])
    m2 = json.loads((out / "metrics.json").read_text())
    strip = lambda h: {k: v for k, v in h.items() if k != "time_s"}  # noqa: E731
    assert [strip(h) for h in m2["history"]] == [strip(h) for h in m["history"]]
    assert m2["energy_j"] == m["energy_j"]


def test_sigkill_then_resume_is_bit_identical(baseline, tmp_path):
    _, _, ckpt = baseline
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "snntorch_ms", "train", *TINY, "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt_file = out / "checkpoint.pt"
    deadline = time.time() + 120
    try:
        while not ckpt_file.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.005)
        assert ckpt_file.exists(), proc.stderr.read().decode() if proc.poll() is not None else "timeout"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert load_checkpoint(out)["epoch"] == 1  # killed during epoch 2
    assert not (out / "metrics.json").exists()
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    resumed = load_checkpoint(out)
    assert resumed["epoch"] == 2
    assert _states_equal(resumed["model"], ckpt["model"])


def test_eval_prints_the_accuracy_of_metrics_json(baseline, capsys):
    out, m, _ = baseline
    assert main(["eval", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["test_acc"] == m["test_acc"]
    assert result["images"] == 100 and result["epoch"] == 2
    assert main(["eval", "--checkpoint", str(out / "checkpoint.pt")]) == 0
    assert f"test accuracy: {m['test_acc']:.2f} %" in capsys.readouterr().out


def test_energy_prints_a_table(baseline, capsys):
    out, m, _ = baseline
    assert main(["energy", "--out", str(out), "--images", "16"]) == 0
    text = capsys.readouterr().out
    assert "features.0.conv" in text and "firing rates" in text and "ANN twin" in text
    assert main(["energy", "--out", str(out), "--images", "16", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["energy_j"] == pytest.approx(m["energy_j"])
    assert main(["energy", "--out", str(out), "--images", "16", "--convention", "paper"]) == 0
    assert "paper" in capsys.readouterr().out.lower()
    # without a run: an untrained model from the model flags
    assert main(["energy", "--model-arg", "width=0.25", "--images", "4", "--neuron", "leaky"]) == 0
    assert "untrained convnet (leaky" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_checkpoint_is_a_clear_error(baseline, tmp_path, capsys, damage):
    out = tmp_path / "broken"
    shutil.copytree(baseline[0], out)
    f = out / "checkpoint.pt"
    raw = f.read_bytes()
    damaged = raw[: len(raw) // 2] if damage == "truncate" else b"not a checkpoint" * 10
    f.write_bytes(damaged)
    for argv in (["eval", "--out", str(out)], ["train", "--out", str(out), "--resume", "--threads", "1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert str(f) in err and "cannot be read" in err and "Traceback" not in err
    assert f.read_bytes() == damaged  # never replaced by a fresh start


def test_resume_with_other_settings_is_refused(baseline, tmp_path, capsys):
    out = tmp_path / "other"
    shutil.copytree(baseline[0], out)
    assert main(["train", "--out", str(out), "--resume", "--model-arg", "width=0.5"]) == 2
    err = capsys.readouterr().err
    assert "another configuration" in err and "model_kwargs" in err


def test_unfinished_run_needs_resume(baseline, tmp_path, capsys):
    out = tmp_path / "unfinished"
    assert main(["train", *TINY, "--out", str(out), "--stop-after", "1"]) == 0
    capsys.readouterr()
    assert main(["train", *TINY, "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_missing_dataset_offline_is_a_clear_error(tmp_path, capsys, monkeypatch):
    # the default path tries to download: make the host unreachable
    monkeypatch.setattr(data_download, "reachable", lambda url, timeout=None: "offline (test)")
    argv = ["train", "--dataset", "cifar10", "--data-dir", str(tmp_path / "data"),
            "--out", str(tmp_path / "run"), "--threads", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("snntorch-ms: error:") and "cifar-10-batches-py" in err
    assert "Traceback" not in err


def test_command_line_entry_points(tmp_path):
    # python -m snntorch_ms: exit status 2 and one readable message, no traceback
    proc = subprocess.run(
        [sys.executable, "-m", "snntorch_ms", "train", "--dataset", "tiny-imagenet", "--no-download",
         "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "tiny-imagenet-200" in proc.stderr and "Traceback" not in proc.stderr
    script = shutil.which("snntorch-ms", path=str(Path(sys.executable).parent)) or shutil.which("snntorch-ms")
    if script is None:
        pytest.skip("console script snntorch-ms not installed")
    proc = subprocess.run([script, "train", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for flag in ("--dataset", "--limit-train", "--resume", "--recipe", "--neuron-arg", "--fused-optimizer"):
        assert flag in proc.stdout


def test_parse_kv():
    assert parse_kv(["threshold=0.5", "windows=overlap", "learn_beta=True", "x=none"]) == {
        "threshold": 0.5, "windows": "overlap", "learn_beta": True, "x": None}
    assert parse_kv(["depths=(1, 1, 1, 1)"]) == {"depths": (1, 1, 1, 1)}
    with pytest.raises(ValueError):
        parse_kv(["threshold"])


# ---------------------------------------------------------------- user errors vs bugs


def test_unknown_neuron_keyword_is_one_line_naming_the_known_ones(tmp_path, capsys):
    argv = ["train", *TINY, "--neuron-arg", "bogus=1", "--out", str(tmp_path / "run")]
    assert main(argv) == 2  # was a raw TypeError traceback
    err = capsys.readouterr().err
    assert err.startswith("snntorch-ms: error:") and err.count("\n") == 1
    assert "unknown neuron keyword 'bogus'" in err and "beta, threshold, spike_grad" in err
    assert not (tmp_path / "run").exists()  # checked before any work


def test_bad_neuron_value_is_a_usage_error(tmp_path, capsys):
    argv = ["train", *TINY, "--neuron-arg", "projection=sinus", "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    assert "projection" in capsys.readouterr().err


def test_a_value_error_inside_training_is_a_bug_with_its_traceback(tmp_path, monkeypatch):
    import snntorch_ms.train as train_mod

    def broken(config, progress=True):
        raise ValueError("an internal bug")

    monkeypatch.setattr(train_mod, "train", broken)
    with pytest.raises(ValueError, match="an internal bug"):
        main(["train", *TINY, "--out", str(tmp_path / "run")])


def test_out_naming_a_file_is_a_clear_error(tmp_path, capsys):
    existing = tmp_path / "results.txt"
    existing.write_text("not a folder")
    assert main(["train", *TINY, "--out", str(existing)]) == 2  # was FileExistsError
    err = capsys.readouterr().err
    assert f"--out {existing} is a file" in err and "Traceback" not in err
    assert existing.read_text() == "not a folder"


def test_truncated_fashion_mnist_names_the_file(tmp_path, capsys):
    import gzip

    import numpy as np

    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 20), ("t10k", 10)):
        for kind, arr in (("images-idx3", np.zeros((n, 28, 28), np.uint8)),
                          ("labels-idx1", np.arange(n, dtype=np.uint8) % 10)):
            header = bytes([0, 0, 8, arr.ndim]) + b"".join(
                int(d).to_bytes(4, "big") for d in arr.shape)
            (raw / f"{split}-{kind}-ubyte").write_bytes(header + arr.tobytes())
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:984])  # truncated, as a broken copy would be
    argv = ["train", *TINY, "--dataset", "fashion-mnist", "--no-download",
            "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")]
    assert main(argv) == 2  # was "RuntimeError: shape '[60000, 28, 28]' is invalid ..."
    err = capsys.readouterr().err
    assert f"{path} is corrupt" in err and "15696 bytes, but it holds 984 bytes" in err
    assert "put a complete copy there" in err and "Traceback" not in err


def test_every_train_setting_has_its_flag_derived_from_the_config():
    import dataclasses

    from snntorch_ms.cli import _given, build_parser
    from snntorch_ms.train import TrainConfig

    parser = build_parser()
    for f in dataclasses.fields(TrainConfig):
        meta = f.metadata.get("cli")
        assert meta is not None, f"{f.name} has no command-line flag"
        flag = meta.get("flag", "--" + f.name.replace("_", "-"))
        if meta.get("action") == "store_true":
            argv, expected = [flag], True
        elif meta.get("action") == "store_const":
            argv, expected = [flag], meta["const"]
        elif meta.get("action") == "append":
            argv, expected = [flag, "threshold=0.5"], {"threshold": 0.5}
        elif "choices" in meta:
            argv, expected = [flag, meta["choices"][-1]], meta["choices"][-1]
        elif meta.get("type") in (int, float):
            argv, expected = [flag, "3"], meta["type"]("3")
        else:
            argv, expected = [flag, "x"], "x"
        given = _given(parser.parse_args(["train", *argv]))
        assert given.get(f.name) == expected, f.name


def test_user_errors_share_one_base():
    from snntorch_ms.cli import UsageError
    from snntorch_ms.data import DatasetCorruptError, DatasetNotFoundError
    from snntorch_ms.errors import UserError
    from snntorch_ms.train import CheckpointError, ConfigError, TrainConfig, resolve_config

    for cls in (UsageError, DatasetNotFoundError, DatasetCorruptError, CheckpointError,
                ConfigError):
        assert issubclass(cls, UserError), cls
    with pytest.raises(ConfigError, match="unknown optimizer 'rmsprop'"):
        resolve_config(TrainConfig(optimizer="rmsprop"))
    with pytest.raises(ValueError):  # still a ValueError for callers that catch that
        resolve_config(TrainConfig(epochs=0))


def test_bad_flag_value_is_one_line(tmp_path, capsys):
    assert main(["train", *TINY, "--lr", "-1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("snntorch-ms: error: bad flags: lr=-1.0 is out of range")
