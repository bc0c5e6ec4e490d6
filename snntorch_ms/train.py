r"""Training, evaluation and energy accounting behind the ``snntorch-ms`` command.

The functional core of :mod:`snntorch_ms.cli`: build a :class:`TrainConfig`,
call :func:`train`, read the returned metrics (also written to
``<out>/metrics.json``).

Example::

    >>> from snntorch_ms.train import TrainConfig, train
    >>> cfg = TrainConfig(dataset="digits", epochs=1, limit_train=64, limit_test=32,
    ...                   model_kwargs={"width": 0.25}, out="/tmp/snntorch-ms-doc")
    >>> metrics = train(cfg, progress=False, log=None)  # doctest: +SKIP
    >>> 0 <= metrics["test_acc"] <= 100  # doctest: +SKIP
    True

Recipes
-------

Values a :class:`TrainConfig` leaves at ``None`` come from its ``recipe``
(:func:`resolve_config` fills them in):

========================= ===================================== =====================================
setting                   ``"basic"`` (default)                 ``"paper"`` (Yao et al., ACML 2023)
========================= ===================================== =====================================
optimizer                 Adam, lr 2e-3, no weight decay        SGD, momentum 0.9, lr 0.05, wd 2e-5
schedule (per step)       cosine to 0, no warm-up               linear warm-up, then cosine to 0
warm-up                   0                                     ``min(5, epochs // 10)`` epochs
augmentation              none                                  pad-and-crop + flip (:mod:`~snntorch_ms.data`)
mixup (Beta alpha)        0                                     0.1
dropout                   0                                     0.1
gradient clip (norm)      none                                  20
loss                      cross-entropy                         cross-entropy
epochs                    digits 12, (fashion-)MNIST 10,        CIFAR 300, Tiny-ImageNet 250,
                          others 50                             others 100
batch size                digits 64, others 128                 128
========================= ===================================== =====================================

``"basic"`` is the quick recipe: Adam learns the small default networks in a
few epochs without tuning (the default digits run reaches about 98 % in 12
epochs on two CPU cores). ``"paper"`` is the recipe of the paper; it does not
state the warm-up length or the batch size, so those are ours.

Reproducibility and resuming
----------------------------

At the start of epoch ``e`` the Python, NumPy and torch generators are seeded
from ``(seed, e, rank)``, and the data loaders (:func:`~snntorch_ms.data.make_loader`)
draw their order and augmentation from ``(seed, e)``. The checkpoint written
after every epoch (atomically: ``checkpoint.pt.tmp`` then :func:`os.replace`)
holds the model, optimizer, scheduler, history, generator states and the
config, so a run resumed with ``resume=True`` replays exactly the epochs it
missed: on the CPU a killed-and-resumed run ends bit-identical to an
uninterrupted one (same machine and torch; the thread count, which changes the
last bits, is recorded and reused). On CUDA, cuDNN's nondeterministic kernels
make a resumed run statistically, not bitwise, equivalent. A checkpoint that cannot be read, or one made with a
different configuration, raises :class:`CheckpointError`; it is never replaced
silently.

Energy
------

At the end, :func:`snntorch_ms.energy.measure_energy` runs the trained network
on ``energy_images`` test images (per-layer operations, firing rates, joules),
and runs its ANN twin (the same model built with ``neuron="relu"``) on the same
images. The twin is not trained: an ANN bills every synaptic operation as a
multiply-accumulate whatever its weights, so its energy does not depend on
them. ``energy_ratio`` is ``ann_energy_j / energy_j``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import data as data_mod

__all__ = [
    "TrainConfig",
    "CheckpointError",
    "RECIPE_DEFAULTS",
    "resolve_config",
    "build_from_config",
    "train",
    "evaluate",
    "load_checkpoint",
    "load_trained_model",
    "evaluate_checkpoint",
    "measure_model_energy",
    "WarmupCosine",
]

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.json"
_FORMAT = "snntorch-ms-checkpoint"
_FORMAT_VERSION = 1

#: Defaults of each recipe (see the module docs); ``epochs`` and ``batch_size``
#: are per dataset (``"*"`` for the rest).
RECIPE_DEFAULTS: Dict[str, Dict[str, Any]] = {
    "basic": dict(
        optimizer="adam", lr=2e-3, weight_decay=0.0, warmup_epochs=0, mixup=0.0,
        dropout=0.0, grad_clip=0.0,
        epochs={"digits": 12, "mnist": 10, "fashion-mnist": 10, "*": 50},
        batch_size={"digits": 64, "*": 128},
    ),
    "paper": dict(
        optimizer="sgd", lr=0.05, weight_decay=2e-5, warmup_epochs=None, mixup=0.1,
        dropout=0.1, grad_clip=20.0,
        epochs={"cifar10": 300, "cifar100": 300, "tiny-imagenet": 250, "*": 100},
        batch_size={"*": 128},
    ),
}

_OPTIMIZERS = ("sgd", "adam", "adamw")

# config fields that do not change what is computed: they may differ on resume
_RUNTIME_FIELDS = ("out", "resume", "device", "workers", "stop_after", "download",
                   "data_dir", "energy_images", "amp", "threads")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: unreadable, not ours, or from another configuration.

    The message names the file and what is wrong.

    Example::

        >>> err = CheckpointError("runs/x/checkpoint.pt: truncated")
        >>> isinstance(err, RuntimeError)
        True
    """


