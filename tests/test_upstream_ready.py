"""The neuron and its functional core import nothing from the rest of the package
(models, training, data, energy, command line), so they could move into snntorch
as they are."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "snntorch_ms"
# what may travel with the neuron: its folder, the functional core, the surrogate
# helpers and the NIR export guard (which itself imports only torch, nir lazily)
CORE = {"_neurons", "functional", "surrogate", "export"}


def _import_targets(source: str, rel):
    """Every dotted name under ``snntorch_ms`` that ``source`` imports, as a tuple
    (``from .x import y`` gives both ``x`` and ``x.y``: y may be a module); ``rel``
    is the file's module path inside the package. Imports inside functions count."""
    package = ("snntorch_ms",) + tuple(rel[:-1])
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)] if node.level else ()
            target = base + tuple(node.module.split(".") if node.module else ())
            if not target or target[0] != "snntorch_ms":
                continue
            yield target
            for alias in node.names:
                yield target + (alias.name,)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = tuple(alias.name.split("."))
                if parts[0] == "snntorch_ms":
                    yield parts


def _internal_imports(source: str, rel):
    """The first-level package modules that ``source`` imports (``models``,
    ``functional``...)."""
    return {t[1] for t in _import_targets(source, rel) if len(t) > 1}


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


def _module_graph():
    """Edges between the package's modules (``__init__`` files left out), counting
    imports inside functions too."""
    modules = {("snntorch_ms",) + path.relative_to(PACKAGE).with_suffix("").parts: path
               for path in PACKAGE.rglob("*.py")}
    graph = {}
    for mod, path in modules.items():
        if mod[-1] == "__init__":
            continue
        targets = set(_import_targets(path.read_text(), mod[1:]))
        graph[mod] = {t for t in targets if t in modules and t != mod}
    return graph


def test_no_import_cycle_between_modules():
    graph = _module_graph()
    assert graph[("snntorch_ms", "functional", "fused", "triton")] >= {
        ("snntorch_ms", "functional", "fused", "_triton_kernels")}  # function-level imports
    cycles = []

    def visit(node, stack):
        for nxt in graph.get(node, ()):
            if nxt in stack:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif len(stack) < 12:
                visit(nxt, stack + [nxt])

    for start in graph:
        visit(start, [start])
    assert not cycles, "import cycles: " + "; ".join(
        " -> ".join(".".join(m[1:]) for m in c) for c in cycles[:5])
