"""The package's shape, as DESIGN.md section 3 sets it: layers that point one way,
and pieces small enough to read (no module over 600 lines, no function over 80)."""

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the import reader beside us
from test_upstream_ready import PACKAGE, _import_targets  # noqa: E402

#: What each first-level part of the package may import from the package (besides
#: itself): ``functional`` <- ``_neurons`` <- ``models``, ``energy`` <- ``train`` <-
#: ``cli``; ``models`` and ``energy`` side by side, not importing each other; the
#: neuron nothing above ``functional``; ``export`` inspects neurons, never the other
#: way round. ``errors`` is the one type every layer may raise.
ALLOWED = {
    "errors": set(),
    "functional": set(),
    "surrogate": {"functional"},
    "_neurons": {"functional", "surrogate"},
    "utils": {"_neurons", "functional"},
    "models": {"_neurons", "functional", "surrogate", "utils"},
    "energy": {"functional"},
    "data": {"errors"},
    "export": {"_neurons", "functional"},
    "convert": {"_neurons", "functional", "models", "utils"},
    "train": {"_neurons", "functional", "surrogate", "utils", "models", "energy", "data",
              "errors", "convert", "export"},
    "cli": {"train", "data", "energy", "models", "errors", "export", "convert", "utils",
            "_extras"},
    "_extras": {"errors", "data"},
    "__main__": {"cli"},
    "__init__": None,  # the package's front door re-exports every layer
}

#: Generated or kernel code that is long by nature (the issue exempts Triton kernels).
SIZE_EXEMPT = {"functional/fused/_triton_kernels.py"}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 0 else ""


def test_layers_point_one_way():
    offending = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        part = _part(path)
        if part not in ALLOWED:
            offending[part] = "a new part of the package: give it a layer in ALLOWED"
            continue
        allowed = ALLOWED[part]
        if allowed is None:
            continue
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        used = {t[1] for t in _import_targets(path.read_text(), rel) if len(t) > 1}
        above = used - allowed - {part, "__version__"}  # the version: a constant of the root
        if above:
            offending[str(path.relative_to(PACKAGE))] = sorted(above)
    assert offending == {}, f"imports against the layer order: {offending}"


def _function_lengths(source: str):
    """``(name, first line, lines)`` of every function, its docstring not counted (its
    signature is); decorators not counted."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines -= body[0].end_lineno - body[0].lineno + 1
            yield node.name, node.lineno, lines


def test_the_length_checker_counts_what_it_says():
    source = ("def f(a,\n      b):\n    '''doc\n\n    more doc'''\n    x = 1\n    return x\n\n"
              "class C:\n    def g(self):\n        return 2\n")
    assert list(_function_lengths(source)) == [("f", 1, 4), ("g", 10, 2)]


def test_modules_and_functions_stay_small():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE))
        if rel in SIZE_EXEMPT:
            continue
        source = path.read_text()
        n = len(source.splitlines())
        if n > MAX_MODULE_LINES:
            too_long.append(f"{rel}: {n} lines (module)")
        for name, line, lines in _function_lengths(source):
            if lines > MAX_FUNCTION_LINES:
                too_long.append(f"{rel}:{line} {name}: {lines} lines")
    assert too_long == [], "split these:\n" + "\n".join(too_long)
