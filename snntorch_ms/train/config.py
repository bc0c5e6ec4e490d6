"""The configuration of a training run: :class:`TrainConfig`, the recipes, and
building the model it describes.

Each field's ``metadata["cli"]`` describes its command-line flag, from which
:mod:`snntorch_ms.cli` derives the ``train`` command: one definition of every
setting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import torch
from torch import nn

from .. import data as data_mod
from ..errors import UserError

__all__ = ["TrainConfig", "ConfigError", "RECIPE_DEFAULTS", "TECHNIQUE_DEFAULTS", "resolve_config",
           "build_from_config"]


class ConfigError(UserError, ValueError):
    """A training setting that cannot be used: an unknown name or a value out of range.

    A :class:`~snntorch_ms.errors.UserError` and a :class:`ValueError`; the message
    names the setting.

    Example::

        >>> try:
        ...     resolve_config(TrainConfig(epochs=0))
        ... except ConfigError as err:
        ...     print(err)
        epochs=0 is out of range
    """


#: Defaults of the T=1 training techniques (:mod:`snntorch_ms.train.techniques.distill`,
#: :mod:`snntorch_ms.train.techniques.membrane_bn`), per recipe: off for now; a recipe may turn one on
#: once the measurements support it (``docs/techniques.md``).
TECHNIQUE_DEFAULTS: Dict[str, Any] = dict(distill_weight=0.5, distill_temperature=4.0,
                                          membrane_bn=False)

#: Defaults of each recipe (see the module docs); ``epochs`` and ``batch_size``
#: are per dataset (``"*"`` for the rest).
RECIPE_DEFAULTS: Dict[str, Dict[str, Any]] = {
    "basic": dict(
        optimizer="adam", lr=2e-3, weight_decay=0.0, warmup_epochs=0, mixup=0.0,
        dropout=0.0, grad_clip=0.0, **TECHNIQUE_DEFAULTS,
        epochs={"digits": 12, "mnist": 10, "fashion-mnist": 10, "*": 50},
        batch_size={"digits": 64, "*": 128},
    ),
    "paper": dict(
        optimizer="sgd", lr=0.05, weight_decay=2e-5, warmup_epochs=None, mixup=0.1,
        dropout=0.1, grad_clip=20.0, **TECHNIQUE_DEFAULTS,
        epochs={"cifar10": 300, "cifar100": 300, "tiny-imagenet": 250, "*": 100},
        batch_size={"*": 128},
    ),
}

#: Optimizers a config may name.
OPTIMIZERS = ("sgd", "adam", "adamw")

#: Config fields that do not change what is computed: they may differ on resume.
RUNTIME_FIELDS = ("out", "resume", "device", "stop_after", "download",
                   "data_dir", "energy_images", "amp", "threads")


def _setting(default, help, *, model=False, **flag):
    """A :class:`TrainConfig` field with its command-line flag in ``metadata["cli"]``:
    ``help`` (None hides the flag), ``model`` (also a flag of ``snntorch-ms energy``),
    and :meth:`argparse.ArgumentParser.add_argument` keywords (``flag`` for a name
    other than ``--<field-name>``)."""
    meta = {"cli": dict(help=help, model=model, **flag)}
    if callable(default) and default is dict:
        return field(default_factory=dict, metadata=meta)
    return field(default=default, metadata=meta)


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
    :param fused_optimizer: use the optimizer's fused implementation
        (``torch.optim.SGD(..., fused=True)`` and likewise for Adam/AdamW): the same
        algorithm in one kernel for all parameters, faster on a GPU; its rounding
        may differ in the last bits, so it is part of the run's definition.
    :param energy_images: test images used for the final energy measurement.
    :param download: download missing datasets when online.
    :param threads: CPU threads for torch (``None``: torch's count at the start,
        :func:`torch.get_num_threads`, whatever the load of the machine; on a busy
        machine the run says so in one line and keeps that count). The count
        decides the order of floating-point reductions, so it is recorded (in the
        checkpoint and ``metrics.json``) and a resumed run with ``threads=None``
        reuses it: the same command, seed, thread count, device and torch version
        give the same numbers, whatever the load.
    :param val_images: hold out this many training images (class-balanced, drawn
        with a fixed seed before ``limit_train``, so the same for every seed and
        configuration) as a validation split, scored every epoch (``val_acc``).
    :param teacher: a trained run (folder or ``checkpoint.pt``) to distil from
        (:mod:`snntorch_ms.train.techniques.distill`); reloaded from this path on resume.
    :param distill_weight: weight :math:`w` of the distillation term (by recipe: 0.5).
    :param distill_temperature: softmax temperature of distillation (by recipe: 4).
    :param init_from: a trained run of the same model to initialise the weights from
        (warm start, e.g. from more time steps; :mod:`snntorch_ms.train.techniques.warmstart`).
    :param membrane_bn: batch norm of the membrane before the threshold
        (:mod:`snntorch_ms.train.techniques.membrane_bn`), folded away for inference (by recipe: off).
    :param stop_after: stop after this many finished epochs, as if killed (tests).

    Example::

        >>> cfg = TrainConfig(dataset="fashion-mnist", recipe="paper")
        >>> resolve_config(cfg).lr
        0.05
    """

    dataset: str = _setting("digits", "digits (bundled, default), mnist, fashion-mnist, "
                                      "cifar10, cifar100, tiny-imagenet", model=True)
    data_dir: str = _setting("data", "dataset folder (default ./data)", model=True)
    model: str = _setting("convnet", "convnet (default), cnn-mixer, lstm-mixer, resnet19, vgg11",
                          model=True)
    neuron: str = _setting("proj", "proj (ProjLeaky, default), leaky, relu (ANN)", model=True)
    timesteps: int = _setting(1, "time steps (default 1)", type=int, short="-T", model=True)
    recipe: str = _setting("basic", "basic (default: Adam, cosine) or paper (SGD 0.05, warm-up "
                                    "+ cosine, crop+flip, mixup 0.1, dropout 0.1, clip 20)",
                           choices=tuple(RECIPE_DEFAULTS))
    epochs: Optional[int] = _setting(None, "epochs (default: by recipe and dataset)", type=int)
    batch_size: Optional[int] = _setting(None, "batch size per process", type=int)
    lr: Optional[float] = _setting(None, "peak learning rate", type=float)
    weight_decay: Optional[float] = _setting(None, "weight decay", type=float)
    momentum: float = _setting(0.9, "SGD momentum (default 0.9)", type=float)
    optimizer: Optional[str] = _setting(None, "optimizer (default: by recipe)", choices=OPTIMIZERS)
    warmup_epochs: Optional[float] = _setting(None, "linear warm-up epochs", type=float)
    mixup: Optional[float] = _setting(None, "mixup alpha (0: off)", type=float)
    label_smoothing: float = _setting(0.0, "label smoothing of the cross-entropy", type=float)
    dropout: Optional[float] = _setting(None, "dropout of the model", type=float)
    grad_clip: Optional[float] = _setting(None, "max gradient norm (0: off)", type=float)
    limit_train: Optional[int] = _setting(None, "train on a balanced subset of N images",
                                          type=int, metavar="N")
    limit_test: Optional[int] = _setting(None, "test on a balanced subset of N images",
                                         type=int, metavar="N")
    seed: int = _setting(0, "random seed (default 0)", type=int, model=True)
    device: str = _setting("auto", "auto (default: CUDA if available), cpu, cuda, cuda:1",
                           model=True)
    out: Optional[str] = _setting("runs/run", "output folder (default "
                                              "runs/<dataset>-<model>-<neuron>-T<T>)")
    resume: bool = _setting(False, "continue the run in --out from its last finished epoch",
                            flag="--resume", action="store_true")
    neuron_kwargs: Dict[str, Any] = _setting(
        dict, "neuron keyword, repeatable (threshold=0.5, windows=overlap, ...)",
        flag="--neuron-arg", action="append", metavar="KEY=VALUE", model=True)
    model_kwargs: Dict[str, Any] = _setting(
        dict, "model keyword, repeatable (width=0.5, depths=(1,1,1,1), ...)",
        flag="--model-arg", action="append", metavar="KEY=VALUE", model=True)
    amp: bool = _setting(True, "no bf16 autocast on CUDA", flag="--no-amp",
                         action="store_const", const=False)
    fused_optimizer: bool = _setting(False, "the optimizer's fused implementation (one "
                                            "kernel for all parameters; same algorithm)",
                                     flag="--fused-optimizer", action="store_true")
    energy_images: int = _setting(64, "test images for the energy measurement (default 64)",
                                  type=int)
    download: bool = _setting(True, "never download: a missing dataset is an error at once",
                              flag="--no-download", action="store_const", const=False,
                              model=True)
    threads: Optional[int] = _setting(None, "CPU threads (default: torch's count, whatever "
                                            "the load; recorded, and kept on --resume)",
                                      type=int)
    val_images: Optional[int] = _setting(
        None, "hold out N training images as a validation split (class-balanced, the same "
              "for every seed; drawn before --limit-train)", type=int, metavar="N")
    teacher: Optional[str] = _setting(
        None, "distil from this trained run (folder or checkpoint.pt), e.g. the ReLU twin",
        metavar="RUN")
    distill_weight: Optional[float] = _setting(
        None, "weight w of the distillation term, (1-w) CE + w T^2 KL (default 0.5)", type=float)
    distill_temperature: Optional[float] = _setting(
        None, "softmax temperature T of the distillation (default 4)", type=float)
    init_from: Optional[str] = _setting(
        None, "warm start: initialise the weights from this run (same model, any T)",
        metavar="RUN")
    membrane_bn: Optional[bool] = _setting(
        None, "batch norm of the membrane before the threshold (MPBN), folded away for "
              "inference", flag="--membrane-bn", action="store_const", const=True, model=True)
    stop_after: Optional[int] = _setting(None, None, type=int)  # simulates a kill (tests)

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
            raise ConfigError(f"unknown TrainConfig fields: {', '.join(unknown)}")
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
    from ..models import MODELS, NEURONS

    if config.recipe not in RECIPE_DEFAULTS:
        raise ConfigError(f"unknown recipe {config.recipe!r}; known recipes: basic, paper")
    c = dataclasses.replace(
        config,
        neuron_kwargs=dict(config.neuron_kwargs or {}),
        model_kwargs=dict(config.model_kwargs or {}),
    )
    try:
        c.dataset = data_mod.dataset_info(c.dataset).name
    except ValueError as err:
        raise ConfigError(str(err)) from err
    if c.model not in MODELS:
        raise ConfigError(f"unknown model {c.model!r}; known models: {', '.join(MODELS)}")
    if c.neuron not in NEURONS:
        raise ConfigError(f"unknown neuron {c.neuron!r}; known neurons: {', '.join(NEURONS)}")
    d = RECIPE_DEFAULTS[c.recipe]
    for name in ("optimizer", "lr", "weight_decay", "mixup", "dropout", "grad_clip",
                 *TECHNIQUE_DEFAULTS):
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
    if c.optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {c.optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    checks = [
        ("epochs", c.epochs >= 1), ("batch_size", c.batch_size >= 1), ("lr", c.lr > 0),
        ("timesteps", c.timesteps >= 1), ("weight_decay", c.weight_decay >= 0),
        ("warmup_epochs", 0 <= c.warmup_epochs <= c.epochs), ("mixup", c.mixup >= 0),
        ("dropout", 0 <= c.dropout < 1), ("grad_clip", c.grad_clip >= 0),
        ("label_smoothing", 0 <= c.label_smoothing < 1),
        ("energy_images", c.energy_images >= 1),
        ("distill_weight", 0 <= c.distill_weight <= 1),
        ("distill_temperature", c.distill_temperature > 0),
    ]
    for name, ok in checks:
        if not ok:
            raise ConfigError(f"{name}={getattr(c, name)!r} is out of range")
    for name in ("limit_train", "limit_test", "stop_after", "threads", "val_images"):
        value = getattr(c, name)
        if value is not None and value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
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
    from ..models import build_model

    info = data_mod.dataset_info(config.dataset)
    kwargs = dict(config.model_kwargs or {})
    if config.dropout:
        kwargs.setdefault("dropout", float(config.dropout))
    torch.manual_seed(int(config.seed))
    model = build_model(
        config.model,
        neuron or config.neuron,
        num_classes=info.num_classes,
        in_channels=info.in_channels,
        image_size=info.image_size,
        timesteps=int(config.timesteps),
        neuron_kwargs=dict(config.neuron_kwargs) if config.neuron_kwargs else None,
        **kwargs,
    )
    if config.membrane_bn and (neuron or config.neuron) != "relu":
        from .techniques.membrane_bn import add_membrane_bn

        add_membrane_bn(model)
    return model

