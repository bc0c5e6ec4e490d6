"""The epoch loop: optimizer and schedule, one training epoch, and :func:`train`,
which strings them together with the run's data (:mod:`.splits`), evaluation
(:mod:`.evaluation`), checkpoints and the report. :func:`load_sets`,
:func:`load_validation`, :func:`evaluate` and :func:`evaluate_checkpoint` are
importable from here too."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .. import data as data_mod
from . import checkpoint as ckpt_mod
from . import report, runtime
from .techniques import distill, prerequisites, warmstart
from .config import TrainConfig, build_from_config, resolve_config
from .evaluation import _eval_sums, evaluate, evaluate_checkpoint
from .splits import _loaders, load_sets, load_validation

__all__ = ["make_scheduler", "train", "train_one_epoch", "mixup_loss",
           "evaluate", "evaluate_checkpoint", "make_optimizer", "load_sets", "load_validation"]


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int,
                   warmup_steps: int = 0) -> torch.optim.lr_scheduler.LRScheduler:
    r"""Linear warm-up, then cosine decay to 0, stepped once per batch, from
    :mod:`torch.optim.lr_scheduler`: :class:`~torch.optim.lr_scheduler.LinearLR`
    for the ``W`` warm-up steps, then
    :class:`~torch.optim.lr_scheduler.CosineAnnealingLR` over the other ``S - W``,
    joined by :class:`~torch.optim.lr_scheduler.SequentialLR`:

    .. math::

        \eta_s = \eta \cdot \begin{cases} (s + 1)/W & s < W \\
        \tfrac12\big(1 + \cos(\pi\,(s - W)/(S - W))\big) & s \ge W \end{cases}

    Its state goes into checkpoints.

    Example::

        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sched = make_scheduler(opt, total_steps=10, warmup_steps=2)
        >>> lrs = []
        >>> for _ in range(7):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 3)); opt.step(); sched.step()
        >>> lrs
        [0.5, 1.0, 1.0, 0.962, 0.854, 0.691, 0.5]
    """
    from torch.optim import lr_scheduler as sch

    total = max(1, int(total_steps))
    warm = max(0, min(int(warmup_steps), total))
    cosine = sch.CosineAnnealingLR(optimizer, T_max=max(1, total - warm), eta_min=0.0)
    if warm == 0:
        return cosine
    ramp = (sch.LinearLR(optimizer, start_factor=1.0 / warm, end_factor=1.0,
                         total_iters=warm - 1) if warm >= 2
            else sch.ConstantLR(optimizer, factor=1.0, total_iters=1))
    return sch.SequentialLR(optimizer, [ramp, cosine], milestones=[warm])


def make_optimizer(c: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    r"""The optimizer a resolved config names, over the trainable parameters.

    .. math:: \theta \leftarrow \theta - \eta\, \mathrm{step}(\nabla_\theta L)

    Example::

        >>> c = resolve_config(TrainConfig(recipe="paper"))
        >>> type(make_optimizer(c, torch.nn.Linear(2, 2))).__name__
        'SGD'
    """
    params = [p for p in model.parameters() if p.requires_grad]
    fused = {"fused": True} if c.fused_optimizer else {}
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum,
                               weight_decay=c.weight_decay, **fused)
    if c.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay, **fused)
    return torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay, **fused)


def mixup_loss(logits: torch.Tensor, target: torch.Tensor, smoothing: float = 0.0):
    r"""The recipe's loss of one batch and its (mixup-weighted) count of correct
    predictions, a float64 tensor on the logits' device (no host sync). ``target``
    is the class indices ``[B]``, or mixup's soft labels ``[B, K]``
    (:class:`~snntorch_ms.data.KeyedMixUp`, :math:`t_i = \lambda e_{y_i} +
    (1 - \lambda) e_{y_{i-1}}`):

    .. math:: L = \mathrm{CE}(z, t) = \lambda\, \mathrm{CE}(z, y) + (1 - \lambda)\,
              \mathrm{CE}(z, y_{\leftarrow}), \qquad n_{\rm correct} = \sum_i t_{i,\hat y_i}

    (cross-entropy is linear in the target, label smoothing included).

    Example::

        >>> z = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
        >>> loss, n = mixup_loss(z, torch.tensor([[0.75, 0.25], [0.25, 0.75]]))
        >>> round(float(n), 2)
        1.5
    """
    pred = logits.argmax(1)
    loss = F.cross_entropy(logits, target, label_smoothing=smoothing)
    if target.dim() == 1:
        return loss, (pred == target).sum(dtype=torch.float64)
    return loss, target.gather(1, pred[:, None]).sum(dtype=torch.float64)


def train_one_epoch(net: nn.Module, loader, optimizer, scheduler, c: TrainConfig,
                    device: torch.device, bar_desc: Optional[str] = None,
                    teacher: Optional[nn.Module] = None) -> torch.Tensor:
    r"""One epoch of mini-batch training; returns ``[loss sum, correct, count]``
    (float64, on the CPU).

    ``loader`` yields ``(x, target)`` batches, ``target`` the labels or mixup's soft
    labels (a :class:`~snntorch_ms.data.ResidentLoader` with ``mixup > 0`` mixes
    :math:`\tilde x_i = \lambda x_i + (1 - \lambda) x_{i-1}`). Per batch: forward
    under autocast, cross-entropy

    .. math:: L = \lambda\, \mathrm{CE}(f(\tilde x), y) + (1 - \lambda)\,
              \mathrm{CE}(f(\tilde x), y_{\leftarrow}),

    backward, gradient clipping, an optimizer and a scheduler step. With a
    ``teacher`` the loss is :func:`~snntorch_ms.train.techniques.distill.distillation_loss` of
    that and the teacher's logits on the same (mixed) batch. The sums stay on the
    device and are read once, at the end (a progress bar reads them at most once a
    second): nothing else synchronises the host with the device.

    Example::

        >>> c = resolve_config(TrainConfig(limit_train=20, batch_size=10,
        ...                                model_kwargs={"width": 0.25}))
        >>> net = build_from_config(c)
        >>> opt = make_optimizer(c, net)
        >>> sched = make_scheduler(opt, total_steps=2)
        >>> loader = data_mod.ResidentLoader(load_sets(c)[0], 10, train=True)
        >>> sums = train_one_epoch(net, loader, opt, sched, c, torch.device("cpu"))
        >>> int(sums[2])
        20
    """
    net.train()
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    bar = runtime.progress_bar(loader, bar_desc is not None, bar_desc or "")
    shown = time.monotonic()
    for x, target in bar:
        x = x.to(device, non_blocking=True)
        target = target.to(device, non_blocking=True)
        with runtime.autocast(device, c.amp):
            logits = net(x)
            if teacher is not None:
                with torch.no_grad():
                    teacher_logits = teacher(x)
        loss, correct = mixup_loss(logits.float(), target, c.label_smoothing)
        if teacher is not None:
            loss = distill.distillation_loss(logits.float(), teacher_logits.float(), loss,
                                             c.distill_weight, c.distill_temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.grad_clip and c.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), c.grad_clip)
        optimizer.step()
        scheduler.step()
        n = target.shape[0]
        sums[0] += loss.detach().to(torch.float64) * n
        sums[1] += correct
        sums[2] += n
        if bar_desc is not None and time.monotonic() - shown >= 1.0:
            shown = time.monotonic()  # the one read of the sums a second
            loss_sum, right, count = sums.tolist()
            bar.set_postfix(loss=f"{loss_sum / count:.3f}", acc=f"{100 * right / count:.1f}%")
    return sums.cpu()


# ---------------------------------------------------------------------------
# train(): the run, in steps
# ---------------------------------------------------------------------------


def train(config: TrainConfig, progress: bool = True,
          log: Optional[Callable[[str], None]] = print) -> Dict[str, Any]:
    """Train, checkpoint every epoch, then measure accuracy and energy; return the metrics.

    See :mod:`snntorch_ms.train` for the recipes, resuming and the energy
    measurement. Under ``torchrun`` (``WORLD_SIZE > 1``) it initialises the
    process group (NCCL on CUDA, Gloo on the CPU) unless one exists, wraps the
    model in :class:`~torch.nn.parallel.DistributedDataParallel` with
    ``broadcast_buffers=False`` (neuron states are buffers), splits the data
    with a :class:`~torch.utils.data.distributed.DistributedSampler`, averages
    the BatchNorm running statistics over the ranks after every epoch and splits
    the test set between them; only rank 0 writes files, prints and shows
    progress bars. ``batch_size`` is per process.

    Files in ``config.out``: ``checkpoint.pt`` (after every epoch),
    ``metrics.json``, ``curves.png`` and ``energy.png`` (at the end).
    ``teacher="auto"`` / ``init_from="auto"`` train the ANN twin / the same run at
    4 time steps first, in ``out/teacher`` / ``out/warm-T4``, or reuse them when
    finished (:mod:`~snntorch_ms.train.techniques.prerequisites`).

    :param config: the run; ``None`` fields take the recipe's values.
    :param progress: show tqdm bars (only on a terminal).
    :param log: called with one line per epoch and a summary (``None``: silent).
    :returns: the metrics dict (as in ``metrics.json``): ``history``,
        ``test_acc`` (percent), ``firing_rates``, ``energy_j`` and
        ``ann_energy_j`` (joules per image), ``energy_ratio``, ``energy_report``,
        ``ann_energy_report``, ``paper_convention``, ``config``, ``timing``...
        With ``stop_after`` reached first, only ``history``, ``epoch`` and
        ``stopped: True``.
    :raises snntorch_ms.data.DatasetNotFoundError: the dataset is missing.
    :raises CheckpointError: ``resume`` with an unusable checkpoint, or ``out``
        holds an unfinished run and ``resume`` is false.
    :raises ConfigError: an unknown name or a value out of range.

    Example::

        >>> cfg = TrainConfig(epochs=2, limit_train=128, limit_test=64, out="runs/tiny",
        ...                   model_kwargs={"width": 0.25})
        >>> m = train(cfg, progress=False)  # doctest: +SKIP
        epoch 1/2  train loss 2.10 acc 24.2 %  test loss 1.93 acc 40.6 %  lr 1.0e-03  3.1 s
        ...
        >>> m["energy_ratio"] > 1  # doctest: +SKIP
        True
    """
    t_start = time.time()
    c = resolve_config(config)
    say = log if log is not None else (lambda _msg: None)
    dist_info = runtime.init_distributed(c.device if c.device != "auto" else
                                         ("cuda" if torch.cuda.is_available() else "cpu"))
    threads_before = torch.get_num_threads()
    try:
        # teacher="auto" / init_from="auto": the runs this one is built on, first
        c = prerequisites.train_prerequisites(
            c, lambda pre: train(pre, progress=progress, log=log), say)
        return _run(c, dist_info, progress, say, t_start)
    finally:
        torch.set_num_threads(threads_before)
        if dist_info.owns_group:
            import torch.distributed as dist

            dist.destroy_process_group()


def _set_threads(c: TrainConfig, ckpt, say) -> None:
    # results depend (in the last bits) on the thread count, never on the load: the
    # default is torch's count at the start, it is recorded in the config (checkpoint
    # and metrics.json) and a resumed run reuses it
    if c.threads is None and ckpt is not None:
        c.threads = ckpt["config"].get("threads")
    given = c.threads is not None
    threads = runtime.choose_threads(c.threads)
    busy = runtime.busy_cpu() if not given and threads > 1 else None
    if busy:
        say(f"the CPU is busy ({busy}): keeping {threads} threads, so that the numbers do "
            "not depend on the load (--threads 1 may run faster, with other numbers)")
    if threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    c.threads = threads


def _restore(ckpt, model, optimizer, scheduler) -> Tuple[List[Dict[str, Any]], int]:
    """Load a checkpoint's state; return its history and finished epochs."""
    if ckpt is None:
        return [], 0
    ckpt_mod.load_model_state(model, ckpt["model"], ckpt["path"], ckpt.get("snntorch_ms_version"))
    try:
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
    except (ValueError, KeyError, RuntimeError) as err:
        raise ckpt_mod.CheckpointError(
            f"{ckpt['path']}: optimizer or scheduler state does not fit: {err}") from err
    runtime.set_rng_state(ckpt["rng"])
    return list(ckpt["history"]), int(ckpt["epoch"])


