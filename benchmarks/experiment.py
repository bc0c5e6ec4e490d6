"""What the long experiments under ``benchmarks/`` share: one job pool that trains runs
as separate processes (``python -m snntorch_ms train``) with their dependencies first,
committing each result as it lands, what a training step costs (for device-time
estimates), and the statistics and picture helpers of their reports. A client script
says what to run and how to summarise it; nothing here trains, evaluates or reads data
itself (that is the package's job).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple


def stamp() -> str:
    return time.strftime("%H:%M:%S")


def launch(cmd: Sequence[str], out: Path, cwd: Path, env: Optional[Dict[str, str]] = None):
    """Start ``cmd`` with one thread, its output appended to ``<out>/log.txt``."""
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **(env or {}))
    log = open(out / "log.txt", "a")
    log.write(" ".join(map(str, cmd)) + "\n")
    log.flush()
    return subprocess.Popen(list(map(str, cmd)), stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=cwd)


def run_dir(runs, name: str, seed: int) -> Path:
    """The folder of run ``name`` with ``seed`` (its checkpoint, log and metrics)."""
    return Path(runs) / f"{name}-s{seed}"


def result_path(results, name: str, seed: int) -> Path:
    """Where the compact result of run ``name`` with ``seed`` is written (and committed)."""
    return Path(results) / f"{name}-s{seed}" / "result.json"


def trained(folder: Path) -> bool:
    """A run usable as a dependency: its checkpoint and metrics are there."""
    return (folder / "metrics.json").is_file() and (folder / "checkpoint.pt").is_file()


def run_jobs(jobs: Iterable[Hashable], *, dependencies: Callable[[Hashable], List[Hashable]],
             trained: Callable[[Hashable], bool], done: Callable[[Hashable], bool],
             start: Callable[[Hashable], subprocess.Popen],
             record: Callable[[Hashable, float], None], parallel: int = 2,
             log_of: Callable[[Hashable], str] = str, deadline: Optional[float] = None,
             stopped: Optional[Callable[[Hashable, bool], None]] = None) -> set:
    """Run every job not ``done`` (and the dependencies it needs that are not
    ``trained``), ``parallel`` processes at a time, a job only once its dependencies
    finished; ``record(job, wall seconds)`` each success. Returns the failed jobs (a
    job whose dependency failed is skipped and counted as failed).

    At ``deadline`` (a ``time.time()`` value) the jobs still running are stopped
    (SIGTERM, SIGKILL 10 s later) and ``stopped(job, True)`` is called for each, then
    ``stopped(job, False)`` for each job not started; the pool returns."""
    todo: List[Hashable] = []

    def need(job, as_dependency):
        if job in todo or (trained(job) if as_dependency else done(job)):
            return
        for dep in dependencies(job):
            need(dep, True)
        todo.append(job)

    for job in jobs:
        need(job, False)
    running: Dict[Hashable, Tuple[subprocess.Popen, float]] = {}
    failed: set = set()
    while todo or running:
        for job, (proc, t0) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[job]
            if proc.returncode != 0:
                failed.add(job)
                print(f"[{stamp()}] {log_of(job)} FAILED (exit {proc.returncode})", flush=True)
            else:
                record(job, time.time() - t0)
        if deadline is not None and time.time() >= deadline:
            _stop(running, todo, stopped or (lambda job, started: None), log_of)
            return failed
        for job in [j for j in todo if any(d in failed for d in dependencies(j))]:
            todo.remove(job)
            failed.add(job)
            print(f"[{stamp()}] {log_of(job)}: skipped, a dependency failed", flush=True)
        ready = [j for j in todo if all(trained(d) and d not in running
                                        for d in dependencies(j))]
        while ready and len(running) < parallel:
            job = ready.pop(0)
            todo.remove(job)
            print(f"[{stamp()}] start {log_of(job)}", flush=True)
            running[job] = (start(job), time.time())
        if not ready and not running and todo:
            raise RuntimeError(f"cannot schedule {todo}")
        time.sleep(0.5)
    return failed


def _stop(running, todo, stopped, log_of) -> None:
    for proc, _ in running.values():
        proc.terminate()
    for job, (proc, _) in running.items():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(f"[{stamp()}] {log_of(job)}: stopped at the deadline", flush=True)
        stopped(job, True)
    for job in todo:
        print(f"[{stamp()}] {log_of(job)}: not started before the deadline", flush=True)
        stopped(job, False)


def commit(repo: Path, paths: Sequence[Path], message: str, tries: int = 20) -> bool:
    """``git add`` and commit just ``paths`` in ``repo``, retrying while another git
    process holds the index; False (files left for the next commit) when it fails."""
    paths = [str(p) for p in paths]
    for _ in range(tries):
        add = subprocess.run(["git", "-C", str(repo), "add", "--", *paths],
                             capture_output=True, text=True)
        done = add.returncode == 0 and subprocess.run(
            ["git", "-C", str(repo), "commit", "-q", "-m", message, "--", *paths],
            capture_output=True, text=True).returncode == 0
        if done:
            return True
        time.sleep(3)
    print(f"[{stamp()}] could not commit {', '.join(paths)}", flush=True)
    return False


# -- what a training step costs --------------------------------------------------

#: aten ops that launch no kernel (allocations, views, metadata)
_NO_KERNEL = {"empty", "empty_like", "empty_strided", "detach", "alias", "lift_fresh", "t",
              "_unsafe_view", "expand", "view", "as_strided", "new_empty", "new_empty_strided",
              "promote_types"}


def step(model, x, train: bool = True) -> None:
    """One training step of ``model`` on ``x`` (cross-entropy forward and backward, no
    optimizer), or with ``train=False`` one evaluation batch (eval mode, no gradients)."""
    import torch
    import torch.nn.functional as F

    model.train(train).zero_grad(set_to_none=True)
    with torch.set_grad_enabled(train):
        logits = model(x)
    if train:
        F.cross_entropy(logits, torch.arange(len(x)) % 10).backward()


def count_ops(fn: Callable[[], object]) -> int:
    """The aten ops ``fn()`` runs, views and allocations left out: about one kernel
    each on a GPU. Counted on a second call (the first warms up)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.overloadpacket.__name__
            self.n += not getattr(func, "is_view", False) and name not in _NO_KERNEL
            return func(*args, **(kwargs or {}))

    fn()
    with Count() as counter:
        fn()
    return counter.n


