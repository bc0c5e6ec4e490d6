"""Optional dependencies, the extras that bring them, and one line when one is missing.

``pip install snntorch-ms`` installs the neuron, its functional core, the models and
the energy counter (torch, snntorch, numpy). The command line and the data loaders
need the ``train`` extra, NIR export the ``nir`` extra, the Triton kernels the
``triton`` extra (``setup.cfg``). A command that needs a module the install lacks
stops with a :class:`MissingExtraError` naming the package and the extra to install,
which the command line prints on one line (``tests/test_extras.py`` hides each module
and checks it).
"""

from __future__ import annotations

import importlib.util
from typing import Iterable, List, Optional

from .errors import UserError

#: import name -> (distribution, extra of ``setup.cfg`` that installs it)
EXTRA_OF = {
    "torchvision": ("torchvision", "train"),
    "tqdm": ("tqdm", "train"),
    "matplotlib": ("matplotlib", "train"),
    "sklearn": ("scikit-learn", "train"),
    "PIL": ("pillow", "train"),
    "nir": ("nir", "nir"),
    "nirtorch": ("nirtorch", "nir"),
    "triton": ("triton", "triton"),
}


class MissingExtraError(UserError, ModuleNotFoundError):
    """An optional dependency is not installed; the message names it and the extra
    that installs it (``pip install 'snntorch-ms[train]'``)."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a blocked import, or a module without a spec
        return False


def missing(modules: Iterable[str]) -> List[str]:
    """The modules of ``modules`` that cannot be imported, in order, once each."""
    return [m for m in dict.fromkeys(modules) if not _installed(m)]


def error(modules: Iterable[str], what: str) -> MissingExtraError:
    """The error for ``what`` (e.g. ``"snntorch-ms train"``) missing ``modules``."""
    modules = list(dict.fromkeys(modules))
    dists = ", ".join(EXTRA_OF.get(m, (m, None))[0] for m in modules)
    extras = sorted({EXTRA_OF[m][1] for m in modules if m in EXTRA_OF})
    hint = (f"pip install 'snntorch-ms[{','.join(extras)}]'" if extras
            else f"pip install {dists}")
    names = ", ".join(modules)
    return MissingExtraError(
        f"{what} needs {dists} (module{'s' if len(modules) > 1 else ''} {names}), which "
        f"this install lacks: {hint}", name=modules[0])


def require(modules: Iterable[str], what: str) -> None:
    """Raise :class:`MissingExtraError` for those of ``modules`` that are missing."""
    absent = missing(modules)
    if absent:
        raise error(absent, what)


def explain(err: BaseException, what: str) -> Optional[MissingExtraError]:
    """The :class:`MissingExtraError` behind an :class:`ImportError` raised while
    ``what`` ran (the error itself, or the one it was raised from), when the
    missing module is one of our optional dependencies; else ``None``."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        name = getattr(err, "name", None)
        if isinstance(err, ModuleNotFoundError) and name and name.split(".")[0] in EXTRA_OF:
            return error([name.split(".")[0]], what)
        err = err.__cause__ or err.__context__
    return None


def dataset_modules(dataset: str, recipe: str = "basic", train: bool = True) -> List[str]:
    """The optional modules that loading ``dataset`` needs (``train``: the training
    split with ``recipe``'s augmentation, which uses torchvision's transforms)."""
    from .data import dataset_info

    name = dataset_info(dataset).name
    needs = ["sklearn"] if name == "digits" else ["torchvision", "PIL"]
    if train and recipe == "paper":
        needs.append("torchvision")
    return needs