def _wrap(model: nn.Module, device: torch.device, dist_info: runtime.Dist) -> nn.Module:
    if dist_info.world <= 1:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ddp_kwargs = {"device_ids": [device.index]} if device.type == "cuda" else {}
    with warnings.catch_warnings():
        # newer torch renames it; broadcast_buffers=False is what neuron-state buffers need
        warnings.filterwarnings("ignore", message=".*broadcast_buffers.*")
        return DDP(model, broadcast_buffers=False, **ddp_kwargs)


def _all_reduce(sums: torch.Tensor, test_sums: torch.Tensor, device, dist_info):
    if dist_info.world <= 1:
        return sums, test_sums
    import torch.distributed as dist

    both = torch.cat([sums, test_sums]).to(device)
    dist.all_reduce(both)
    both = both.cpu()
    return both[:3], both[3:]


def _epoch(c, epoch, net, model, loaders, optimizer, scheduler, device, dist_info, bars,
           teacher=None):
    """Train and test one epoch; return its history entry."""
    train_loader, test_loader, val_loader = loaders
    t0 = time.time()
    runtime.seed_all(runtime.epoch_seed(c.seed, epoch, dist_info.rank))
    data_mod.set_epoch(train_loader, epoch)
    sums = train_one_epoch(net, train_loader, optimizer, scheduler, c, device,
                           f"epoch {epoch + 1}/{c.epochs}" if bars else None, teacher=teacher)
    lr = optimizer.param_groups[0]["lr"]
    if dist_info.world > 1:
        runtime.average_batchnorm_stats(model)
    val = {}
    if val_loader is not None:
        val_sums = torch.tensor(_eval_sums(net, val_loader, device, c.amp, bars, "val"),
                                dtype=torch.float64)
        _, val_sums = _all_reduce(torch.zeros(3, dtype=torch.float64), val_sums, device,
                                  dist_info)
        val = {"val_loss": float(val_sums[0] / val_sums[2]),
               "val_acc": float(100.0 * val_sums[1] / val_sums[2])}
    test_sums = torch.tensor(_eval_sums(net, test_loader, device, c.amp, bars, "test"),
                             dtype=torch.float64)
    sums, test_sums = _all_reduce(sums, test_sums, device, dist_info)
    return {**val, 
        "epoch": epoch + 1,
        "train_loss": float(sums[0] / sums[2]),
        "train_acc": float(100.0 * sums[1] / sums[2]),
        "test_loss": float(test_sums[0] / test_sums[2]),
        "test_acc": float(100.0 * test_sums[1] / test_sums[2]),
        "lr": float(lr),
        "time_s": time.time() - t0,
    }


