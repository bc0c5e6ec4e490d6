"""The time loop shared by every model, and small layout helpers."""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from ..utils import reset

__all__ = ["SpikingModel", "to_pair", "ChannelLayerNorm", "linear_channels_last"]


def to_pair(size) -> Tuple[int, int]:
    """``32 -> (32, 32)``; ``(28, 32) -> (28, 32)``.

    Example::

        >>> to_pair(16), to_pair((8, 12))
        ((16, 16), (8, 12))

    :param size: a side length, or a pair ``(H, W)``
    :type size: int or tuple(int, int)
    :return: ``(H, W)``
    :rtype: tuple(int, int)
    """
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def linear_channels_last(linear: nn.Module, x: torch.Tensor) -> torch.Tensor:
    r"""Apply a per-position module (e.g. :class:`torch.nn.Linear`) to the channels
    of a map ``[B, C, H, W]``: permute to ``[B, H, W, C]``, apply, permute back.

    Example::

        >>> lin = torch.nn.Linear(3, 5)
        >>> linear_channels_last(lin, torch.rand(2, 3, 4, 4)).shape
        torch.Size([2, 5, 4, 4])

    :param linear: a module (or function) acting on the last dimension, ``C -> C'``
    :type linear: torch.nn.Module or callable
    :param x: a map ``[B, C, H, W]``
    :type x: torch.Tensor
    :return: the map ``[B, C', H, W]``
    :rtype: torch.Tensor
    """
    return linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ChannelLayerNorm(nn.LayerNorm):
    r"""Layer normalization over the channels of a map ``[B, C, H, W]`` (each
    position normalized on its own, as :class:`torch.nn.LayerNorm` on a
    channels-last tensor).

    .. math::

        y_{c,i,j} = \gamma_c \frac{x_{c,i,j} - \mu_{i,j}}{\sqrt{\sigma^2_{i,j} + \epsilon}} + \beta_c

    Example::

        >>> ChannelLayerNorm(3)(torch.rand(2, 3, 4, 4)).shape
        torch.Size([2, 3, 4, 4])

    :param normalized_shape: the number of channels :math:`C`
    :type normalized_shape: int
    :param eps: :math:`\epsilon`. Defaults to 1e-5
    :type eps: float, optional
    :param elementwise_affine: learn :math:`\gamma` and :math:`\beta`. Defaults to True
    :type elementwise_affine: bool, optional
    :param bias: learn :math:`\beta` (with ``elementwise_affine``). Defaults to True
    :type bias: bool, optional
    :param device: device of the parameters. Defaults to None
    :type device: torch.device, optional
    :param dtype: dtype of the parameters. Defaults to None
    :type dtype: torch.dtype, optional
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear_channels_last(super().forward, x)


class SpikingModel(nn.Module):
    r"""Base class of the models: runs ``timesteps`` steps on the same
    (direct-encoded) input and averages the logits.

    .. math::

        \hat y = \frac{1}{T} \sum_{t=1}^{T} f_t(x)

    Every call first resets the state of the neurons inside the model
    (:func:`snntorch_ms.utils.reset`), so two calls on the same input give the
    same output. Subclasses implement :meth:`step`.

    Example::

        >>> class Twice(SpikingModel):
        ...     def step(self, x):
        ...         return 2 * x
        >>> Twice(timesteps=3)(torch.ones(1, 2))
        tensor([[2., 2.]])

    :param timesteps: number of time steps :math:`T \geq 1`. Defaults to 1
    :type timesteps: int, optional
    :raises ValueError: if ``timesteps < 1``
    """

    def __init__(self, timesteps: int = 1):
        super().__init__()
        if int(timesteps) < 1:
            raise ValueError(f"timesteps must be >= 1, got {timesteps}")
        self.timesteps = int(timesteps)

    def step(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """One time step: input ``[B, C, H, W]`` to logits ``[B, classes]``."""
        raise NotImplementedError(f"{type(self).__name__} must implement step(x)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reset(self)
        out = self.step(x)
        for _ in range(self.timesteps - 1):
            out = out + self.step(x)
        if self.timesteps > 1:
            out = out / self.timesteps
        return out
