r"""The one-time-step training techniques, in one place: distillation from a teacher
(:mod:`~snntorch_ms.train.techniques.distill`), warm start from another run, e.g. at
more time steps (:mod:`~snntorch_ms.train.techniques.warmstart`), membrane batch norm
added to a network and folded away for inference
(:mod:`~snntorch_ms.train.techniques.membrane_bn`), and training the runs a technique
builds on first (:mod:`~snntorch_ms.train.techniques.prerequisites`). What each buys
is measured in ``docs/techniques.md``. Every public name is importable from here.

.. math::

    L = (1 - w)\, \mathrm{CE}(z, y) + w\, \tau^2\, \mathrm{KL}\big(\sigma(z_t / \tau)
        \,\|\, \sigma(z / \tau)\big)

(the distillation loss; the others are in their modules).

Example::

    >>> from snntorch_ms.train.techniques import add_membrane_bn, has_membrane_bn
    >>> from snntorch_ms.models import build_model
    >>> has_membrane_bn(add_membrane_bn(build_model("convnet", "leaky", in_channels=1,
    ...                                             image_size=8)))
    True
"""

from __future__ import annotations

from .distill import distillation_loss, load_teacher, weights_fingerprint
from .membrane_bn import MembraneBN, add_membrane_bn, fold_membrane_bn, has_membrane_bn
from .warmstart import run_cost, warm_start

__all__ = ["distillation_loss", "load_teacher", "weights_fingerprint", "warm_start",
           "run_cost", "MembraneBN", "add_membrane_bn", "fold_membrane_bn", "has_membrane_bn"]
