"""The synaptic layers' side of :mod:`snntorch_ms.energy.counting`: which modules are
synaptic layers, their dense operation counts where torch's FLOP counter counts
nothing (recurrent layers), the exact event count of a convolution on a binary (or
spike-count weighted) input, and the bookkeeping that follows a multi-level spike
tensor (a ``condense="mean"`` output) through pooling and reshaping to the layer that
reads it."""

from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__: list = []  # the counter's rules: reached through count_operations

CONV_FUNCS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def layer_kind(module: nn.Module) -> Optional[str]:
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        return f"conv{len(module.kernel_size)}d"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, nn.RNNBase) and module.mode in RNN_GATES:
        return {"LSTM": "lstm", "GRU": "gru"}.get(module.mode, "rnn")
    return None


def is_binary(x: torch.Tensor) -> bool:
    """True when every element of ``x`` is 0 or one common value ``v``."""
    if x.numel() == 0:
        return True
    if x.dtype == torch.bool:
        return True
    vmax, vmin = x.max(), x.min()
    v = vmax if bool(vmax != 0) else vmin
    return bool(((x == 0) | (x == v)).all())


def tensor_key(x: torch.Tensor) -> tuple:
    # a view (flatten, reshape) of a tracked tensor shares its data pointer and size
    return (x.data_ptr(), x.numel(), x.dtype)


def graded_counts(graded: Dict[tuple, tuple], x: torch.Tensor) -> Optional[torch.Tensor]:
    """The spike counts of a tracked multi-level spike tensor (or a view of it),
    shaped like ``x``; None for any other tensor."""
    if not graded or not isinstance(x, torch.Tensor) or x.numel() == 0:
        return None
    hit = graded.get(tensor_key(x))
    return None if hit is None else hit[1].reshape(x.shape)


MAX_POOLS = {nn.MaxPool1d: F.max_pool1d, nn.MaxPool2d: F.max_pool2d, nn.MaxPool3d: F.max_pool3d}


def carry_counts(module: nn.Module, x: torch.Tensor, out: torch.Tensor,
                  counts: torch.Tensor) -> Optional[torch.Tensor]:
    """The spike counts of ``out`` when ``module`` passes ``x``'s elements on: max
    pooling (the counts of the elements it picks) or a module whose output equals its
    input (dropout at inference, identity, flatten, a pooling to the same size)."""
    pool = MAX_POOLS.get(type(module))
    if pool is not None:
        _, idx = pool(x, module.kernel_size, module.stride, module.padding, module.dilation,
                      ceil_mode=module.ceil_mode, return_indices=True)
        if idx.shape != out.shape:
            return None
        flat = counts.flatten(-idx.dim() + 2) if idx.dim() > 2 else counts
        return flat.gather(-1, idx.flatten(2)).reshape(out.shape)
    if out.numel() == x.numel() and torch.equal(out.reshape(-1), x.reshape(-1)):
        return counts.reshape(out.shape)
    return None


def conv_acs(module: nn.modules.conv._ConvNd, x: torch.Tensor,
              weights: Optional[torch.Tensor] = None) -> int:
    """Exact count of (output element, kernel tap) pairs reading a non-zero input;
    with ``weights`` (spike counts per input element), each pair counts that many."""
    nd = len(module.kernel_size)
    if x.dim() == nd + 1:  # unbatched
        x = x.unsqueeze(0)
        weights = weights.unsqueeze(0) if weights is not None else None
    groups = module.groups
    mask = (x != 0).to(torch.float32) if weights is None else weights.to(torch.float32)
    b, c = mask.shape[:2]
    spatial = mask.shape[2:]
    mask = mask.reshape(b, groups, c // groups, *spatial).sum(2)  # [B, groups, *S]
    padding = module.padding
    if module.padding_mode != "zeros":
        mask = F.pad(mask, module._reversed_padding_repeated_twice, mode=module.padding_mode)
        padding = 0
    ones = torch.ones(groups, 1, *module.kernel_size, dtype=mask.dtype, device=mask.device)
    with torch.autocast(device_type=mask.device.type, enabled=False):
        taps = CONV_FUNCS[nd](mask, ones, None, module.stride, padding, module.dilation, groups)
    per_group = module.out_channels // groups
    return int(round(float(taps.sum(dtype=torch.float64)))) * per_group


def rnn_ops(module: nn.RNNBase, x) -> int:
    if isinstance(x, nn.utils.rnn.PackedSequence):
        tokens = int(x.data.shape[0])
    elif x.dim() == 2:  # unbatched [L, I]
        tokens = int(x.shape[0])
    else:
        tokens = int(x.shape[0]) * int(x.shape[1])
    gates = RNN_GATES[module.mode]
    h = module.hidden_size
    p = getattr(module, "proj_size", 0) or 0
    r = p if p > 0 else h
    dirs = 2 if module.bidirectional else 1
    per_token = 0
    for layer in range(module.num_layers):
        in_size = module.input_size if layer == 0 else r * dirs
        per_dir = gates * h * (in_size + r) + (h * p if p > 0 else 0)
        per_token += dirs * per_dir
    return tokens * per_token
