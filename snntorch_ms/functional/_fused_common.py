"""Small helpers shared by the fused math (:mod:`.fused`) and the Triton kernels'
launcher (:mod:`.fused_triton`), so that neither imports the other's privates."""

from __future__ import annotations

import math

import torch

HALF_PI = math.pi / 2


def proj_scale(name: str) -> float:
    """The projection's factor 2 (sincos, nested), folded into beta: exact, a power of two."""
    return 2.0 if name in ("sincos", "nested") else 1.0


def out_dtype(*tensors) -> torch.dtype:
    """The dtype the reference arithmetic promotes to: 0-dim parameters do not promote."""
    dtypes = [t.dtype for t in tensors if t is not None and t.dim() > 0]
    out = dtypes[0]
    for d in dtypes[1:]:
        out = torch.promote_types(out, d)
    return out
