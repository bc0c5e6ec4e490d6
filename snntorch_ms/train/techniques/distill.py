r"""Knowledge distillation from a trained teacher (Hinton, Vinyals and Dean,
"Distilling the Knowledge in a Neural Network", NIPS Deep Learning Workshop 2014,
arXiv:1503.02531).

The teacher is a checkpoint of any model of this package, typically the ReLU twin
of the student (``--neuron relu``, same dataset). The student learns from the
recipe's loss and from the teacher's temperature-softened output:

.. math::

    L = (1 - w)\, L_{\rm CE} + w\, \tau^2\,
        \mathrm{KL}\big(\mathrm{softmax}(z_t/\tau) \,\|\, \mathrm{softmax}(z_s/\tau)\big)

with :math:`L_{\rm CE}` the recipe's (mixup) cross-entropy, :math:`z_t` and
:math:`z_s` the teacher's and student's logits on the same (mixed) batch, the KL
term averaged over the batch, :math:`w` = ``distill_weight`` and :math:`\tau` =
``distill_temperature``; :math:`\tau^2` keeps the soft term's gradients on the
scale of the hard one's (Hinton et al.). The teacher runs in eval mode without
gradients. The deployed student is unchanged: it stays binary.

Resume: the teacher is reloaded from its path, and its fingerprint (a hash of its
weights) must equal the one the run started with (:class:`CheckpointError`
otherwise, also when it has gone). Its accuracy on the run's test (and validation)
images goes into ``metrics.json`` (``teacher``).

Example::

    >>> import torch
    >>> zs, zt = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    >>> hard = torch.tensor(0.5)
    >>> round(float(distillation_loss(zs, zt, hard, weight=0.0, temperature=1.0)), 4)
    0.5
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ... import data as data_mod
from ..checkpoint import CheckpointError, load_trained_model
from ..config import TrainConfig

__all__ = ["distillation_loss", "load_teacher", "weights_fingerprint"]


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, hard_loss: torch.Tensor,
                      weight: float, temperature: float) -> torch.Tensor:
    r"""The distillation loss of one batch (see the module docs).

    .. math::

        L = (1 - w)\, L_{\rm hard} + w\, \tau^2\, \frac{1}{B} \sum_b \sum_k
            p^t_{bk} \left(\log p^t_{bk} - \log p^s_{bk}\right), \qquad
            p = \mathrm{softmax}(z / \tau)

    Example::

        >>> import math, torch
        >>> zs, zt = torch.tensor([[0.0, 0.0]]), torch.tensor([[math.log(3.0), 0.0]])
        >>> # teacher (3/4, 1/4), student (1/2, 1/2): KL = 3/4 ln(3/2) + 1/4 ln(1/2)
        >>> kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
        >>> loss = distillation_loss(zs, zt, torch.tensor(1.0), weight=0.5, temperature=1.0)
        >>> round(float(loss), 6) == round(0.5 * 1.0 + 0.5 * kl, 6)
        True

    :param student: the student's logits ``[B, K]``
    :type student: torch.Tensor
    :param teacher: the teacher's logits ``[B, K]`` (no gradient needed)
    :type teacher: torch.Tensor
    :param hard_loss: the recipe's loss :math:`L_{\rm hard}` of the batch
    :type hard_loss: torch.Tensor
    :param weight: :math:`w \in [0, 1]`
    :type weight: float
    :param temperature: :math:`\tau > 0`
    :type temperature: float
    :return: :math:`L`
    :rtype: torch.Tensor
    """
    tau = float(temperature)
    soft = F.kl_div(F.log_softmax(student / tau, dim=1),
                    F.log_softmax(teacher.detach() / tau, dim=1),
                    reduction="batchmean", log_target=True)
    return (1.0 - float(weight)) * hard_loss + float(weight) * tau * tau * soft


def weights_fingerprint(model: nn.Module) -> str:
    r"""A short hash of a model's state (names, shapes and values), to recognise a
    teacher or a warm start's source on resume.

    .. math::

        h = \mathrm{SHA256}\big(\textstyle\bigoplus_k (k, \mathrm{shape}_k, \mathrm{bytes}_k)\big)_{1..16}

    Example::

        >>> import torch
        >>> a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
        >>> weights_fingerprint(a) == weights_fingerprint(a), weights_fingerprint(a) == weights_fingerprint(b)
        (True, False)

    :param model: the model
    :type model: torch.nn.Module
    :return: 16 hexadecimal digits
    :rtype: str
    """
    h = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        h.update(key.encode())
        if isinstance(value, torch.Tensor):
            h.update(str(tuple(value.shape)).encode())
            h.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
                     .tobytes())
    return h.hexdigest()[:16]


def load_teacher(path, config: TrainConfig, device="cpu") -> Tuple[nn.Module, Dict[str, Any]]:
    r"""Load a trained run as the teacher of ``config``'s run, in eval mode, with
    its parameters frozen.

    .. math::

        z_t = f_{\rm teacher}(x), \qquad \nabla z_t = 0

    The teacher must have been trained on the same dataset (hence the same
    classes, channels and image size); any model and neuron will do.

    Example::

        >>> teacher, info = load_teacher("runs/fmnist-relu", cfg)  # doctest: +SKIP
        >>> info["neuron"], info["fingerprint"]  # doctest: +SKIP
        ('relu', '3f2a...')

    :param path: the teacher's run folder or ``checkpoint.pt``
    :type path: str or os.PathLike
    :param config: the student's (resolved) config
    :type config: TrainConfig
    :param device: where the teacher runs. Defaults to ``"cpu"``
    :return: ``(teacher, info)``; ``info`` holds ``path``, ``model``, ``neuron``,
        ``timesteps``, ``epochs``, ``dataset`` and ``fingerprint``
    :rtype: tuple(torch.nn.Module, dict)
    :raises CheckpointError: the teacher has gone or cannot be read, or was trained
        on another dataset or number of classes
    """
    try:
        teacher, tcfg, ckpt = load_trained_model(path, device)
    except CheckpointError as err:
        raise CheckpointError(f"teacher {path}: {err} (distillation reloads the teacher from "
                              "this path, also on resume: restore it or pass another --teacher)"
                              ) from err
    mine, theirs = data_mod.dataset_info(config.dataset), data_mod.dataset_info(tcfg.dataset)
    if (mine.name, mine.num_classes) != (theirs.name, theirs.num_classes):
        raise CheckpointError(
            f"teacher {path} was trained on {theirs.name} ({theirs.num_classes} classes) but "
            f"this run trains on {mine.name} ({mine.num_classes} classes): a teacher must "
            "know the same dataset and classes")
    for p in teacher.parameters():
        p.requires_grad_(False)
    info = {"path": str(path), "model": tcfg.model, "neuron": tcfg.neuron,
            "timesteps": int(tcfg.timesteps), "epochs": int(ckpt["epoch"]),
            "dataset": tcfg.dataset, "fingerprint": weights_fingerprint(teacher)}
    return teacher.eval(), info
