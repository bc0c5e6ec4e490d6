"""Smoke test of an installed snntorch-ms, run from outside the source tree.

``make wheel-check`` builds the sdist and the wheel with ``python -m build`` (the
wheel from the sdist), installs the wheel with ``--no-deps`` into a fresh folder,
puts that folder in front of the test environment's packages and runs this script
from a temporary directory. It fails when the installed package is not the wheel's
(an editable install or the source tree shadowing it), when a module is missing
from the wheel, when a third-party module the package imports is not declared in
the wheel's metadata, when the wheel lacks its LICENSE, or when the basic
workflows break: ProjLeaky forward and
backward, ``convert_leaky``, the bundled digits set, and one short training run
through the ``snntorch-ms`` command.

Usage (what the Makefile runs)::

    PYTHONPATH=<wheel folder> SNNTORCH_MS_SOURCE=<source tree> python -P smoke_wheel.py

The import scan (:func:`third_party_imports`, :func:`undeclared`) is shared with
``tests/test_packaging.py``, which checks the project's metadata the same way.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata as md
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DIST = "snntorch-ms"
PACKAGE = "snntorch_ms"
# imported only when present, and said so where they are used
OPTIONAL_IMPORTS = ("triton", "nir", "nirtorch")


def third_party_imports(package_dir: Path) -> dict:
    """``{top-level module: [files]}`` for every absolute import of a module outside
    the standard library and the package, in every ``.py`` file under
    ``package_dir`` (imports inside functions too)."""
    found: dict = {}
    for path in sorted(Path(package_dir).rglob("*.py")):
        for top, files in third_party_imports_of(path).items():
            found.setdefault(top, []).extend(files)
    return found


def third_party_imports_of(path: Path) -> dict:
    """:func:`third_party_imports` of one file."""
    found: dict = {}
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in (PACKAGE, "__future__"):
                continue
            found.setdefault(top, []).append(Path(path).name)
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(requires) -> set:
    """Distribution names in ``Requires-Dist`` lines (any extra), normalised."""
    return {_normalise(re.match(r"\s*([A-Za-z0-9._-]+)", req).group(1)) for req in requires or ()}


def undeclared(imports, requires) -> dict:
    """``{module: distribution}`` for imported modules whose distribution is not
    declared (a module not installed here maps to a distribution of its own name)."""
    providers = md.packages_distributions()
    declared = declared_distributions(requires)
    missing = {}
    for module in sorted(imports):
        dists = providers.get(module, [module])
        if not any(_normalise(d) in declared for d in dists):
            missing[module] = dists[0]
    return missing


def main() -> int:
    source = Path(os.environ.get("SNNTORCH_MS_SOURCE", "/nonexistent")).resolve()
    import snntorch_ms

    where = Path(snntorch_ms.__file__).resolve()
    assert source not in where.parents, (
        f"snntorch_ms was imported from the source tree ({where}), not from the wheel")
    print(f"snntorch_ms {snntorch_ms.__version__} from {where.parent}")

    # metadata: version and the declared dependencies
    dist = md.distribution(DIST)
    assert Path(dist.locate_file("")).resolve() == where.parent.parent, (
        f"{DIST} metadata found at {dist.locate_file('')}, not beside the package")
    assert dist.version == snntorch_ms.__version__, (dist.version, snntorch_ms.__version__)
    missing = undeclared(third_party_imports(where.parent), dist.requires)
    assert not missing, f"imported but not declared in the wheel's metadata: {missing}"
    entry = {ep.name: ep.value for ep in dist.entry_points}
    assert entry.get("snntorch-ms") == "snntorch_ms.cli:main", entry
    # the licence the metadata names ships inside the wheel
    assert any(Path(f).name == "LICENSE" for f in (dist.files or ())), (
        "the wheel carries no LICENSE file")
    assert dist.metadata["License"] == "MIT" or "MIT" in (dist.metadata["License-Expression"]
                                                          or ""), dist.metadata["License"]

    # every module of the wheel imports (optional dependencies may be absent)
    count = 0
    for info in pkgutil.walk_packages(snntorch_ms.__path__, prefix=PACKAGE + "."):
        try:
            importlib.import_module(info.name)
            count += 1
        except ModuleNotFoundError as err:
            if (err.name or "").split(".")[0] not in OPTIONAL_IMPORTS:
                raise
    print(f"{count} modules import")

    # the neuron, the converter and the bundled data
    import snntorch as snn
    import torch

    from snntorch_ms import ProjLeaky, convert_leaky
    from snntorch_ms.data import load_dataset

    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    spk, mem = ProjLeaky(0.5)(x)
    (spk.sum() + mem.sum()).backward()
    assert spk.shape == mem.shape == x.shape and x.grad is not None
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1),
                              snn.Leaky(0.5, init_hidden=True))
    convert_leaky(net, torch.rand(1, 1, 8, 8))
    assert isinstance(net[1], ProjLeaky) and net[1].windows == "quad"
    image, label = load_dataset("digits", train=False)[0]
    assert tuple(image.shape) == (1, 16, 16) and isinstance(label, int)

    # the command line, installed by the wheel's entry point
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-P", "-m", PACKAGE, "train", "--epochs", "1",
               "--limit-train", "256", "--limit-test", "128", "--energy-images", "8",
               "--no-progress", "--out", str(out)]
        subprocess.run(cmd, check=True, cwd=tmp, timeout=600)
        assert (out / "metrics.json").is_file() and (out / "checkpoint.pt").is_file()
    print("smoke test of the installed wheel: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