@dataclass
class TrainConfig:
    """Everything that defines a training run.

    Fields left at ``None`` take the value of ``recipe`` (see :data:`RECIPE_DEFAULTS`
    and :func:`resolve_config`).

    :param dataset: one of :data:`snntorch_ms.data.DATASETS`.
    :param data_dir: where datasets are looked for / downloaded.
    :param model: a name of :data:`snntorch_ms.models.MODELS`.
    :param neuron: ``"proj"``, ``"leaky"`` or ``"relu"``.
    :param timesteps: time steps T.
    :param recipe: ``"basic"`` or ``"paper"``.
    :param epochs: number of epochs.
    :param batch_size: batch size per process.
    :param lr: peak learning rate.
    :param weight_decay: weight decay (decoupled for ``"adamw"``).
    :param momentum: SGD momentum.
    :param optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``.
    :param warmup_epochs: linear warm-up length (may be fractional).
    :param mixup: mixup Beta parameter alpha (0: off).
    :param label_smoothing: label smoothing of the cross-entropy.
    :param dropout: dropout of the model (passed as ``dropout=`` when > 0).
    :param grad_clip: maximum gradient norm (0: off).
    :param limit_train: train on a class-balanced subset of this size.
    :param limit_test: test on a class-balanced subset of this size.
    :param seed: seed of initialisation, data order, augmentation, dropout, mixup.
    :param device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    :param out: output folder (checkpoint, metrics, plots); ``None`` writes nothing.
    :param resume: continue from ``<out>/checkpoint.pt`` if it exists.
    :param neuron_kwargs: keywords for every neuron (e.g. ``{"threshold": 0.5}``).
    :param model_kwargs: keywords for the model (e.g. ``{"width": 0.5}``).
    :param amp: bf16 autocast on CUDA (ignored on the CPU).
    :param workers: data loader workers (``None``: 0 on the CPU, up to 8 on CUDA).
    :param energy_images: test images used for the final energy measurement.
    :param download: download missing datasets when online.
    :param threads: CPU threads for torch (``None``: torch's default, or 1 when the
        machine is already busy, i.e. its 1-minute load average is at least its
        core count: OpenMP threads that wait for each other on oversubscribed
        cores make small networks 10-30x slower). The count used is recorded in
        the checkpoint, and a resumed run with ``threads=None`` reuses it: CPU
        results differ in the last bits between thread counts.
    :param stop_after: stop after this many finished epochs, as if killed (tests).

    Example::

        >>> cfg = TrainConfig(dataset="fashion-mnist", recipe="paper")
        >>> resolve_config(cfg).lr
        0.05
    """

    dataset: str = "digits"
    data_dir: str = "data"
    model: str = "convnet"
    neuron: str = "proj"
    timesteps: int = 1
    recipe: str = "basic"
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    lr: Optional[float] = None
    weight_decay: Optional[float] = None
    momentum: float = 0.9
    optimizer: Optional[str] = None
    warmup_epochs: Optional[float] = None
    mixup: Optional[float] = None
    label_smoothing: float = 0.0
    dropout: Optional[float] = None
    grad_clip: Optional[float] = None
    limit_train: Optional[int] = None
    limit_test: Optional[int] = None
    seed: int = 0
    device: str = "auto"
    out: Optional[str] = "runs/run"
    resume: bool = False
    neuron_kwargs: Dict[str, Any] = field(default_factory=dict)
    model_kwargs: Dict[str, Any] = field(default_factory=dict)
    amp: bool = True
    workers: Optional[int] = None
    energy_images: int = 64
    download: bool = True
    threads: Optional[int] = None
    stop_after: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        """The config as a JSON-able dict.

        Example::

            >>> TrainConfig().to_dict()["model"]
            'convnet'
        """
        out = dataclasses.asdict(self)
        out["neuron_kwargs"] = dict(self.neuron_kwargs or {})
        out["model_kwargs"] = dict(self.model_kwargs or {})
        return out

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "TrainConfig":
        """Rebuild a config from :meth:`to_dict` (unknown keys are an error).

        Example::

            >>> TrainConfig.from_dict({"epochs": 3}).epochs
            3
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {', '.join(unknown)}")
        return cls(**values)


def _pick(table, dataset):
    if isinstance(table, dict):
        return table.get(dataset, table["*"])
    return table


def resolve_config(config: TrainConfig) -> TrainConfig:
    """Return a copy of ``config`` with every ``None`` replaced by its recipe's value.

    Also canonicalises the dataset name and checks names and ranges.

    :raises ValueError: unknown recipe, optimizer, dataset, model or neuron, or a
        value out of range.

    Example::

        >>> c = resolve_config(TrainConfig(dataset="fmnist"))
        >>> c.dataset, c.optimizer, c.epochs, c.batch_size
        ('fashion-mnist', 'adam', 10, 128)
        >>> resolve_config(TrainConfig(recipe="paper", dataset="cifar100")).warmup_epochs
        5
    """
    from .models import MODELS, NEURONS

    if config.recipe not in RECIPE_DEFAULTS:
        raise ValueError(f"unknown recipe {config.recipe!r}; known recipes: basic, paper")
    c = dataclasses.replace(
        config,
        neuron_kwargs=dict(config.neuron_kwargs or {}),
        model_kwargs=dict(config.model_kwargs or {}),
    )
    c.dataset = data_mod.dataset_info(c.dataset).name
    if c.model not in MODELS:
        raise ValueError(f"unknown model {c.model!r}; known models: {', '.join(MODELS)}")
    if c.neuron not in NEURONS:
        raise ValueError(f"unknown neuron {c.neuron!r}; known neurons: {', '.join(NEURONS)}")
    d = RECIPE_DEFAULTS[c.recipe]
    for name in ("optimizer", "lr", "weight_decay", "mixup", "dropout", "grad_clip"):
        if getattr(c, name) is None:
            setattr(c, name, d[name])
    if c.epochs is None:
        c.epochs = _pick(d["epochs"], c.dataset)
    if c.batch_size is None:
        c.batch_size = _pick(d["batch_size"], c.dataset)
    if c.warmup_epochs is None:
        c.warmup_epochs = d["warmup_epochs"]
        if c.warmup_epochs is None:  # paper: 5 epochs, shorter for short runs
            c.warmup_epochs = min(5, int(c.epochs) // 10)
    c.optimizer = str(c.optimizer).lower()
    if c.optimizer not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {c.optimizer!r}; known: {', '.join(_OPTIMIZERS)}")
    checks = [
        ("epochs", c.epochs >= 1), ("batch_size", c.batch_size >= 1), ("lr", c.lr > 0),
        ("timesteps", c.timesteps >= 1), ("weight_decay", c.weight_decay >= 0),
        ("warmup_epochs", 0 <= c.warmup_epochs <= c.epochs), ("mixup", c.mixup >= 0),
        ("dropout", 0 <= c.dropout < 1), ("grad_clip", c.grad_clip >= 0),
        ("label_smoothing", 0 <= c.label_smoothing < 1),
        ("energy_images", c.energy_images >= 1),
    ]
    for name, ok in checks:
        if not ok:
            raise ValueError(f"{name}={getattr(c, name)!r} is out of range")
    for name in ("limit_train", "limit_test", "stop_after", "threads"):
        value = getattr(c, name)
        if value is not None and value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return c


def build_from_config(config: TrainConfig, neuron: Optional[str] = None) -> nn.Module:
    """Build the model of ``config`` (or its twin with another ``neuron``), untrained.

    The weights are initialised from ``torch.manual_seed(config.seed)``.

    Example::

        >>> cfg = TrainConfig(model_kwargs={"width": 0.25})
        >>> ann = build_from_config(cfg, neuron="relu")
        >>> ann(torch.zeros(2, 1, 16, 16)).shape
        torch.Size([2, 10])
    """
    from .models import build_model

    info = data_mod.dataset_info(config.dataset)
    kwargs = dict(config.model_kwargs or {})
    if config.dropout:
        kwargs.setdefault("dropout", float(config.dropout))
    torch.manual_seed(int(config.seed))
    return build_model(
        config.model,
        neuron or config.neuron,
        num_classes=info.num_classes,
        in_channels=info.in_channels,
        image_size=info.image_size,
        timesteps=int(config.timesteps),
        neuron_kwargs=dict(config.neuron_kwargs) if config.neuron_kwargs else None,
        **kwargs,
    )


class WarmupCosine:
    r"""Learning-rate factor of step ``s``: linear warm-up then cosine decay to 0.

    .. math::

        f(s) = \begin{cases} (s + 1)/W & s < W \\
        \tfrac12\big(1 + \cos(\pi\,(s - W)/(S - W))\big) & s \ge W \end{cases}

    with ``W`` warm-up steps and ``S`` total steps. A picklable callable for
    :class:`torch.optim.lr_scheduler.LambdaLR` (its state goes into checkpoints).

    Example::

        >>> f = WarmupCosine(total_steps=10, warmup_steps=2)
        >>> [round(f(s), 3) for s in (0, 1, 2, 6, 10)]
        [0.5, 1.0, 1.0, 0.5, 0.0]
    """

    def __init__(self, total_steps: int, warmup_steps: int = 0) -> None:
        self.total_steps = max(1, int(total_steps))
        self.warmup_steps = max(0, min(int(warmup_steps), self.total_steps))

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = self.total_steps - self.warmup_steps
        if span <= 0:
            return 1.0
        t = min(max(step - self.warmup_steps, 0), span) / span
        return 0.5 * (1.0 + math.cos(math.pi * t))


# ---------------------------------------------------------------------------
# processes, devices, random generators
# ---------------------------------------------------------------------------


@dataclass
class _Dist:
    world: int = 1
    rank: int = 0
    local_rank: int = 0
    owns_group: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device: str) -> _Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    import torch.distributed as dist

    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend)
        owns = True
    return _Dist(dist.get_world_size(), dist.get_rank(), local, owns)


def _resolve_device(name: str, dist_info: _Dist) -> torch.device:
    name = (name or "auto").lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available")
        if name == "cuda":
            name = f"cuda:{dist_info.local_rank if dist_info.world > 1 else torch.cuda.current_device()}"
        dev = torch.device(name)
        torch.cuda.set_device(dev)
        return dev
    return torch.device(name)


def _epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    return data_mod._mix(int(seed), int(epoch), int(rank), 0x5EED) >> 2


def _seed_all(value: int) -> None:
    random.seed(value)
    np.random.seed(value % (2**32))
    torch.manual_seed(value)


def _rng_state() -> Dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached"]))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        with contextlib.suppress(Exception):
            torch.cuda.set_rng_state_all(state["cuda"])


def _choose_threads(requested: Optional[int]) -> int:
    if requested is not None:
        return int(requested)
    current = torch.get_num_threads()
    try:
        busy = os.getloadavg()[0] >= (os.cpu_count() or 1)
    except (AttributeError, OSError):  # not on every platform
        busy = False
    return 1 if busy and current > 1 else current


def _average_batchnorm_stats(model: nn.Module) -> None:
    """Average BatchNorm running statistics over the ranks (DDP leaves them per rank),
    so that every rank evaluates, and rank 0 saves, the same network."""
    import torch.distributed as dist

    world = dist.get_world_size()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            for buf in (module.running_mean, module.running_var):
                if buf is not None:
                    dist.all_reduce(buf)
                    buf.div_(world)


def _autocast(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _use_bars(progress: bool, dist_info: _Dist) -> bool:
    return bool(progress) and dist_info.main and sys.stderr.isatty()


# ---------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path, map_location="cpu") -> Dict[str, Any]:
    """Read and validate a checkpoint written by :func:`train`.

    Loaded with ``weights_only=True`` (no arbitrary code runs).

    :param path: the ``checkpoint.pt`` file, or the run folder holding it.
    :raises CheckpointError: missing, unreadable or truncated file, not a
        snntorch-ms checkpoint, or a newer format; the message names the file.

    Example::

        >>> ckpt = load_checkpoint("runs/digits-proj")  # doctest: +SKIP
        >>> ckpt["epoch"], sorted(ckpt)[:3]  # doctest: +SKIP
        (20, ['config', 'data', 'epoch'])
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there (train with --out pointing at its folder first)")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # zip errors, EOF, unpickling errors...
        raise CheckpointError(
            f"{path}: cannot be read ({type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else 'no detail'}); "
            "the file is truncated, corrupt or not a snntorch-ms checkpoint. "
            "Delete it to start the run over, or train into another --out folder."
        ) from err
    if not isinstance(ckpt, dict) or ckpt.get("format") != _FORMAT:
        raise CheckpointError(f"{path}: not a snntorch-ms checkpoint (no '{_FORMAT}' marker)")
    if ckpt.get("version", 0) > _FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {ckpt.get('version')} is newer than this "
            f"snntorch-ms understands ({_FORMAT_VERSION}); upgrade snntorch-ms"
        )
    missing = [k for k in ("config", "epoch", "model", "optimizer", "scheduler", "history", "rng")
               if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing {', '.join(missing)}")
    try:
        TrainConfig.from_dict(ckpt["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: its config cannot be read: {err}") from err
    ckpt["path"] = str(path)
    return ckpt


def _config_differences(saved: TrainConfig, current: TrainConfig) -> List[str]:
    diffs = []
    for f in dataclasses.fields(TrainConfig):
        if f.name in _RUNTIME_FIELDS:
            continue
        a, b = getattr(saved, f.name), getattr(current, f.name)
        if a != b:
            diffs.append(f"{f.name}: checkpoint {a!r}, now {b!r}")
    return diffs


def _load_model_state(model: nn.Module, state: Dict[str, Any], path: str) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise CheckpointError(
            f"{path}: the saved weights do not fit the model ({' '.join(first[:3])})"
        ) from err


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def _load_sets(c: TrainConfig, train: bool = True):
    train_set = None
    if train:
        train_set = data_mod.load_dataset(c.dataset, root=c.data_dir, train=True,
                                          recipe=c.recipe, download=c.download)
        train_set = data_mod.subset(train_set, c.limit_train, seed=c.seed)
    test_set = data_mod.load_dataset(c.dataset, root=c.data_dir, train=False,
                                     recipe=c.recipe, download=c.download)
    # the test subset does not depend on the seed, so runs with different seeds
    # are scored on the same images
    test_set = data_mod.subset(test_set, c.limit_test, seed=0)
    return train_set, test_set


def _shard(dataset, dist_info: _Dist):
    if dist_info.world <= 1:
        return dataset
    from torch.utils.data import Subset

    return Subset(dataset, list(range(dist_info.rank, len(dataset), dist_info.world)))


def _test_batch(test_set, n: int) -> torch.Tensor:
    n = min(int(n), len(test_set))
    return torch.stack([test_set[i][0] for i in range(n)])


# ---------------------------------------------------------------------------
# evaluation and energy
# ---------------------------------------------------------------------------


@torch.no_grad()
def _eval_sums(model: nn.Module, loader, device, amp: bool, progress: bool,
               desc: str) -> Tuple[float, int, int]:
    device = torch.device(device)
    was_training = model.training
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    for x, y in _bar(loader, progress, desc):
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        with _autocast(device, amp):
            out = model(x)
        out = out.float()
        loss_sum += float(F.cross_entropy(out, y, reduction="sum"))
        correct += int((out.argmax(1) == y).sum())
        count += int(y.numel())
    model.train(was_training)
    return loss_sum, correct, count


def evaluate(model: nn.Module, loader, device="cpu", amp: bool = False,
             progress: bool = False, desc: str = "test") -> Tuple[float, float, int]:
    """Mean cross-entropy, accuracy in percent, and sample count of ``model`` on ``loader``.

    Runs in ``eval`` mode (restores the previous mode), without gradients.

    Example::

        >>> from snntorch_ms.data import load_dataset, make_loader, subset
        >>> net = build_from_config(TrainConfig(model_kwargs={"width": 0.25}))
        >>> loader = make_loader(subset(load_dataset("digits", train=False), 20), 10, train=False)
        >>> loss, acc, n = evaluate(net, loader)
        >>> n, 0 <= acc <= 100
        (20, True)
    """
    loss_sum, correct, count = _eval_sums(model, loader, device, amp, progress, desc)
    if count == 0:
        return float("nan"), float("nan"), 0
    return loss_sum / count, 100.0 * correct / count, count


def _bar(iterable, enabled: bool, desc: str):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, leave=False, dynamic_ncols=True)


def measure_model_energy(model: nn.Module, config: TrainConfig, inputs: torch.Tensor,
                         convention: str = "honest") -> Dict[str, Any]:
    """Energy of ``model`` and of its untrained ANN twin on ``inputs``.

    Returns ``{"report", "ann_report", "energy_j", "ann_energy_j", "energy_ratio",
    "firing_rates"}``, energies in joules **per image** (the report's
    ``per_image_j``). The twin is ``build_from_config(config, neuron="relu")``;
    its operation count does not depend on its weights.

    Example::

        >>> cfg = TrainConfig(model_kwargs={"width": 0.25})
        >>> r = measure_model_energy(build_from_config(cfg), cfg, torch.rand(4, 1, 16, 16))
        >>> r["ann_energy_j"] > 0
        True
    """
    from .energy import measure_energy

    was_training = model.training
    model.eval()
    device = next(iter(model.parameters()), torch.empty(0)).device
    inputs = inputs.to(device)
    rng = torch.get_rng_state()
    try:
        with torch.no_grad():
            report = measure_energy(model, inputs, convention=convention)
            ann = build_from_config(config, neuron="relu").to(device).eval()
            ann_report = measure_energy(ann, inputs, convention=convention)
    finally:
        torch.set_rng_state(rng)
        model.train(was_training)
    snn_j, ann_j = float(report.per_image_j), float(ann_report.per_image_j)
    return {
        "report": report,
        "ann_report": ann_report,
        "energy_j": snn_j,
        "ann_energy_j": ann_j,
        "energy_ratio": ann_j / snn_j if snn_j > 0 else float("inf"),
        "firing_rates": {str(k): float(v) for k, v in dict(report.firing_rates).items()},
    }


# ---------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------


def _plot_curves(history: List[Dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax1.plot(epochs, [h["test_loss"] for h in history], "s-", label="test")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.legend()
    ax1.grid(alpha=0.3)
    ax2.plot(epochs, [h["train_acc"] for h in history], "o-", label="train")
    ax2.plot(epochs, [h["test_acc"] for h in history], "s-", label="test")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _row(row, key, default=None):
    if isinstance(row, dict):
        return row.get(key, default)
    return getattr(row, key, default)


def _plot_energy(energy: Dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rates = energy["firing_rates"]
    report, ann = energy["report"], energy["ann_report"]
    rows = [r for r in report.rows if (_row(r, "energy_j", 0) or 0) > 0]
    ann_by_name = {_row(r, "name"): _row(r, "energy_j", 0.0) for r in ann.rows}
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(6, 0.45 * max(len(rows), len(rates)) + 3), 8))
    names = list(rates)
    ax1.bar(range(len(names)), [rates[n] for n in names], color="tab:orange")
    ax1.set_xticks(range(len(names)))
    ax1.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    ax1.set_ylabel("firing rate")
    ax1.set_title("firing rate per spiking layer")
    ax1.grid(axis="y", alpha=0.3)
    labels = [str(_row(r, "name")) for r in rows]
    xs = np.arange(len(rows))
    per_image = 1.0 / max(1, int(energy.get("images", 1)))
    snn_uj = [float(_row(r, "energy_j")) * per_image * 1e6 for r in rows]
    ann_uj = [float(ann_by_name.get(_row(r, "name"), 0.0) or 0.0) * per_image * 1e6 for r in rows]
    ax2.bar(xs - 0.2, snn_uj, 0.4, label=f"SNN ({energy['energy_j'] * 1e6:.3g} µJ/image)")
    ax2.bar(xs + 0.2, ann_uj, 0.4, label=f"ANN twin ({energy['ann_energy_j'] * 1e6:.3g} µJ/image)")
    ax2.set_xticks(xs)
    ax2.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax2.set_ylabel("energy per image (µJ)")
    ax2.set_title("synaptic energy per layer")
    ax2.legend()
    ax2.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------


def _make_optimizer(c: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    if c.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
    return torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)


def _fmt_j(value: float) -> str:
    for unit, scale in (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} J"


def train(config: TrainConfig, progress: bool = True,
          log: Optional[Callable[[str], None]] = print) -> Dict[str, Any]:
    """Train, checkpoint every epoch, then measure accuracy and energy; return the metrics.

    See the module docs for the recipes, resuming and the energy measurement.
    Under ``torchrun`` (``WORLD_SIZE > 1``) it initialises the process group
    (NCCL on CUDA, Gloo on the CPU) unless one exists, wraps the model in
    :class:`~torch.nn.parallel.DistributedDataParallel` with
    ``broadcast_buffers=False`` (neuron states are buffers), splits the data
    with a :class:`~torch.utils.data.distributed.DistributedSampler`, averages
    the BatchNorm running statistics over the ranks after every epoch and splits
    the test set between them; only rank 0 writes files, prints and shows
    progress bars. ``batch_size`` is per process.

    Files in ``config.out``: ``checkpoint.pt`` (after every epoch),
    ``metrics.json``, ``curves.png`` and ``energy.png`` (at the end).

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
    dist_info = _init_distributed(c.device if c.device != "auto" else
                                  ("cuda" if torch.cuda.is_available() else "cpu"))
    threads_before = torch.get_num_threads()
    try:
        return _train(c, dist_info, progress, say, t_start)
    finally:
        torch.set_num_threads(threads_before)
        if dist_info.owns_group:
            import torch.distributed as dist

            dist.destroy_process_group()


def _train(c: TrainConfig, dist_info: _Dist, progress: bool, say, t_start: float) -> Dict[str, Any]:
    if not dist_info.main:
        say = lambda _msg: None  # noqa: E731
    device = _resolve_device(c.device, dist_info)
    out = Path(c.out) if c.out else None
    ckpt_path = out / CHECKPOINT_NAME if out else None

    # ---- resume or fresh start -------------------------------------------------
    ckpt = None
    if ckpt_path is not None and ckpt_path.exists():
        if c.resume:
            ckpt = load_checkpoint(ckpt_path)
            saved = resolve_config(TrainConfig.from_dict(ckpt["config"]))
            diffs = _config_differences(saved, c)
            if diffs:
                raise CheckpointError(
                    f"{ckpt_path}: made with another configuration, so resuming would not "
                    f"continue that run ({'; '.join(diffs)}). Resume with the same settings "
                    "or train into another --out folder."
                )
        else:
            try:
                done = load_checkpoint(ckpt_path)
                unfinished = int(done["epoch"]) < int(TrainConfig.from_dict(done["config"]).epochs or 0)
            except CheckpointError:
                unfinished = True
            if unfinished:
                raise CheckpointError(
                    f"{ckpt_path}: {out} holds an unfinished (or unreadable) run; pass --resume "
                    "to continue it, delete the folder, or train into another --out folder."
                )
            say(f"{out}: replacing the finished run in this folder")
    elif c.resume:
        say(f"no checkpoint in {out}: starting from scratch")

    # ---- CPU threads: results depend (in the last bits) on the thread count, so
    # the count is recorded in the config and a resumed run reuses it ---------------
    if c.threads is None and ckpt is not None:
        c.threads = ckpt["config"].get("threads")
    threads = _choose_threads(c.threads)
    if threads != torch.get_num_threads():
        if c.threads is None:
            say(f"the CPU is busy (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
                "using 1 thread (set threads / --threads to override)")
        torch.set_num_threads(threads)
    c.threads = threads

    # ---- data ----------------------------------------------------------------------
    train_set, test_set = _load_sets(c)
    workers = c.workers
    if workers is None:
        workers = 0 if device.type == "cpu" else min(8, max(1, (os.cpu_count() or 2) // max(1, dist_info.world)))
    pin = device.type == "cuda"
    train_loader = data_mod.make_loader(train_set, c.batch_size, train=True, seed=c.seed,
                                        num_workers=workers, distributed=dist_info.world > 1,
                                        pin_memory=pin)
    test_loader = data_mod.make_loader(_shard(test_set, dist_info), c.batch_size, train=False,
                                       seed=c.seed, num_workers=workers, pin_memory=pin)

    # ---- model, optimizer, schedule -------------------------------------------------
    model = build_from_config(c).to(device)
    optimizer = _make_optimizer(c, model)
    steps_per_epoch = len(train_loader)
    schedule = WarmupCosine(c.epochs * steps_per_epoch, round(c.warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history: List[Dict[str, Any]] = []
    start_epoch = 0
    if ckpt is not None:
        _load_model_state(model, ckpt["model"], ckpt["path"])
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
        except (ValueError, KeyError, RuntimeError) as err:
            raise CheckpointError(f"{ckpt['path']}: optimizer or scheduler state does not fit: {err}") from err
        history = list(ckpt["history"])
        start_epoch = int(ckpt["epoch"])
        _set_rng_state(ckpt["rng"])
        say(f"resuming {out} after epoch {start_epoch}/{c.epochs}")
    if dist_info.world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ddp_kwargs = {"device_ids": [device.index]} if device.type == "cuda" else {}
        with warnings.catch_warnings():
            # newer torch renames it; broadcast_buffers=False is what neuron-state
            # buffers need and still works
            warnings.filterwarnings("ignore", message=".*broadcast_buffers.*")
            net = DDP(model, broadcast_buffers=False, **ddp_kwargs)
    else:
        net = model

    if out is not None and dist_info.main:
        out.mkdir(parents=True, exist_ok=True)
    bars = _use_bars(progress, dist_info)
    n_params = sum(p.numel() for p in model.parameters())
    if start_epoch == 0:
        say(f"training {c.model} ({c.neuron}, T={c.timesteps}, {n_params / 1e6:.2f} M parameters) on "
            f"{c.dataset}: {len(train_set)} train / {len(test_set)} test images, {c.epochs} epochs, "
            f"recipe {c.recipe}, device {device}" + (f" x {dist_info.world}" if dist_info.world > 1 else ""))

    # ---- epochs ------------------------------------------------------------------
    for epoch in range(start_epoch, c.epochs):
        if c.stop_after is not None and epoch >= c.stop_after:
            say(f"stopping after epoch {epoch} (stop_after={c.stop_after})")
            return {"stopped": True, "epoch": epoch, "history": history}
        t0 = time.time()
        _seed_all(_epoch_seed(c.seed, epoch, dist_info.rank))
        data_mod.set_epoch(train_loader, epoch)
        net.train()
        sums = torch.zeros(3, dtype=torch.float64)
        bar = _bar(train_loader, bars, f"epoch {epoch + 1}/{c.epochs}")
        for x, y in bar:
            x = x.to(device, non_blocking=True)
            y = y.to(device, non_blocking=True)
            if c.mixup > 0:
                lam = float(np.random.beta(c.mixup, c.mixup))
                perm = torch.randperm(x.shape[0]).to(device)
                x = lam * x + (1.0 - lam) * x[perm]
            with _autocast(device, c.amp):
                logits = net(x)
            logits = logits.float()
            if c.mixup > 0:
                loss = lam * F.cross_entropy(logits, y, label_smoothing=c.label_smoothing) + \
                    (1.0 - lam) * F.cross_entropy(logits, y[perm], label_smoothing=c.label_smoothing)
                pred = logits.argmax(1)
                correct = lam * (pred == y).sum().item() + (1.0 - lam) * (pred == y[perm]).sum().item()
            else:
                loss = F.cross_entropy(logits, y, label_smoothing=c.label_smoothing)
                correct = (logits.argmax(1) == y).sum().item()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if c.grad_clip and c.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
            optimizer.step()
            scheduler.step()
            n = y.shape[0]
            sums += torch.tensor([float(loss.detach()) * n, float(correct), float(n)], dtype=torch.float64)
            if bars:
                bar.set_postfix(loss=f"{sums[0] / sums[2]:.3f}", acc=f"{100 * sums[1] / sums[2]:.1f}%")
        lr = optimizer.param_groups[0]["lr"]
        if dist_info.world > 1:
            _average_batchnorm_stats(model)
        test_sums = torch.tensor(_eval_sums(net, test_loader, device, c.amp, bars, "test"),
                                 dtype=torch.float64)
        if dist_info.world > 1:
            import torch.distributed as dist

            both = torch.cat([sums, test_sums]).to(device)
            dist.all_reduce(both)
            both = both.cpu()
            sums, test_sums = both[:3], both[3:]
        entry = {
            "epoch": epoch + 1,
            "train_loss": float(sums[0] / sums[2]),
            "train_acc": float(100.0 * sums[1] / sums[2]),
            "test_loss": float(test_sums[0] / test_sums[2]),
            "test_acc": float(100.0 * test_sums[1] / test_sums[2]),
            "lr": float(lr),
            "time_s": time.time() - t0,
        }
        history.append(entry)
        say(f"epoch {epoch + 1}/{c.epochs}  train loss {entry['train_loss']:.3f} acc {entry['train_acc']:.1f} %  "
            f"test loss {entry['test_loss']:.3f} acc {entry['test_acc']:.2f} %  lr {lr:.2e}  "
            f"{entry['time_s']:.1f} s")
        if ckpt_path is not None and dist_info.main:
            _atomic_save({
                "format": _FORMAT,
                "version": _FORMAT_VERSION,
                "config": c.to_dict(),
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "history": history,
                "rng": _rng_state(),
                "data": {"seed": int(c.seed), "epoch": epoch + 1},
                "world_size": dist_info.world,
                "torch_version": str(torch.__version__),
            }, ckpt_path)
        if dist_info.world > 1:
            import torch.distributed as dist

            dist.barrier()

    # ---- final metrics and energy ------------------------------------------------
    if not dist_info.main:
        return {"history": history, "test_acc": history[-1]["test_acc"] if history else None}
    final = history[-1]
    images = _test_batch(test_set, c.energy_images)
    energy = measure_model_energy(model, c, images, "honest")
    energy["images"] = int(images.shape[0])
    paper = measure_model_energy(model, c, images, "paper")
    train_s = sum(h["time_s"] for h in history)
    from . import __version__

    metrics = {
        "test_acc": final["test_acc"],
        "test_loss": final["test_loss"],
        "best_test_acc": max(h["test_acc"] for h in history),
        "epochs": len(history),
        "history": history,
        "firing_rates": energy["firing_rates"],
        "energy_convention": "honest",
        "energy_images": energy["images"],
        "energy_j": energy["energy_j"],
        "ann_energy_j": energy["ann_energy_j"],
        "energy_ratio": energy["energy_ratio"],
        "energy_batch_j": float(energy["report"].total_j),
        "ann_energy_batch_j": float(energy["ann_report"].total_j),
        "energy_report": energy["report"].to_dict(),
        "ann_energy_report": energy["ann_report"].to_dict(),
        "paper_convention": {
            "energy_j": paper["energy_j"],
            "ann_energy_j": paper["ann_energy_j"],
            "energy_ratio": paper["energy_ratio"],
        },
        "config": c.to_dict(),
        "parameters": n_params,
        "timing": {
            "train_s": train_s,
            "epoch_mean_s": train_s / max(1, len(history)),
            "process_s": time.time() - t_start,
        },
        "device": str(device),
        "world_size": dist_info.world,
        "torch_version": str(torch.__version__),
        "snntorch_ms_version": __version__,
    }
    if out is not None:
        tmp = out / (METRICS_NAME + ".tmp")
        tmp.write_text(json.dumps(metrics, indent=2, default=_json_default))
        os.replace(tmp, out / METRICS_NAME)
        title = f"{c.model} / {c.neuron} / T={c.timesteps} on {c.dataset}"
        _plot_curves(history, out / "curves.png", title)
        _plot_energy(energy, out / "energy.png", title)
    say(f"test accuracy {final['test_acc']:.2f} %  |  energy {_fmt_j(energy['energy_j'])}/image, "
        f"ANN twin {_fmt_j(energy['ann_energy_j'])}/image: {energy['energy_ratio']:.2f}x less energy "
        f"than the ANN  |  training {train_s:.0f} s" + (f"  |  results in {out}/" if out else ""))
    return metrics


def _json_default(obj):
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


# ---------------------------------------------------------------------------
# evaluation of a finished (or interrupted) run
# ---------------------------------------------------------------------------


def load_trained_model(path, device="cpu") -> Tuple[nn.Module, TrainConfig, Dict[str, Any]]:
    """Rebuild the model of a checkpoint with its trained weights, in eval mode.

    :param path: ``checkpoint.pt`` or its run folder.
    :returns: ``(model, resolved config, checkpoint dict)``.
    :raises CheckpointError: see :func:`load_checkpoint`; also when the weights
        do not fit the model the config describes.

    Example::

        >>> model, cfg, ckpt = load_trained_model("runs/digits-proj")  # doctest: +SKIP
        >>> cfg.model, ckpt["epoch"]  # doctest: +SKIP
        ('convnet', 20)
    """
    ckpt = load_checkpoint(path)
    try:
        config = resolve_config(TrainConfig.from_dict(ckpt["config"]))
        model = build_from_config(config)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{ckpt['path']}: its config does not build a model: {err}") from err
    _load_model_state(model, ckpt["model"], ckpt["path"])
    return model.to(device).eval(), config, ckpt


def evaluate_checkpoint(path, device="auto", data_dir: Optional[str] = None,
                        limit_test: Optional[int] = None, batch_size: Optional[int] = None,
                        progress: bool = False) -> Dict[str, Any]:
    """Test accuracy of a checkpoint, on the run's own test set unless told otherwise.

    :param path: ``checkpoint.pt`` or its run folder.
    :param device: ``"auto"``, ``"cpu"``, ``"cuda"``...
    :param data_dir: where the dataset is (default: the run's ``data_dir``).
    :param limit_test: test subset size (default: the run's).
    :param batch_size: evaluation batch size (default: the run's).
    :returns: ``{"test_acc", "test_loss", "images", "epoch", "checkpoint"}``.

    Example::

        >>> evaluate_checkpoint("runs/digits-proj")["test_acc"]  # doctest: +SKIP
        95.26
    """
    dev = _resolve_device(device, _Dist())
    model, config, ckpt = load_trained_model(path, dev)
    if data_dir is not None:
        config.data_dir = data_dir
    if limit_test is not None:
        config.limit_test = limit_test
    _, test_set = _load_sets(config, train=False)
    loader = data_mod.make_loader(test_set, batch_size or config.batch_size, train=False,
                                  seed=config.seed, pin_memory=dev.type == "cuda")
    loss, acc, n = evaluate(model, loader, dev, config.amp, progress=progress)
    return {"test_acc": acc, "test_loss": loss, "images": n, "epoch": int(ckpt["epoch"]),
            "epochs": int(config.epochs), "checkpoint": ckpt["path"]}