def step_costs(model, small, twin, shape) -> dict:
    """What a training step of ``model`` (input ``shape``) costs, for a device-time
    estimate: MACs per image (``twin``, its ANN twin, by the energy counter), the ops of a
    step and of an evaluation batch at batch 2 (:func:`count_ops`), and this CPU's time per
    op on ``small`` (the same network at minimal width) at batch 1, where the arithmetic
    is negligible: eager PyTorch's per-op host cost, which a GPU run pays too."""
    import timeit

    import torch

    from snntorch_ms.energy import measure_energy

    x2, x1 = torch.randn(2, *shape), torch.randn(1, *shape)
    seconds = min(timeit.repeat(lambda: step(small, x1), number=1, repeat=17)[2:])
    return dict(mmac_per_image=measure_energy(twin.eval(), x1).macs / 1e6,
                ops_per_step=count_ops(lambda: step(model, x2)),
                ops_per_eval_batch=count_ops(lambda: step(model, x2, False)),
                cpu_us_per_op=seconds * 1e6 / max(1, count_ops(lambda: step(small, x1))))


# -- statistics -----------------------------------------------------------------


def paired_gain(table, name, partner, key):
    """Mean and standard deviation over the common seeds of ``name``'s ``key``
    (``"test_acc"`` / ``"val_acc"``) minus its partner's, and the seed count; None
    when they share no seed."""
    a = {r["seed"]: r[key] for r in table[name]["runs"]}
    b = {r["seed"]: r[key] for r in table[partner]["runs"]}
    diffs = [a[k] - b[k] for k in sorted(set(a) & set(b))]
    if not diffs:
        return None
    sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
    return statistics.mean(diffs), sd, len(diffs)


