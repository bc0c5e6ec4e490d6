r"""Training, evaluation and energy accounting behind the ``snntorch-ms`` command.

A package of one module per concept: :mod:`~snntorch_ms.train.config` (the
settings, the recipes, building the model), :mod:`~snntorch_ms.train.loop` (the
epoch loop), :mod:`~snntorch_ms.train.splits` (the run's data splits and their
loaders), :mod:`~snntorch_ms.train.evaluation` (accuracy and loss of a model or a
checkpoint), :mod:`~snntorch_ms.train.checkpoint` (checkpoints and
resume), :mod:`~snntorch_ms.train.runtime` (device, DDP, threads, random
generators), :mod:`~snntorch_ms.train.report` (metrics, energy, plots), and the
one-time-step techniques in :mod:`~snntorch_ms.train.techniques` (distillation
from a teacher, warm start from another run, membrane batch norm and its fold); see
``docs/techniques.md``. Every
public name is also importable from ``snntorch_ms.train`` itself.

The functional core of :mod:`snntorch_ms.cli`: build a :class:`TrainConfig`,
call :func:`train`, read the returned metrics (also written to
``<out>/metrics.json``).

Example::

    >>> from snntorch_ms.train import TrainConfig, train
    >>> cfg = TrainConfig(dataset="digits", epochs=1, limit_train=64, limit_test=32,
    ...                   model_kwargs={"width": 0.25}, out="/tmp/snntorch-ms-doc")
    >>> metrics = train(cfg, progress=False, log=None)  # doctest: +SKIP
    >>> 0 <= metrics["test_acc"] <= 100  # doctest: +SKIP
    True

Recipes
-------

Values a :class:`TrainConfig` leaves at ``None`` come from its ``recipe``
(:func:`resolve_config` fills them in):

========================= ===================================== =====================================
setting                   ``"basic"`` (default)                 ``"paper"`` (Yao et al., ACML 2023)
========================= ===================================== =====================================
optimizer                 Adam, lr 2e-3, no weight decay        SGD, momentum 0.9, lr 0.05, wd 2e-5
schedule (per step)       cosine to 0, no warm-up               linear warm-up, then cosine to 0
warm-up                   0                                     ``min(5, epochs // 10)`` epochs
augmentation              none                                  pad-and-crop + flip (:mod:`~snntorch_ms.data`)
mixup (Beta alpha)        0                                     0.1
dropout                   0                                     0.1
gradient clip (norm)      none                                  20
loss                      cross-entropy                         cross-entropy
epochs                    digits 12, (fashion-)MNIST 10,        CIFAR 300, Tiny-ImageNet 250,
                          others 50                             others 100
batch size                digits 64, others 128                 128
========================= ===================================== =====================================

``"basic"`` is the quick recipe: Adam learns the small default networks in a
few epochs without tuning (the default digits run reaches about 98 % in 12
epochs on two CPU cores). ``"paper"`` is the recipe of the paper; it does not
state the warm-up length or the batch size, so those are ours.

Reproducibility and resuming
----------------------------

At the start of epoch ``e`` the Python, NumPy and torch generators are seeded
from ``(seed, e, rank)``, and the data loaders (:func:`~snntorch_ms.data.make_loader`)
draw their order and augmentation from ``(seed, e)``. The checkpoint written
after every epoch (atomically: ``checkpoint.pt.tmp`` then :func:`os.replace`)
holds the model, optimizer, scheduler, history, generator states and the
config, so a run resumed with ``resume=True`` replays exactly the epochs it
missed: on the CPU a killed-and-resumed run ends bit-identical to an
uninterrupted one (same machine and torch; the thread count, which changes the
last bits, is recorded and reused). On CUDA, cuDNN's nondeterministic kernels
make a resumed run statistically, not bitwise, equivalent. A checkpoint that cannot be read, or one made with a
different configuration, raises :class:`CheckpointError`; it is never replaced
silently.

Energy
------

At the end, :func:`snntorch_ms.energy.measure_energy` runs the trained network
on ``energy_images`` test images (per-layer operations, firing rates, joules),
and runs its ANN twin (the same model built with ``neuron="relu"``) on the same
images. The twin is not trained: an ANN bills every synaptic operation as a
multiply-accumulate whatever its weights, so its energy does not depend on
them. ``energy_ratio`` is ``ann_energy_j / energy_j``.
"""

from __future__ import annotations

from .checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint, load_trained_model
from .config import (OPTIMIZERS, RECIPE_DEFAULTS, ConfigError, TrainConfig, build_from_config,
                     resolve_config)
from .loop import (evaluate, evaluate_checkpoint, load_sets, load_validation, make_optimizer,
                   make_scheduler, mixup_loss, train, train_one_epoch)
from .report import METRICS_NAME, measure_model_energy
from .techniques import distillation_loss, load_teacher, run_cost, warm_start, weights_fingerprint

__all__ = [
    "TrainConfig",
    "ConfigError",
    "CheckpointError",
    "RECIPE_DEFAULTS",
    "resolve_config",
    "build_from_config",
    "train",
    "train_one_epoch",
    "mixup_loss",
    "evaluate",
    "load_checkpoint",
    "load_trained_model",
    "evaluate_checkpoint",
    "measure_model_energy",
    "make_optimizer",
    "make_scheduler",
    "load_sets",
    "load_validation",
    "distillation_loss",
    "load_teacher",
    "weights_fingerprint",
    "warm_start",
    "run_cost",
]