def _run(c: TrainConfig, dist_info: runtime.Dist, progress: bool, say, t_start: float):
    if not dist_info.main:
        say = lambda _msg: None  # noqa: E731
    device = runtime.resolve_device(c.device, dist_info)
    out = Path(c.out) if c.out else None
    ckpt = ckpt_mod.open_run(out, c, say)
    _set_threads(c, ckpt, say)
    train_set, test_set, train_loader, test_loader, val_loader = _loaders(c, device, dist_info)
    source = _check_source(ckpt, data_mod.dataset_source(train_set))

    model = build_from_config(c).to(device)
    teacher, techniques = _techniques(c, ckpt, model, device)
    optimizer = make_optimizer(c, model)
    steps = len(train_loader)
    scheduler = make_scheduler(optimizer, c.epochs * steps, round(c.warmup_epochs * steps))
    history, start_epoch = _restore(ckpt, model, optimizer, scheduler)
    if ckpt is not None:
        say(f"resuming {out} after epoch {start_epoch}/{c.epochs}")
    net = _wrap(model, device, dist_info)
    if out is not None and dist_info.main:
        out.mkdir(parents=True, exist_ok=True)
    bars = runtime.use_bars(progress, dist_info)
    if start_epoch == 0:
        say(report.start_line(c, model, train_set, test_set, device, dist_info.world))

    for epoch in range(start_epoch, c.epochs):
        if c.stop_after is not None and epoch >= c.stop_after:
            say(f"stopping after epoch {epoch} (stop_after={c.stop_after})")
            return {"stopped": True, "epoch": epoch, "history": history}
        entry = _epoch(c, epoch, net, model, (train_loader, test_loader, val_loader), optimizer,
                       scheduler, device, dist_info, bars, teacher)
        history.append(entry)
        say(report.epoch_line(entry, c.epochs))
        if out is not None and dist_info.main:
            ckpt_mod.save_checkpoint(out / ckpt_mod.CHECKPOINT_NAME, c, epoch + 1, model,
                                     optimizer, scheduler, history, runtime.rng_state(),
                                     dist_info.world,
                                     extra={"techniques": techniques, "data_source": source})
        if dist_info.world > 1:
            import torch.distributed as dist

            dist.barrier()

    if not dist_info.main:
        return {"history": history, "test_acc": history[-1]["test_acc"] if history else None}
    metrics, energy = report.final_metrics(c, model, test_set, history, device,
                                           dist_info.world, t_start)
    metrics.update(_technique_metrics(c, history, metrics, teacher, techniques, test_set,
                                      load_validation(c), device))
    if source is not None:
        metrics["data_source"] = source
    if out is not None:
        report.write_run(out, c, metrics, energy)
    say(report.summary_line(metrics, out))
    return metrics


