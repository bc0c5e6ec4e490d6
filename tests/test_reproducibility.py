"""Same command, same seed, same machine: the same numbers, whatever the load.

The thread count decides the order of floating-point reductions, so it is part of
what a run computes; the load of the machine is not. A short training runs twice,
the second time while child processes burn every core until the one-minute load
average exceeds the core count, and every field of ``metrics.json`` but the
timings must be equal.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from snntorch_ms.train import TrainConfig, train

#: seconds the burners may take to lift the one-minute load average above the core
#: count (from an idle machine, 2 x cores burners need about 42 s: the average
#: closes 1 - 1/e of its gap to 2 x cores per minute)
BURN_LIMIT_S = 240

#: fields that measure time, not results: the only ones the two runs may differ in
TIMING_KEYS = {"timing", "time_s", "train_s_own", "train_s_total"}


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _tiny_run(out: Path) -> dict:
    # a run that learns a little in two short epochs (threshold 0.5 keeps the small
    # net firing); threads left to the default, which is what this test is about
    cfg = TrainConfig(dataset="digits", epochs=2, limit_train=200, limit_test=100,
                      batch_size=25, seed=3, energy_images=8, device="cpu", out=str(out),
                      model_kwargs={"width": 0.25}, neuron_kwargs={"threshold": 0.5})
    train(cfg, progress=False)
    return json.loads((out / "metrics.json").read_text())


def _burn_until_loaded(limit_s: float):
    """Start 2 x cores busy-looping children; return them once the one-minute load
    average exceeds the core count (or after ``limit_s``) with the load reached."""
    cores = os.cpu_count() or 1
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(2 * cores)]
    deadline = time.monotonic() + limit_s
    load = os.getloadavg()[0]
    while load <= cores and time.monotonic() < deadline:
        time.sleep(2)
        load = os.getloadavg()[0]
    return burners, load


@pytest.mark.skipif(not hasattr(os, "getloadavg"), reason="no load average on this platform")
def test_same_seed_same_numbers_under_load(tmp_path):
    out = tmp_path / "run"
    start_threads = torch.get_num_threads()
    first = _tiny_run(out)
    shutil.move(out, tmp_path / "first")   # the second run writes to the same --out

    cores = os.cpu_count() or 1
    burners, load = _burn_until_loaded(BURN_LIMIT_S)
    try:
        assert load > cores, (
            f"the burners did not lift the one-minute load average above {cores} cores "
            f"within {BURN_LIMIT_S} s (it is {load:.2f}): the test could not load the machine")
        second = _tiny_run(out)
        load_after = os.getloadavg()[0]
    finally:
        for p in burners:
            p.kill()
        for p in burners:
            p.wait()

    assert load_after > cores   # the second run ran on a loaded machine throughout
    # the default thread count is torch's at the start, whatever the load, and recorded
    assert first["threads"] == second["threads"] == start_threads
    assert first["config"]["threads"] == second["config"]["threads"] == start_threads
    assert first["history"][-1]["train_acc"] > 10.0   # the run learns: the check has teeth
    assert _without_timings(second) == _without_timings(first)


def test_given_thread_count_wins_and_is_recorded(tmp_path):
    # --threads still overrides the default; the count is in metrics.json
    before = torch.get_num_threads()
    cfg = TrainConfig(dataset="digits", epochs=1, limit_train=50, limit_test=25, batch_size=25,
                      energy_images=4, device="cpu", out=str(tmp_path / "run"), threads=1,
                      model_kwargs={"width": 0.25})
    metrics = train(cfg, progress=False)
    assert metrics["threads"] == metrics["config"]["threads"] == 1
    assert torch.get_num_threads() == before


def test_default_ignores_the_load(monkeypatch):
    from snntorch_ms.train import runtime

    cores = os.cpu_count() or 1
    monkeypatch.setattr(os, "getloadavg", lambda: (10.0 * cores, 10.0 * cores, 10.0 * cores))
    assert runtime.choose_threads(None) == torch.get_num_threads()
    assert runtime.choose_threads(3) == 3
    assert runtime.busy_cpu() is not None and f"on {cores} cores" in runtime.busy_cpu()
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert runtime.busy_cpu() is None
