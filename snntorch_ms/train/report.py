"""Reporting a run: the lines it prints, the energy of the trained network and of
its ANN twin, ``metrics.json`` and the plots."""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from torch import nn

from ..energy import format_joules, plot_energy
from .config import TrainConfig, build_from_config

__all__ = ["measure_model_energy"]

METRICS_NAME = "metrics.json"


def test_batch(test_set, n: int) -> torch.Tensor:
    n = min(int(n), len(test_set))
    return torch.stack([test_set[i][0] for i in range(n)])


def measure_model_energy(model: nn.Module, config: TrainConfig, inputs: torch.Tensor,
                         convention: str = "spike-driven") -> Dict[str, Any]:
    """Energy of ``model`` and of its untrained ANN twin on ``inputs``.

    Returns ``{"report", "ann_report", "energy_j", "ann_energy_j", "energy_ratio",
    "firing_rates"}``, energies in joules **per image** (the report's
    ``per_image_j``). The twin is ``build_from_config(config, neuron="relu")``;
    its operation count does not depend on its weights. A model with a membrane batch
    norm is measured folded (:func:`~snntorch_ms.train.techniques.membrane_bn.fold_membrane_bn`), as it
    is deployed.

    Example::

        >>> cfg = TrainConfig(model_kwargs={"width": 0.25})
        >>> r = measure_model_energy(build_from_config(cfg), cfg, torch.rand(4, 1, 16, 16))
        >>> r["ann_energy_j"] > 0
        True
    """
    from ..energy import measure_energy

    was_training = model.training
    model.eval()
    device = next(iter(model.parameters()), torch.empty(0)).device
    inputs = inputs.to(device)
    rng = torch.get_rng_state()
    try:
        with torch.no_grad():
            # a membrane batch norm is folded into thresholds for inference: price that
            from .techniques.membrane_bn import fold_membrane_bn, has_membrane_bn

            if has_membrane_bn(model):
                model(inputs[:1])  # the neurons learn their input's shape
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    deployed = fold_membrane_bn(model)
            else:
                deployed = model
            report = measure_energy(deployed, inputs, convention=convention)
            ann = build_from_config(config, neuron="relu").to(device).eval()
            ann_report = measure_energy(ann, inputs, convention=convention)
    finally:
        torch.set_rng_state(rng)
        model.train(was_training)
    snn_j, ann_j = float(report.per_image_j), float(ann_report.per_image_j)
    return {
        "report": report,
        "ann_report": ann_report,
        "energy_j": snn_j,
        "ann_energy_j": ann_j,
        "energy_ratio": ann_j / snn_j if snn_j > 0 else float("inf"),
        "firing_rates": {str(k): float(v) for k, v in dict(report.firing_rates).items()},
    }


def plot_curves(history: List[Dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, label in zip(axes, ("loss", "acc"), ("cross-entropy", "accuracy (%)")):
        ax.plot(epochs, [h[f"train_{metric}"] for h in history], "o-", label="train")
        ax.plot(epochs, [h[f"test_{metric}"] for h in history], "s-", label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def json_default(obj):
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


def start_line(c: TrainConfig, model: nn.Module, train_set, test_set, device, world: int) -> str:
    n_params = sum(p.numel() for p in model.parameters())
    return (f"training {c.model} ({c.neuron}, T={c.timesteps}, {n_params / 1e6:.2f} M parameters) "
            f"on {c.dataset}: {len(train_set)} train / {len(test_set)} test images, {c.epochs} "
            f"epochs, recipe {c.recipe}, device {device}" + (f" x {world}" if world > 1 else ""))


def epoch_line(entry: Dict[str, Any], epochs: int) -> str:
    return (f"epoch {entry['epoch']}/{epochs}  train loss {entry['train_loss']:.3f} acc "
            f"{entry['train_acc']:.1f} %  test loss {entry['test_loss']:.3f} acc "
            f"{entry['test_acc']:.2f} %  lr {entry['lr']:.2e}  {entry['time_s']:.1f} s")


def final_metrics(c: TrainConfig, model: nn.Module, test_set, history: List[Dict[str, Any]],
                  device, world: int, t_start: float):
    """``(metrics, energy)`` of a finished run: ``metrics.json``'s content, and the
    energy measurement (reports included) for the plot."""
    from .. import __version__

    final = history[-1]
    images = test_batch(test_set, c.energy_images)
    energy = measure_model_energy(model, c, images, "spike-driven")
    energy["images"] = int(images.shape[0])
    paper = measure_model_energy(model, c, images, "paper")
    train_s = sum(h["time_s"] for h in history)
    return {
        "test_acc": final["test_acc"],
        "test_loss": final["test_loss"],
        "best_test_acc": max(h["test_acc"] for h in history),
        "epochs": len(history),
        "history": history,
        "firing_rates": energy["firing_rates"],
        "energy_convention": "spike-driven",
        "energy_images": energy["images"],
        "energy_j": energy["energy_j"],
        "ann_energy_j": energy["ann_energy_j"],
        "energy_ratio": energy["energy_ratio"],
        "energy_batch_j": float(energy["report"].total_j),
        "ann_energy_batch_j": float(energy["ann_report"].total_j),
        "energy_report": energy["report"].to_dict(),
        "ann_energy_report": energy["ann_report"].to_dict(),
        "paper_convention": {
            "energy_j": paper["energy_j"],
            "ann_energy_j": paper["ann_energy_j"],
            "energy_ratio": paper["energy_ratio"],
        },
        "config": c.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "timing": {
            "train_s": train_s,
            "epoch_mean_s": train_s / max(1, len(history)),
            "process_s": time.time() - t_start,
        },
        # what the numbers depend on besides the config: thread count, device, torch
        "threads": torch.get_num_threads(),
        "device": str(device),
        "world_size": world,
        "torch_version": str(torch.__version__),
        "numpy_version": str(np.__version__),  # the augmentation draws come from its PCG64
        "snntorch_ms_version": __version__,
        # which copy of the package ran (a pinned worktree, an install, a checkout)
        "snntorch_ms_path": str(Path(__file__).resolve().parents[1]),
    }, energy


def write_run(out: Path, c: TrainConfig, metrics: Dict[str, Any], energy: Dict[str, Any]) -> None:
    """``metrics.json`` (atomically), ``curves.png`` and ``energy.png`` into ``out``."""
    tmp = out / (METRICS_NAME + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, default=json_default))
    os.replace(tmp, out / METRICS_NAME)
    title = f"{c.model} / {c.neuron} / T={c.timesteps} on {c.dataset}"
    plot_curves(metrics["history"], out / "curves.png", title)
    plot_energy(energy, out / "energy.png", title)


def summary_line(metrics: Dict[str, Any], out: Optional[Path]) -> str:
    return (f"test accuracy {metrics['test_acc']:.2f} %  |  energy "
            f"{format_joules(metrics['energy_j'])}/image, ANN twin "
            f"{format_joules(metrics['ann_energy_j'])}/image: {metrics['energy_ratio']:.2f}x less "
            f"energy than the ANN  |  training {metrics['timing']['train_s']:.0f} s"
            + (f"  |  results in {out}/" if out else ""))
