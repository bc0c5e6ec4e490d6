"""Evaluation: loss and accuracy of a model on a loader, summed on the device and
read once per pass, and the test accuracy of a saved checkpoint."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .. import data as data_mod
from . import checkpoint as ckpt_mod
from . import runtime
from .config import TrainConfig, build_from_config  # noqa: F401 (the examples use them)
from .splits import load_sets

__all__ = ["evaluate", "evaluate_checkpoint"]


@torch.no_grad()
def _eval_sums(model: nn.Module, loader, device, amp: bool, progress: bool,
               desc: str) -> Tuple[float, int, int]:
    device = torch.device(device)
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    for x, y in runtime.progress_bar(loader, progress, desc):
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        with runtime.autocast(device, amp):
            out = model(x)
        out = out.float()
        sums[0] += F.cross_entropy(out, y, reduction="sum").to(torch.float64)
        sums[1] += (out.argmax(1) == y).sum()
        sums[2] += y.numel()
    model.train(was_training)
    loss_sum, correct, count = sums.tolist()  # the one read of the pass
    return loss_sum, int(correct), int(count)


def evaluate(model: nn.Module, loader, device="cpu", amp: bool = False,
             progress: bool = False, desc: str = "test") -> Tuple[float, float, int]:
    """Mean cross-entropy, accuracy in percent, and sample count of ``model`` on ``loader``.

    Runs in ``eval`` mode (restores the previous mode), without gradients.

    Example::

        >>> from snntorch_ms.data import load_dataset, make_loader, subset
        >>> net = build_from_config(TrainConfig(model_kwargs={"width": 0.25}))
        >>> loader = make_loader(subset(load_dataset("digits", train=False), 20), 10, train=False)
        >>> loss, acc, n = evaluate(net, loader)
        >>> n, 0 <= acc <= 100
        (20, True)
    """
    loss_sum, correct, count = _eval_sums(model, loader, device, amp, progress, desc)
    if count == 0:
        return float("nan"), float("nan"), 0
    return loss_sum / count, 100.0 * correct / count, count


def evaluate_checkpoint(path, device="auto", data_dir: Optional[str] = None,
                        limit_test: Optional[int] = None, batch_size: Optional[int] = None,
                        progress: bool = False) -> Dict[str, Any]:
    """Test accuracy of a checkpoint, on the run's own test set unless told otherwise.

    :param path: ``checkpoint.pt`` or its run folder.
    :param device: ``"auto"``, ``"cpu"``, ``"cuda"``...
    :param data_dir: where the dataset is (default: the run's ``data_dir``).
    :param limit_test: test subset size (default: the run's).
    :param batch_size: evaluation batch size (default: the run's).
    :returns: ``{"test_acc", "test_loss", "images", "epoch", "checkpoint"}``.

    Example::

        >>> evaluate_checkpoint("runs/digits-proj")["test_acc"]  # doctest: +SKIP
        95.26
    """
    dev = runtime.resolve_device(device)
    model, config, ckpt = ckpt_mod.load_trained_model(path, dev)
    if data_dir is not None:
        config.data_dir = data_dir
    if limit_test is not None:
        config.limit_test = limit_test
    _, test_set = load_sets(config, train=False)
    loader = data_mod.make_loader(test_set, batch_size or config.batch_size, train=False,
                                  seed=config.seed, pin_memory=dev.type == "cuda")
    loss, acc, n = evaluate(model, loader, dev, config.amp, progress=progress)
    return {"test_acc": acc, "test_loss": loss, "images": n, "epoch": int(ckpt["epoch"]),
            "epochs": int(config.epochs), "checkpoint": ckpt["path"]}
