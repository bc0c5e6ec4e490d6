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


def _module_graph():
    """Edges between the package's modules (``__init__`` files left out), counting
    imports inside functions too."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        modules[("snntorch_ms",) + rel] = path
    names = {m for m in modules}

    def resolve(parts):
        parts = tuple(parts)
        if parts in names and parts[-1] != "__init__":
            return parts
        return None

    graph = {}
    for mod, path in modules.items():
        if mod[-1] == "__init__":
            continue
        package = mod[:-1]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                else:
                    base = ()
                target = base + tuple(node.module.split(".") if node.module else ())
                if not target or target[0] != "snntorch_ms":
                    continue
                hit = resolve(target)
                if hit:
                    edges.add(hit)
                for alias in node.names:  # "from . import fused_triton"
                    hit = resolve(target + (alias.name,))
                    if hit:
                        edges.add(hit)
        graph[mod] = edges - {mod}
    return graph


def test_no_import_cycle_between_modules():
    graph = _module_graph()
    assert graph[("snntorch_ms", "functional", "fused")] >= {
        ("snntorch_ms", "functional", "fused_triton")}  # the graph sees function-level imports
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
