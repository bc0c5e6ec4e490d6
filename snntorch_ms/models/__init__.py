r"""Models that take their neuron as an argument.

* ``"cnn-mixer"`` / ``"lstm-mixer"``: the paper's two networks
  (:class:`~snntorch_ms.models.mixers.MixerNet`; the paper's "ResNET-12F" and
  "VIT-12");
* ``"resnet19"``: ResNet-19 of the SNN literature
  (:class:`~snntorch_ms.models.resnet.ResNet19`);
* ``"vgg11"``: VGG-11 (:class:`~snntorch_ms.models.vgg.VGG11`);
* ``"convnet"``: a small 6-convolution VGG-style net, the quick default
  (:class:`~snntorch_ms.models.vgg.ConvNet`).

Neurons: ``"proj"`` (:class:`~snntorch_ms.ProjLeaky`), ``"leaky"``
(:class:`snntorch.Leaky`) or ``"relu"`` (the ANN twin), with the defaults of
:data:`~snntorch_ms.models.neurons.NEURON_DEFAULTS`.

Every model's ``forward(x)`` takes a batch ``[B, C, H, W]``, resets the model's
own neurons, runs ``model.timesteps`` steps on the same (direct-encoded) input
and returns the logits averaged over the steps,

.. math::

    \hat y = \frac{1}{T} \sum_{t=1}^{T} f_t(x).
"""

from __future__ import annotations

from typing import Optional

from torch import nn

from .base import SpikingModel
from .mixers import MixerBlock, MixerMLP, MixerNet, PatchMerging
from .token_mixers import CNNTokenMixer, LSTMTokenMixer, encode_input
from .neurons import NEURON_DEFAULTS, NEURONS, NeuronAdapter, make_neuron
from .resnet import BasicBlock, ResNet19
from .vgg import VGG, VGG11, ConvNet

__all__ = [
    "MODELS",
    "NEURONS",
    "NEURON_DEFAULTS",
    "build_model",
    "make_neuron",
    "NeuronAdapter",
    "SpikingModel",
    "MixerNet",
    "MixerBlock",
    "CNNTokenMixer",
    "LSTMTokenMixer",
    "MixerMLP",
    "PatchMerging",
    "encode_input",
    "ResNet19",
    "BasicBlock",
    "VGG",
    "VGG11",
    "ConvNet",
]

#: Names understood by :func:`build_model`.
MODELS = ("cnn-mixer", "lstm-mixer", "resnet19", "vgg11", "convnet")


def build_model(name: str, neuron: str = "proj", num_classes: int = 10, in_channels: int = 3,
                image_size=32, timesteps: int = 1, neuron_kwargs: Optional[dict] = None,
                **model_kwargs) -> nn.Module:
    r"""Build the model ``name`` with the neuron ``neuron``.

    ``neuron_kwargs`` override :data:`~snntorch_ms.models.neurons.NEURON_DEFAULTS`
    (``beta=0.5``, ``threshold=1.0``) and reach every spiking neuron of the
    model; ``model_kwargs`` go to the model class (e.g. ``depths``, ``dims``,
    ``windows``, ``encode``, ``spiking_mlp``, ``dropout`` for the mixers;
    ``width``, ``blocks``, ``lateral``, ``windows`` for the backbones).
    ``image_size`` fixes the map size of every layer, hence where windows fit.

    The model returns logits averaged over ``timesteps`` steps:

    .. math::

        \hat y = \frac{1}{T} \sum_{t=1}^{T} f_t(x)

    Example::

        >>> import torch
        >>> net = build_model("cnn-mixer", neuron="proj", num_classes=10, in_channels=1,
        ...                   image_size=28, depths=(1, 1, 1, 1), dims=(4, 8, 8, 8))
        >>> net(torch.rand(2, 1, 28, 28)).shape, net.timesteps
        (torch.Size([2, 10]), 1)

    :param name: one of :data:`MODELS`
    :type name: str
    :param neuron: ``"proj"``, ``"leaky"`` or ``"relu"``. Defaults to ``"proj"``
    :type neuron: str, optional
    :param num_classes: number of classes. Defaults to 10
    :type num_classes: int, optional
    :param in_channels: input channels. Defaults to 3
    :type in_channels: int, optional
    :param image_size: input size, ``int`` or ``(H, W)``. Defaults to 32
    :type image_size: int or tuple(int, int), optional
    :param timesteps: time steps :math:`T \geq 1`. Defaults to 1
    :type timesteps: int, optional
    :param neuron_kwargs: neuron keywords (see :func:`make_neuron`). Defaults to None
    :type neuron_kwargs: dict, optional
    :param model_kwargs: further keywords of the model class:
        :class:`~snntorch_ms.models.mixers.MixerNet` for the mixers,
        :class:`~snntorch_ms.models.resnet.ResNet19`,
        :class:`~snntorch_ms.models.vgg.VGG11` or
        :class:`~snntorch_ms.models.vgg.ConvNet` for the backbones
    :return: the model, a :class:`~snntorch_ms.models.base.SpikingModel`
    :rtype: torch.nn.Module
    :raises ValueError: for an unknown model or neuron name
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: expected one of {MODELS}")
    if neuron not in NEURONS:
        raise ValueError(f"unknown neuron={neuron!r}: expected one of {NEURONS}")
    common = dict(num_classes=num_classes, in_channels=in_channels, image_size=image_size,
                  neuron=neuron, neuron_kwargs=neuron_kwargs, timesteps=timesteps)
    if name == "cnn-mixer":
        return MixerNet("cnn", **common, **model_kwargs)
    if name == "lstm-mixer":
        return MixerNet("lstm", **common, **model_kwargs)
    if name == "resnet19":
        return ResNet19(**common, **model_kwargs)
    if name == "vgg11":
        return VGG11(**common, **model_kwargs)
    return ConvNet(**common, **model_kwargs)
