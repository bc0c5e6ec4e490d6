r"""Runs a run is built on, trained first when asked for with ``"auto"``: one
command still gets a distilled or warm-started network.

* ``teacher="auto"``: the run's ANN twin (the same model and data with
  ``neuron="relu"``, one time step, no technique of its own) is trained first, in
  ``<out>/teacher``, and distilled from;
* ``init_from="auto"`` (or ``"auto:N"``): the same run at ``N`` time steps
  (default 4) is trained first, in ``<out>/warm-T<N>``, and the run starts from
  its weights (Chowdhury et al.'s timestep reduction, :mod:`.warmstart`).

A finished prerequisite (its ``metrics.json`` written) is reused, not retrained;
an unfinished one resumes from its last checkpoint. Their cost counts toward the
run's budget in ``metrics.json`` like any teacher's or source's
(:func:`~snntorch_ms.train.techniques.warmstart.run_cost`).

.. math::

    C(\text{run}) = c(\text{run}) + C(\text{teacher}) + C(\text{T=}N\ \text{source})

Example::

    >>> prerequisite_configs(TrainConfig(out="runs/x", teacher="auto")).keys()
    dict_keys(['teacher'])
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Dict, Optional

from ..config import ConfigError, TrainConfig

__all__ = ["AUTO", "prerequisite_configs", "train_prerequisites"]

#: The value of ``teacher`` / ``init_from`` that asks for the prerequisite to be trained.
AUTO = "auto"

#: Time steps of an ``init_from="auto"`` source.
DEFAULT_WARM_TIMESTEPS = 4


def _warm_timesteps(spec: str) -> int:
    _, sep, steps = spec.partition(":")
    if not sep:
        return DEFAULT_WARM_TIMESTEPS
    try:
        n = int(steps)
    except ValueError:
        n = 0
    if n < 2:
        raise ConfigError(f"init_from={spec!r}: write 'auto' or 'auto:N' with N >= 2 time "
                          "steps for the warm start's source")
    return n


def _is_auto(value: Optional[str]) -> bool:
    return isinstance(value, str) and (value == AUTO or value.startswith(AUTO + ":"))


def prerequisite_configs(config: TrainConfig) -> Dict[str, TrainConfig]:
    r"""The configurations of the runs ``config`` asks to be trained first:
    ``{"teacher": ..., "init_from": ...}`` (only those set to ``"auto"``).

    Each is ``config`` with its own ``out`` below ``config.out`` and without the
    techniques that would need prerequisites of their own:

    .. math::

        \text{teacher} = \text{config}\,[\text{neuron}=\text{relu}, T = 1], \qquad
        \text{source} = \text{config}\,[T = N]

    Example::

        >>> cfg = TrainConfig(out="runs/x", neuron="leaky", init_from="auto:3")
        >>> src = prerequisite_configs(cfg)["init_from"]
        >>> src.timesteps, src.out, src.init_from
        (3, 'runs/x/warm-T3', None)

    :param config: the run
    :type config: TrainConfig
    :rtype: dict
    :raises ConfigError: ``"auto"`` without ``out``, a teacher asked of an ANN run,
        or a malformed ``"auto:N"``
    """
    wanted = {name: getattr(config, name) for name in ("teacher", "init_from")
              if _is_auto(getattr(config, name))}
    if not wanted:
        return {}
    if not config.out:
        raise ConfigError(f"{' and '.join(f'{k}={v!r}' for k, v in wanted.items())} trains "
                          "a run first inside the run's folder: pass out (--out DIR)")
    base = dict(teacher=None, init_from=None, stop_after=None, resume=True)
    out: Dict[str, TrainConfig] = {}
    if "teacher" in wanted:
        if wanted["teacher"] != AUTO:
            raise ConfigError(f"teacher={wanted['teacher']!r}: write teacher='auto' (the ANN "
                              "twin) or the path of a trained run")
        if config.neuron == "relu":
            raise ConfigError("teacher='auto' is the run's ANN twin: this run is the ANN "
                              "already (neuron='relu')")
        out["teacher"] = dataclasses.replace(
            config, **base, neuron="relu", timesteps=1, membrane_bn=None,
            neuron_kwargs=None, out=str(Path(config.out) / "teacher"))
    if "init_from" in wanted:
        steps = _warm_timesteps(wanted["init_from"])
        out["init_from"] = dataclasses.replace(
            config, **base, timesteps=steps, out=str(Path(config.out) / f"warm-T{steps}"))
    return out


def train_prerequisites(config: TrainConfig, train_fn: Callable[[TrainConfig], dict],
                        say: Callable[[str], None]) -> TrainConfig:
    r"""Train (or reuse) the prerequisites of ``config`` with ``train_fn`` and return
    ``config`` with their folders in place of ``"auto"``.

    .. math::

        \text{teacher}, \text{init\_from} \leftarrow \text{out}/\text{teacher}, \
        \text{out}/\text{warm-T}N

    Example::

        >>> cfg = train_prerequisites(cfg, train, print)  # doctest: +SKIP
        reusing the finished teacher in runs/x/teacher

    :param config: the run
    :type config: TrainConfig
    :param train_fn: trains one configuration (``snntorch_ms.train.train``)
    :type train_fn: callable
    :param say: prints one line
    :type say: callable
    :rtype: TrainConfig
    """
    resolved = {}
    for name, cfg in prerequisite_configs(config).items():
        folder = Path(cfg.out)
        label = "teacher" if name == "teacher" else f"T={cfg.timesteps} warm-start source"
        if (folder / "metrics.json").is_file():
            say(f"reusing the finished {label} in {folder}")
        else:
            say(f"training the {label} first, in {folder}")
            train_fn(cfg)
        resolved[name] = str(folder)
    return dataclasses.replace(config, **resolved)
