"""Checkpoints: written atomically after every epoch, validated on load, and the
decision between resuming a run and starting one."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..errors import UserError
from .config import RUNTIME_FIELDS, TrainConfig, build_from_config, resolve_config

__all__ = ["CheckpointError", "load_checkpoint", "load_trained_model"]

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT = "snntorch-ms-checkpoint"
#: 1 since 0.1.0 (the scheduler state of 0.1.0 and 0.2.0, a ``LambdaLR``, no longer
#: resumes since 0.4.0: such a run is refused with "scheduler state does not fit").
FORMAT_VERSION = 1


class CheckpointError(UserError, RuntimeError):
    """A checkpoint cannot be used: unreadable, not ours, or from another configuration.

    A :class:`~snntorch_ms.errors.UserError` and a :class:`RuntimeError`; the
    message names the file and what is wrong.

    Example::

        >>> err = CheckpointError("runs/x/checkpoint.pt: truncated")
        >>> isinstance(err, RuntimeError)
        True
    """


def atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path, map_location="cpu") -> Dict[str, Any]:
    """Read and validate a checkpoint written by :func:`~snntorch_ms.train.train`.

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
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a snntorch-ms checkpoint (no '{FORMAT}' marker)")
    if ckpt.get("version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {ckpt.get('version')} is newer than this "
            f"snntorch-ms understands ({FORMAT_VERSION}); upgrade snntorch-ms"
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


def config_differences(saved: TrainConfig, current: TrainConfig) -> List[str]:
    diffs = []
    for f in dataclasses.fields(TrainConfig):
        if f.name in RUNTIME_FIELDS:
            continue
        a, b = getattr(saved, f.name), getattr(current, f.name)
        if a != b:
            diffs.append(f"{f.name}: checkpoint {a!r}, now {b!r}")
    return diffs


def load_model_state(model: nn.Module, state: Dict[str, Any], path: str,
                     version: Optional[str] = None) -> None:
    """Load a checkpoint's weights strictly; :class:`CheckpointError` if they do not fit."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        made = f"snntorch-ms {version}" if version else "snntorch-ms 0.1.0 (no version recorded)"
        raise CheckpointError(
            f"{path}: the saved weights (written by {made}, this is {_version()}) do not "
            f"fit the model ({' '.join(first[:3])})"
        ) from err

def save_checkpoint(path: Path, config: TrainConfig, epoch: int, model: nn.Module,
                    optimizer, scheduler, history: List[Dict[str, Any]], rng: Dict[str, Any],
                    world_size: int, extra: Optional[Dict[str, Any]] = None) -> None:
    """Write the state after ``epoch`` finished epochs, atomically; ``extra`` entries
    (e.g. ``"techniques"``: the teacher's and the warm start's record) go in too."""
    atomic_save({
        **(extra or {}),
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "config": config.to_dict(),
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "history": history,
        "rng": rng,
        "data": {"seed": int(config.seed), "epoch": epoch},
        "world_size": world_size,
        "torch_version": str(torch.__version__),
        "snntorch_ms_version": _version(),
    }, path)


def _version() -> str:
    from .. import __version__

    return __version__


def open_run(out: Optional[Path], c: TrainConfig, say: Callable[[str], None]):
    """The checkpoint to resume from, or None for a fresh start.

    Refuses (:class:`CheckpointError`) to resume a run made with other settings,
    and to overwrite an unfinished run without ``resume``."""
    ckpt_path = out / CHECKPOINT_NAME if out else None
    if ckpt_path is None or not ckpt_path.exists():
        if c.resume:
            say(f"no checkpoint in {out}: starting from scratch")
        return None
    if c.resume:
        ckpt = load_checkpoint(ckpt_path)
        saved = resolve_config(TrainConfig.from_dict(ckpt["config"]))
        diffs = config_differences(saved, c)
        if diffs:
            raise CheckpointError(
                f"{ckpt_path}: made with another configuration, so resuming would not "
                f"continue that run ({'; '.join(diffs)}). Resume with the same settings "
                "or train into another --out folder."
            )
        return ckpt
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
    return None


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
    load_model_state(model, ckpt["model"], ckpt["path"], ckpt.get("snntorch_ms_version"))
    return model.to(device).eval(), config, ckpt