def format_gain(gain):
    """``+m ± sd`` of a :func:`paired_gain` (``+m`` for a single seed)."""
    mean, sd, n = gain
    return f"{mean:+.2f}" + (f" ± {sd:.2f}" if n > 1 else "")


def mean_sd(values):
    values = list(values)
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


# -- pictures -------------------------------------------------------------------


def pareto(points):
    """The points no other point beats in both accuracy (higher) and energy (lower)."""
    front = [p for p in points
             if not any(q[0] <= p[0] and q[1] >= p[1] and q != p for q in points)]
    return sorted(front)


def spread_labels(anchors, sizes, gap, shift=(4.0, 3.0), tries=12, bounds=None):
    """Offsets (dx, dy) that keep text labels from overlapping, in display units.

    ``anchors`` are the points' positions, ``sizes`` each label's (width, height).
    Labels are placed from the top down; each takes the first position whose box
    overlaps none placed so far (the default when none is free), nearest first: its
    default ``shift`` right of and above its point, the same on the point's left, then
    ``gap`` lower on either side, ``gap`` higher, two lower, ...; with ``bounds``
    ``(x0, y0, x1, y1)`` (the axes), only positions inside them.
    """
    def boxes_overlap(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    def box_at(x, y, w, h, offset):
        return (x + offset[0], y + offset[1], x + offset[0] + w, y + offset[1] + h)

    def inside(b):
        return bounds is None or (b[0] >= bounds[0] and b[1] >= bounds[1]
                                  and b[2] <= bounds[2] and b[3] <= bounds[3])

    steps = [0] + [s * k for k in range(1, tries + 1) for s in (-1, 1)]
    placed, offsets = [], [None] * len(anchors)
    for i in sorted(range(len(anchors)), key=lambda i: (-anchors[i][1], anchors[i][0])):
        (x, y), (w, h) = anchors[i], sizes[i]
        candidates = [(dx, shift[1] + step * gap) for step in steps
                      for dx in (shift[0], -shift[0] - w)]
        free = (c for c in candidates if inside(box_at(x, y, w, h, c))
                and not any(boxes_overlap(box_at(x, y, w, h, c), other) for other in placed))
        offsets[i] = next(free, shift)
        placed.append(box_at(x, y, w, h, offsets[i]))
    return offsets


def label_points(fig, ax, names, points, size=7):
    """Write ``names`` beside ``points`` (data coordinates) without overlaps, once the
    axes are final; a moved label gets a leader line."""
    fig.canvas.draw()
    to_pt = 72.0 / fig.dpi
    anchors = [tuple(v * to_pt for v in ax.transData.transform(pt)) for pt in points]
    sizes = [(0.55 * size * len(name), 1.15 * size) for name in names]
    shift = (4.0, 3.0)
    offsets = spread_labels(anchors, sizes, gap=1.2 * size, shift=shift,
                            bounds=tuple(v * to_pt for v in ax.get_window_extent().extents))
    for name, pt, (dx, dy) in zip(names, points, offsets):
        moved = (dx, dy) != shift
        ax.annotate(name, pt, textcoords="offset points", xytext=(dx, dy), fontsize=size,
                    arrowprops=dict(arrowstyle="-", lw=0.5, color="grey", shrinkA=0, shrinkB=2)
                    if moved else None)


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path) -> None:
    """Lay out, write (120 dpi) and close a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot().close(fig)


def log_energy_axis(ax, label):
    """A log-scale x axis of energies with plain tick labels."""
    import matplotlib.ticker

    ax.set_xscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel(label)
