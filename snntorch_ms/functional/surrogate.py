r"""Surrogate gradients in snntorch's closure style (``spike_grad=rectangular()``)."""

from __future__ import annotations

import torch

from . import spec

__all__ = ["Rectangular", "rectangular"]


class Rectangular(torch.autograd.Function):
    r"""Heaviside step with the paper's rectangular surrogate gradient.

    **Forward pass:** :math:`S = \Theta(x)` (``x`` is ``U - threshold``).

    **Backward pass:** a box of width :math:`a` around the threshold with unit area:

    .. math::

        \frac{\partial S}{\partial x} = \frac{1}{a}\, \mathbb{1}\!\left[|x| < \tfrac{a}{2}\right]

    The paper uses :math:`a = 1`. Call it as ``Rectangular.apply(x, width)``, or
    through :func:`rectangular`, which gives the closure ``spike_grad=`` takes.

    Example::

        >>> x = torch.tensor([-0.3, 0.2, 0.8], requires_grad=True)
        >>> spk = Rectangular.apply(x, 1.0)
        >>> spk.sum().backward()
        >>> spk.tolist(), x.grad.tolist()
        ([0.0, 1.0, 1.0], [1.0, 1.0, 0.0])

    :param input_: :math:`x = U - U_{\rm thr}`
    :type input_: torch.Tensor
    :param width: the box width :math:`a > 0`
    :type width: float
    """

    @staticmethod
    def forward(ctx, input_, width):
        ctx.save_for_backward(input_)
        ctx.width = width
        return (input_ > 0).to(input_.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (input_,) = ctx.saved_tensors
        box = spec.surrogate_grad(input_, ctx.width, spec.surrogate_id("rectangular"))
        return grad_output * box.to(grad_output.dtype), None


def rectangular(width: float = 1.0):
    r"""Rectangular surrogate gradient enclosed with its width, for ``spike_grad``.

    .. math::

        \frac{\partial S}{\partial U} = \frac{1}{a}\,
        \mathbb{1}\!\left[|U - \vartheta| < \tfrac{a}{2}\right], \qquad a = \text{width}

    Example::

        >>> x = torch.tensor([-0.7, -0.2, 0.3, 0.6], requires_grad=True)
        >>> spk = rectangular(1.0)(x)
        >>> spk.sum().backward()
        >>> spk.tolist(), x.grad.tolist()
        ([0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0])

    :param width: the box width :math:`a > 0`. Defaults to 1.0 (the paper's value)
    :type width: float, optional
    :return: a function ``f(x)`` of :math:`x = U - \vartheta` returning the spikes
    :rtype: callable
    :raises ValueError: if ``width`` is not positive
    """
    if not width > 0:
        raise ValueError(f"rectangular surrogate needs width > 0, got {width}")

    def inner(x):
        return Rectangular.apply(x, width)

    # read by snntorch_ms.functional.spec.recognise_surrogate (the fused path)
    inner.surrogate_spec = ("rectangular", float(width))
    return inner
