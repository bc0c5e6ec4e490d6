"""Where a run executes: processes (DDP under ``torchrun``), device, CPU threads,
random generators and their state, autocast, progress bars."""

from __future__ import annotations

import contextlib
import os
import random
import sys
from dataclasses import dataclass
from typing import Any, Dict, Optional

import numpy as np
import torch
from torch import nn

from ..data.seeding import mix
from .config import ConfigError

# documented API; the other functions serve the training package
__all__ = ["Dist", "resolve_device"]


@dataclass
class Dist:
    """This process's place in a ``torchrun`` job (``world`` 1 without one).

    Example::

        >>> Dist().main
        True
    """

    world: int = 1
    rank: int = 0
    local_rank: int = 0
    owns_group: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend)
        owns = True
    return Dist(dist.get_world_size(), dist.get_rank(), local, owns)


def resolve_device(name: str, dist_info: Optional[Dist] = None) -> torch.device:
    """The :class:`torch.device` for ``"auto"`` (CUDA if available), ``"cpu"``,
    ``"cuda"`` (this process's GPU under ``torchrun``) or ``"cuda:N"``; selects it.

    :raises ConfigError: CUDA asked for but not available

    Example::

        >>> resolve_device("cpu")
        device(type='cpu')
    """
    dist_info = dist_info or Dist()
    name = (name or "auto").lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} requested but CUDA is not available")
        if name == "cuda":
            name = f"cuda:{dist_info.local_rank if dist_info.world > 1 else torch.cuda.current_device()}"
        dev = torch.device(name)
        torch.cuda.set_device(dev)
        return dev
    return torch.device(name)


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    return mix(int(seed), int(epoch), int(rank), 0x5EED) >> 2


def seed_all(value: int) -> None:
    random.seed(value)
    np.random.seed(value % (2**32))
    torch.manual_seed(value)


def rng_state() -> Dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached"]))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        with contextlib.suppress(Exception):
            torch.cuda.set_rng_state_all(state["cuda"])


def choose_threads(requested: Optional[int]) -> int:
    """The CPU thread count of a run: ``requested`` if given, else torch's count at
    the start (:func:`torch.get_num_threads`), **whatever the load**. The thread
    count decides the order of floating-point reductions, so it is part of what a
    run computes; the load of the machine must not be."""
    if requested is not None:
        return int(requested)
    return torch.get_num_threads()


def busy_cpu() -> Optional[str]:
    """``"load average L on N cores"`` when the 1-minute load average is at least the
    core count (the machine is already busy), else ``None`` (also where the platform
    has no load average)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return None
    cores = os.cpu_count() or 1
    return f"load average {load:.1f} on {cores} cores" if load >= cores else None


def average_batchnorm_stats(model: nn.Module) -> None:
    """Average BatchNorm running statistics over the ranks (DDP leaves them per rank),
    so that every rank evaluates, and rank 0 saves, the same network."""
    import torch.distributed as dist

    world = dist.get_world_size()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            for buf in (module.running_mean, module.running_var):
                if buf is not None:
                    dist.all_reduce(buf)
                    buf.div_(world)


def autocast(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def use_bars(progress: bool, dist_info: Dist) -> bool:
    return bool(progress) and dist_info.main and sys.stderr.isatty()


def progress_bar(iterable, enabled: bool, desc: str):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, leave=False, dynamic_ncols=True)