def _check_source(ckpt, source):
    """The data source of this run (:func:`~snntorch_ms.data.dataset_source`); a
    resumed run must read the same bytes (by SHA-256) as the run it continues."""
    before = (ckpt or {}).get("data_source")
    now = (source or {}).get("sha256")
    if ckpt is not None and (before or {}).get("sha256") != now:
        raise ckpt_mod.CheckpointError(
            f"{ckpt['path']}: the run started on data with SHA-256 "
            f"{(before or {}).get('sha256')} ({(before or {}).get('path')}), this call "
            f"reads {now} ({(source or {}).get('path')}): resuming would mix two datasets. "
            "Point --data-dir at the run's data, or train into another --out folder.")
    return source


def _techniques(c: TrainConfig, ckpt, model: nn.Module, device):
    """The teacher (or None) and the record of the run's techniques for its checkpoint;
    a fresh run with ``init_from`` is warm-started here."""
    record: Dict[str, Any] = {}
    saved = (ckpt or {}).get("techniques") or {}
    teacher = None
    if c.teacher:
        teacher, info = distill.load_teacher(c.teacher, c, device)
        before = saved.get("teacher")
        if before and before["fingerprint"] != info["fingerprint"]:
            raise ckpt_mod.CheckpointError(
                f"teacher {c.teacher} is not the teacher this run started with (weights "
                f"fingerprint {info['fingerprint']}, the run's checkpoint has "
                f"{before['fingerprint']}): restore that teacher, or train into another --out")
        record["teacher"] = info
    if c.init_from:
        record["init_from"] = saved.get("init_from") if ckpt is not None else \
            warmstart.warm_start(model, c.init_from, c)
    return teacher, record


