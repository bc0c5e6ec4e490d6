"""The neuron and its functional core import nothing from the rest of the package
(models, training, data, energy, command line), so they could move into snntorch
as they are."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "snntorch_ms"
# what may travel with the neuron: its folder, the functional core, the surrogate
# helpers and the NIR export guard (which itself imports only torch, nir lazily)
CORE = {"_neurons", "functional", "surrogate", "export"}


def _internal_imports(source: str, rel):
    """The first-level package modules that ``source`` imports (``models``,
    ``functional``...); ``rel`` is the file's module path inside the package."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = list(rel[:-1])[: len(rel) - node.level] if node.level > 1 else list(rel[:-1])
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # "from .. import x" at the top: x is a first-level module
                    found.update(a.name for a in node.names)
                else:
                    found.add(parts[0])
            elif node.module and node.module.split(".")[0] == "snntorch_ms":
                parts = node.module.split(".")[1:]
                found.update([parts[0]] if parts else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "snntorch_ms" and len(parts) > 1:
                    found.add(parts[1])
    return found


def _core_files():
    for name in CORE:
        target = PACKAGE / name
        yield from (target.rglob("*.py") if target.is_dir() else [target.with_suffix(".py")])


def test_core_imports_only_core():
    offending = {}
    for path in _core_files():
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        outside = _internal_imports(path.read_text(), rel) - CORE
        if outside:
            offending[str(path.relative_to(PACKAGE))] = sorted(outside)
    assert offending == {}, f"the neuron core imports the rest of the package: {offending}"


def test_the_checker_sees_relative_and_absolute_imports():
    # the checker itself must catch what it is for
    source = ("from ..models import x\nimport snntorch_ms.train\nfrom . import projleaky\n"
              "from .. import energy\nfrom snntorch_ms.data import load_dataset\n")
    assert _internal_imports(source, ("_neurons", "probe")) == {
        "models", "train", "_neurons", "energy", "data"}
