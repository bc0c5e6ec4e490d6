"""The one timing harness of the scripts under ``benchmarks/`` (``neuron_layer.py``,
``fused_engines.py``, ``train_step.py``).

A script names its configurations and gives a ``setup(name)`` that builds one and
returns ``(step, ran)``: ``step()`` runs one timed iteration, ``ran`` says what it
runs (a string, or a function read after the warm-up, e.g. the engine a neuron
resolved). :func:`measure` then

* builds and warms every configuration up (``warmup`` steps each), keeping the
  warnings it raises (e.g. "torch.compile failed ... using the eager math"); one
  that fails is a result (a row with ``error``), not the end of the run;
* times them round-robin, one step of each per round, so that load from other
  processes on a shared machine hits all of them alike; CUDA is synchronised
  before and after each step.

Each :class:`Timing` gives the median and minimum in ms and a
:class:`torch.utils.benchmark.Measurement` of its times; :func:`compare_table`
prints them through :class:`torch.utils.benchmark.Compare`. (``Timer`` itself does
not fit: it times one statement in blocks, with warm-up runs before each block, where
these scripts interleave configurations one step at a time.)
"""

import statistics
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Tuple, Union

import torch
from torch.utils import benchmark

Setup = Callable[[str], Tuple[Callable[[], object], Union[str, Callable[[], str]]]]


@dataclass
class Timing:
    """One configuration's result: what it ran, its warm-up, its times (ms)."""

    name: str
    warmup_s: float = 0.0
    warnings: List[str] = field(default_factory=list)
    ran: Optional[str] = None
    error: Optional[str] = None
    times_ms: List[float] = field(default_factory=list)

    @property
    def ms(self) -> Optional[float]:
        """Median ms per step (None for a failed configuration)."""
        return statistics.median(self.times_ms) if self.times_ms else None

    @property
    def min_ms(self) -> Optional[float]:
        return min(self.times_ms) if self.times_ms else None

    def measurement(self, label: str = "", sub_label: str = "") -> benchmark.Measurement:
        """The times as a :class:`torch.utils.benchmark.Measurement` (seconds)."""
        spec = benchmark.utils.common.TaskSpec(
            stmt="step()", setup="pass", label=label, sub_label=sub_label or self.name,
            description="ms/step", num_threads=torch.get_num_threads())
        return benchmark.Measurement(1, [t / 1e3 for t in self.times_ms], spec)


def sync(device) -> None:
    """Wait for the device's queued work (CUDA); nothing elsewhere."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_step(step: Callable[[], object], device) -> float:
    """Seconds of one ``step()``, synchronised before and after."""
    sync(device)
    start = time.perf_counter()
    step()
    sync(device)
    return time.perf_counter() - start


def warm(name: str, setup: Setup, warmup: int, device, label: str = ""):
    """Build configuration ``name`` and run ``warmup`` steps: ``(Timing, step or None)``."""
    timing = Timing(name)
    step = None
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            step, ran = setup(name)
            for _ in range(warmup):
                step()
            sync(device)
            timing.ran = ran() if callable(ran) else ran
        except Exception as err:  # a failed compile is a result, not the end of the run
            step = None
            timing.error = f"{type(err).__name__}: {err}"
            print(f"{label}{name}: FAILED\n{traceback.format_exc()}", file=sys.stderr)
    timing.warmup_s = time.perf_counter() - t0
    timing.warnings = sorted({str(w.message)[:300] for w in caught})
    return timing, step


def measure(names: Iterable[str], setup: Setup, *, warmup: int, reps: int, device,
            label: str = "") -> List[Timing]:
    """Warm every configuration up, then time ``reps`` rounds of one step each,
    round-robin; one :class:`Timing` per name, in order."""
    timings, steps = [], {}
    for name in names:
        timing, step = warm(name, setup, warmup, device, label)
        timings.append(timing)
        if step is not None:
            steps[name] = (timing, step)
    for _ in range(reps):
        for timing, step in steps.values():
            timing.times_ms.append(time_step(step, device) * 1e3)
    return timings


def compare_table(timings: Iterable[Timing], label: str) -> str:
    """The timed configurations as :class:`torch.utils.benchmark.Compare` prints them
    (median and interquartile spread), for the log."""
    measurements = [t.measurement(label) for t in timings if t.times_ms]
    if not measurements:
        return ""
    table = benchmark.Compare(measurements)
    return str(table)