def _technique_metrics(c, history, metrics, teacher, techniques, test_set, val_set, device):
    """``metrics.json`` entries of the validation split, the teacher (its own
    accuracy), the warm start, and the budget: own epochs and training time plus
    those of the teacher and the warm start's source (:func:`warmstart.run_cost`)."""
    out: Dict[str, Any] = {}
    if history and "val_acc" in history[-1]:
        out["val_acc"] = history[-1]["val_acc"]
        out["val_loss"] = history[-1]["val_loss"]
    prior = []
    if teacher is not None:
        info = dict(techniques["teacher"])
        for name, ds in (("test", test_set), ("val", val_set)):
            if ds is not None:
                loader = data_mod.make_loader(ds, c.batch_size, train=False, seed=c.seed)
                info[f"{name}_acc"] = evaluate(teacher, loader, device, c.amp)[1]
        info["cost"] = warmstart.run_cost(c.teacher)
        prior.append(info["cost"])
        out["teacher"] = info
    if techniques.get("init_from"):
        out["init_from"] = techniques["init_from"]
        prior.append(techniques["init_from"]["cost"])
    own_s = metrics["timing"]["train_s"]
    out["budget"] = {"epochs_own": len(history), "train_s_own": own_s,
                     "epochs_total": len(history) + sum(p["epochs"] for p in prior),
                     "train_s_total": own_s + sum(p["train_s"] for p in prior)}
    return out
