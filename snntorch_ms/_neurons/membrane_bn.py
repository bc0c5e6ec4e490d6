r"""The membrane-batch-normalised neuron (MPBN): a spiking neuron whose membrane is
batch-normalised per channel just before the threshold.

.. math::

    S_p = \Theta\big(\mathrm{BN}(U_p) - V_{\rm thr}\big)\, s

The math lives in :mod:`snntorch_ms.functional.membrane_bn`; adding it to a network
and folding it away for inference in :mod:`snntorch_ms.train.techniques.membrane_bn`.

Example::

    >>> import torch
    >>> from snntorch import Leaky
    >>> m = MembraneBN(Leaky(0.5, init_hidden=True, output=True), channels=2)
    >>> m(torch.randn(4, 2, 3, 3))[0].shape
    torch.Size([4, 2, 3, 3])
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ..functional.membrane_bn import channel_shape, membrane_affine, mpbn_scan
from ..functional.projection import get_projection
from ..functional.windows import cut_windows, recompose_membrane, recompose_spikes, window_boxes
from .projleaky import ProjLeaky

__all__ = ["MembraneBN"]


def _per_channel(value, shape):
    value = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    return value if value.numel() == 1 else value.reshape(shape)


class MembraneBN(nn.Module):
    r"""A spiking neuron (:class:`snntorch.Leaky` or :class:`~snntorch_ms.ProjLeaky`,
    built with ``init_hidden=True, output=True``) with its membrane batch-normalised
    before the threshold (MPBN; see the module docs):

    .. math::

        S_p = \Theta\big(\mathrm{BN}(U_p) - V_{\rm thr}\big)\, s

    The neuron keeps its state (``neuron.mem``, so :func:`snntorch_ms.utils.reset`
    resets it), its ``beta``, projection, windows and reset; its ``threshold`` is
    :math:`V_{\rm thr}` in normalised units. ``forward(input_, lateral=None)``
    returns ``(spk, mem)`` in the input's layout. ProjLeaky's fused path is not
    used here (the folded network uses it again).

    Example::

        >>> import torch
        >>> from snntorch import Leaky
        >>> m = MembraneBN(Leaky(0.9, init_hidden=True, output=True), channels=3)
        >>> spk, mem = m(torch.randn(4, 3, 2, 2))
        >>> spk.shape, m.running_mean.shape
        (torch.Size([4, 3, 2, 2]), torch.Size([3]))

    :param neuron: the neuron
    :type neuron: snntorch.Leaky or snntorch_ms.ProjLeaky
    :param channels: number of channels :math:`C`
    :type channels: int
    :param eps: :math:`\epsilon`. Defaults to 1e-5
    :type eps: float, optional
    :param momentum: running-statistics momentum. Defaults to 0.1
    :type momentum: float, optional
    :raises ValueError: for options the normalised neuron does not define
        (``inhibition``, ``state_quant``, ``reset_delay=False``)
    """

    def __init__(self, neuron: nn.Module, channels: int, eps: float = 1e-5,
                 momentum: float = 0.1):
        super().__init__()
        for name, bad in (("inhibition", getattr(neuron, "inhibition", False)),
                          ("state_quant", getattr(neuron, "state_quant", False)),
                          ("reset_delay=False", not getattr(neuron, "reset_delay", True))):
            if bad:
                raise ValueError(f"membrane batch norm does not support {name}")
        self.neuron = neuron
        self.channels = int(channels)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        # rank of the inputs seen (0: not run yet): the folded threshold's shape
        self.register_buffer("input_rank", torch.zeros((), dtype=torch.long))

    @property
    def graded_spikes_factor(self):
        """The wrapped neuron's spike magnitude."""
        return self.neuron.graded_spikes_factor

    @property
    def condense(self):
        return getattr(self.neuron, "condense", "or")

    def extra_repr(self) -> str:
        return f"channels={self.channels}, eps={self.eps}, momentum={self.momentum}"

    def _affine(self, u: torch.Tensor):
        if not self.training:
            return membrane_affine(u, self.weight, self.bias, self.running_mean,
                                   self.running_var, self.eps)
        dims = [d for d in range(u.dim()) if d != (u.dim() - 3 if u.dim() >= 4 else 1)]
        mean = u.mean(dims)
        var = u.var(dims, unbiased=False)
        with torch.no_grad():
            n = u.numel() // max(1, mean.numel())
            unbiased = var * (n / (n - 1)) if n > 1 else var
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.detach())
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased.detach())
        return membrane_affine(u, self.weight, self.bias, mean, var, self.eps)

    def forward(self, input_: torch.Tensor, lateral: Optional[torch.Tensor] = None):
        n = self.neuron
        if int(self.input_rank) != input_.dim():
            self.input_rank.fill_(input_.dim())
        if n.mem.shape != input_.shape:
            n.mem = torch.zeros_like(input_)
        shape = channel_shape(input_)
        proj = isinstance(n, ProjLeaky)
        windowed = proj and n.windowed
        options = dict(
            beta=_per_channel(n.beta, shape), v_th=_per_channel(n.threshold, shape),
            theta=_per_channel(n.theta, shape) if proj else 0.5,
            projection=n._project if proj else get_projection("none"),
            spike_fn=n.spike_grad, reset_mechanism=n.reset_mechanism,
            graded_spikes_factor=_per_channel(n.graded_spikes_factor, shape),
            affine=self._affine, training=self.training,
            rest_affine=membrane_affine(None, self.weight, self.bias, self.running_mean,
                                        self.running_var, self.eps, shape=shape))
        if windowed and input_.dim() == 4:
            size = input_.shape[-2:]
            t, b, l, r = window_boxes(size[0], size[1], n.windows, n.groups)[-1]
            cur = cut_windows(input_, n.windows, n.groups)
            lat = cut_windows(lateral, n.windows, n.groups) if lateral is not None else None
            spk, mem = mpbn_scan(cur, n.mem[..., t:b, l:r], lat, **options)
            spk = recompose_spikes(spk, size, n.windows, n.condense,
                                   magnitude=options["graded_spikes_factor"])
            mem = recompose_membrane(mem, size, n.windows)
        elif windowed:  # a window stack [B, g, C, h, w]
            spk, mem = mpbn_scan(input_, n.mem[:, -1], lateral, **options)
        else:  # one sub-step, elementwise
            spk, mem = mpbn_scan(input_.unsqueeze(1), n.mem, None, **options)
            spk, mem = spk[:, 0], mem[:, 0].clone()
        n.mem = mem
        return spk, mem
