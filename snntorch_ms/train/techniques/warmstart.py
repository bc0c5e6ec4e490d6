r"""Warm start: initialise a run from the weights of another run of the same model,
typically one trained at more time steps (Chowdhury, Rathi and Roy, "Towards
Ultra Low Latency Spiking Neural Networks for Vision and Sequential Tasks Using
Temporal Pruning", ECCV 2022; their iterative timestep reduction trains at T, then
fine-tunes the same network at fewer steps, down to T=1).

Only the weights (and batch-norm statistics, neuron parameters) come over; the
optimizer, schedule and epochs start afresh. The source must be the same model:
the same ``model``, ``model_kwargs``, ``neuron``, ``neuron_kwargs``,
``membrane_bn`` and ``dataset`` (its ``timesteps``, recipe and epochs may differ).

.. math::

    \theta^{(T=1)}_0 = \theta^{(T=4)}_{\rm trained}

The chain T=4 -> T=1 as commands::

    snntorch-ms train --neuron leaky -T 4 --out runs/leaky-T4
    snntorch-ms train --neuron leaky -T 1 --init-from runs/leaky-T4 --out runs/leaky-T4to1

A resumed run continues from its own checkpoint (the source is not read again);
the source's fingerprint and training cost are recorded in the checkpoint and in
``metrics.json`` (``init_from``), so that a comparison at equal budget can count
the source's epochs and time (:func:`run_cost`).

Example::

    >>> info = warm_start(model, "runs/leaky-T4", cfg)  # doctest: +SKIP
    >>> info["timesteps"]  # doctest: +SKIP
    4
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

from torch import nn

from ..checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint, load_model_state
from ..config import TrainConfig, resolve_config

__all__ = ["warm_start", "run_cost", "SAME_MODEL_FIELDS"]

#: Config fields that must agree between a warm start's source and the new run.
SAME_MODEL_FIELDS = ("dataset", "model", "model_kwargs", "neuron", "neuron_kwargs",
                     "membrane_bn")


def run_cost(path) -> Dict[str, float]:
    r"""The training a finished run cost, including what it was built on (its
    teacher's and its warm start's cost, recursively), from its ``metrics.json``.

    .. math::

        C(r) = c(r) + C(\mathrm{teacher}(r)) + C(\mathrm{source}(r))

    Returns ``{"epochs", "train_s"}`` (``train_s`` from ``timing``); zeros when the
    run has no ``metrics.json`` yet.

    Example::

        >>> run_cost("runs/does-not-exist")
        {'epochs': 0.0, 'train_s': 0.0}

    :param path: the run folder or its ``checkpoint.pt``
    :type path: str or os.PathLike
    :rtype: dict
    """
    folder = Path(path)
    if folder.name == CHECKPOINT_NAME or folder.is_file():
        folder = folder.parent
    metrics = folder / "metrics.json"
    if not metrics.is_file():
        return {"epochs": 0.0, "train_s": 0.0}
    m = json.loads(metrics.read_text())
    budget = m.get("budget")
    if budget:
        return {"epochs": float(budget["epochs_total"]), "train_s": float(budget["train_s_total"])}
    return {"epochs": float(m.get("epochs", 0)), "train_s": float(m["timing"]["train_s"])}


def warm_start(model: nn.Module, path, config: TrainConfig) -> Dict[str, Any]:
    r"""Load the trained weights of the run at ``path`` into ``model`` (in place).

    .. math::

        \theta_0 \leftarrow \theta_{\rm source}

    Example::

        >>> info = warm_start(build_from_config(cfg), "runs/leaky-T4", cfg)  # doctest: +SKIP

    :param model: the new run's model, built from ``config``
    :type model: torch.nn.Module
    :param path: the source run folder or ``checkpoint.pt``
    :type path: str or os.PathLike
    :param config: the new run's (resolved) config
    :type config: TrainConfig
    :return: ``{"path", "timesteps", "epochs", "fingerprint", "cost"}``
    :rtype: dict
    :raises CheckpointError: the source is missing or unreadable, or is another
        model (the message names every field that differs)
    """
    from .distill import weights_fingerprint

    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as err:
        raise CheckpointError(f"warm start {path}: {err}") from err
    source = resolve_config(TrainConfig.from_dict(ckpt["config"]))
    diffs = [f"{name}: source {getattr(source, name)!r}, this run {getattr(config, name)!r}"
             for name in SAME_MODEL_FIELDS if getattr(source, name) != getattr(config, name)]
    if diffs:
        raise CheckpointError(
            f"warm start {path} is another model ({'; '.join(diffs)}); a warm start needs "
            "the same model (time steps, recipe and epochs may differ)")
    load_model_state(model, ckpt["model"], ckpt["path"], ckpt.get("snntorch_ms_version"))
    return {"path": str(path), "timesteps": int(source.timesteps), "epochs": int(ckpt["epoch"]),
            "fingerprint": weights_fingerprint(model), "cost": run_cost(ckpt["path"])}
