"""Docstring checks over the whole package.

* Every ``>>>`` example in every module of ``snntorch_ms`` runs and prints what it
  says (the ``pytest --doctest-modules`` check, one test per module).
* Every public name (each module's ``__all__``) has a docstring with an example
  (``>>>`` or an ``Example`` section) and, unless it is listed below as math-free,
  its math in a ``.. math::`` block.
* Every public module has a page in the API reference (``docs/api/``).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path

import pytest

import snntorch_ms

DOCS_API = Path(__file__).resolve().parents[1] / "docs" / "api"

# Modules that need an optional dependency, skipped when it is missing.
OPTIONAL_DEPENDENCIES = ("triton", "nir", "nirtorch")

# Public names with no math to state: data handling, I/O, configuration, the
# command line, export guards, layout helpers. Everything else in an ``__all__``
# (neurons, functions on spikes and membranes, models, energy) must show its
# math in a ``.. math::`` block.
MATH_FREE_MODULES = {
    "snntorch_ms.data",        # datasets, loaders, augmentation
    "snntorch_ms.data.registry",  # dataset names, facts and errors
    "snntorch_ms.data.augment",   # crop and flip (KeyedMixUp states its math anyway)
    "snntorch_ms.data.datasets",  # dataset classes
    "snntorch_ms.data.download",  # downloads
    "snntorch_ms.data.load",      # load_dataset
    "snntorch_ms.data.loaders",   # subsets, sampler, loaders
    "snntorch_ms.data.sources.digits",  # the source readers
    "snntorch_ms.data.sources.mnist",
    "snntorch_ms.data.sources.cifar",
    "snntorch_ms.data.sources.cifar_images",
    "snntorch_ms.data.sources.tiny",
    "snntorch_ms.cli",         # the command line
    "snntorch_ms.export",      # NIR export guards
    "snntorch_ms._neurons._nir",  # the NIR export guard the neuron carries
    "snntorch_ms.errors",      # exception types
    "snntorch_ms.train.checkpoint",  # checkpoint I/O and resume
    "snntorch_ms.train.runtime",     # device, processes, generators
    "snntorch_ms.__main__",
}
MATH_FREE_NAMES = {
    "snntorch_ms.utils.spiking_neurons",          # lists modules
    "snntorch_ms.data.seeding.keyed_rng",         # seeds torch's generator for a block
    "snntorch_ms.models.base.to_pair",            # size helper
    "snntorch_ms.models.base.linear_channels_last",  # layout helper
    "snntorch_ms.models.neurons.schedule_windows",   # picks a window scheme by index
    "snntorch_ms.models.neurons.fits_windows",       # H, W >= 2
    "snntorch_ms.models.neurons.MapNeurons",         # hands out neurons in order
    "snntorch_ms.models.neurons.check_neuron_kwargs",  # validates keywords
    "snntorch_ms.train.config.TrainConfig",       # dataclass
    "snntorch_ms.train.config.ConfigError",       # exception
    "snntorch_ms.train.config.resolve_config",    # fills in recipe defaults
    "snntorch_ms.train.config.build_from_config",  # calls build_model
    "snntorch_ms.train.loop.train",               # the training loop (see its module docs)
    "snntorch_ms.train.evaluation.evaluate",      # accuracy and loss on a loader
    "snntorch_ms.train.evaluation.evaluate_checkpoint",  # I/O + evaluate
    "snntorch_ms.train.splits.load_sets",         # loads datasets
    "snntorch_ms.train.report.measure_model_energy",  # calls snntorch_ms.energy
    "snntorch_ms.functional.fused.config.FusedConfig",   # a named tuple of options
    "snntorch_ms.functional.fused.config.fused_unsupported",     # option check
    "snntorch_ms.functional.fused.backend.settings",     # a dict of switches
    "snntorch_ms.energy.report.EnergyReport",     # a report container
    "snntorch_ms.energy.report.LayerEnergy",      # a row of the report
    "snntorch_ms.energy.report.NeuronEnergy",     # a row of the report
    "snntorch_ms.energy.report.compare",          # a summary dict of two reports
    "snntorch_ms.energy.display.format_joules",   # text formatting of a number
    "snntorch_ms.energy.display.format_report",   # the report as a text table
    "snntorch_ms.energy.display.plot_energy",     # the report as a figure
    "snntorch_ms.energy.report.plot_energy",      # reads saved reports, then plots
}


def _all_module_names():
    names = [snntorch_ms.__name__]
    for info in pkgutil.walk_packages(snntorch_ms.__path__, prefix="snntorch_ms."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _all_module_names()


def _import(name: str) -> types.ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] in OPTIONAL_DEPENDENCIES:
            pytest.skip(f"{name} needs the optional package {err.name!r}")
        raise


def _public_objects():
    """``(qualified name, module name, object)`` for every public name, once per object."""
    seen, out = set(), []
    for modname in MODULES:
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError as err:
            if err.name and err.name.split(".")[0] in OPTIONAL_DEPENDENCIES:
                continue
            raise
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                continue  # submodules are checked as modules
            if not callable(obj):
                continue  # constants (tuples, dicts, strings): documented by #: comments
            home = getattr(obj, "__module__", modname) or modname
            key = (home, getattr(obj, "__qualname__", name))
            if key in seen:
                continue
            seen.add(key)
            out.append((f"{home}.{getattr(obj, '__qualname__', name)}", home, obj))
    return out


@pytest.mark.parametrize("modname", MODULES)
def test_doctests(modname):
    """The ``>>>`` examples of one module run and print what they show."""
    module = _import(modname)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    failures = []
    for test in finder.find(module, modname):
        runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)


PUBLIC = _public_objects()


def _doc(obj) -> str:
    return inspect.getdoc(obj) or ""


@pytest.mark.parametrize("qualname,home,obj", PUBLIC, ids=[q for q, _, _ in PUBLIC])
def test_public_docstring(qualname, home, obj):
    """A summary, an example, and the math unless the name is math-free."""
    doc = _doc(obj)
    problems = []
    if not doc.strip():
        problems.append("no docstring")
    if ">>>" not in doc and not re.search(r"\bExamples?\b", doc):
        problems.append("no example ('>>>' or an 'Example' section)")
    math_free = home in MATH_FREE_MODULES or qualname in MATH_FREE_NAMES
    if not math_free and ".. math::" not in doc:
        problems.append("no '.. math::' block (or list it in MATH_FREE_NAMES with a reason)")
    assert not problems, f"{qualname}: " + "; ".join(problems)


def _documented_modules():
    text = "\n".join(p.read_text() for p in DOCS_API.glob("*.rst"))
    text += "\n".join(p.read_text() for p in DOCS_API.parent.glob("*.md"))
    return set(re.findall(r"\.\. (?:auto)?module:: ([\w.]+)", text))


@pytest.mark.parametrize("modname", [m for m in MODULES
                                     if not any(part.startswith("_") for part in m.split("."))])
def test_module_has_api_page(modname):
    """Every public module is documented in docs/api (automodule or module directive)."""
    if modname.count(".") > 1 and modname.rsplit(".", 1)[0] in _documented_modules():
        # a submodule of a documented package may be documented through its package
        parent = _import(modname.rsplit(".", 1)[0])
        exported = set(getattr(parent, "__all__", ()))
        own = set(getattr(_import(modname), "__all__", ()))
        if own <= exported or modname in _documented_modules():
            return
    assert modname in _documented_modules(), (
        f"{modname} has no page in docs/api/: add an automodule directive for it")


# -- the tutorials as notebooks --------------------------------------------------------

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*.md"))


def _notebooks_ext():
    import sys

    sys.path.insert(0, str(DOCS_API.parent / "_ext"))
    pytest.importorskip("nbformat", reason="the docs extra installs nbformat")
    import notebooks

    return notebooks


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_starts_with_its_install_cell(path):
    """A downloaded notebook must install snntorch-ms itself: the first code cell
    installs from a source folder or a wheel (no public index yet), and the docs
    build does not run it."""
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", path.read_text(), re.S)
    assert cells, f"{path.name} has no code cells"
    first = cells[0]
    assert first.startswith(":tags: [skip-execution]"), first[:80]
    assert '%pip install "{SOURCE}[train]"' in first
    assert "source folder" in first and ".whl" in first
    assert not any("pip install" in c for c in cells[1:]), "only the first cell installs"


def test_notebook_markdown_has_no_myst_roles():
    notebooks = _notebooks_ext()
    source = ("See {class}`snntorch_ms.ProjLeaky`, {func}`~snntorch_ms.functional.cut_windows`, "
              "{meth}`forward <snntorch_ms.ProjLeaky.forward>`, {doc}`../reproducing`; "
              "code `{class}` stays, and so does $\\beta$.")
    out = notebooks.markdown_for_jupyter(source, {"../reproducing": "Reproducing the paper"})
    assert out == ("See `snntorch_ms.ProjLeaky`, `cut_windows()`, `forward`, "
                   "*Reproducing the paper*; code `{class}` stays, and so does $\\beta$.")


def test_every_role_of_the_tutorials_is_converted():
    notebooks = _notebooks_ext()
    for path in TUTORIALS:
        out = notebooks.markdown_for_jupyter(path.read_text())
        left = re.findall(r"\{(?:class|func|meth|mod|doc|attr|data)\}`", out)
        assert not left, f"{path.name}: {left}"
