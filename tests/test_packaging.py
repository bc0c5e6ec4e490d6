"""Packaging: what the package imports is what its metadata declares.

The metadata checked is the one the wheel will carry, computed from ``setup.cfg`` and
``pyproject.toml`` by the build backend (``build.util.project_wheel_metadata``), not
the possibly stale metadata of the editable install. ``make wheel-check`` then
checks the built wheel itself, installed alone, from outside the source tree
(``tools/smoke_wheel.py``, which shares the import scan).
"""

from __future__ import annotations

import configparser
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import smoke_wheel  # noqa: E402

build_util = pytest.importorskip("build.util", reason="the test extra installs 'build'")


@pytest.fixture(scope="module")
def metadata():
    # isolated=False: the backend of the test environment, no download
    return build_util.project_wheel_metadata(ROOT, isolated=False)


def test_every_third_party_import_is_declared(metadata):
    imports = smoke_wheel.third_party_imports(ROOT / "snntorch_ms")
    assert {"torch", "snntorch", "numpy"} <= set(imports)   # the scan sees the package
    missing = smoke_wheel.undeclared(imports, metadata.get_all("Requires-Dist"))
    assert missing == {}, f"imported by snntorch_ms but not declared in setup.cfg: {missing}"


def test_the_scan_catches_an_undeclared_import(tmp_path):
    # the check must fail when it should: a lazy import inside a function counts,
    # standard-library and relative imports do not
    (tmp_path / "mod.py").write_text(
        "import os, json\nfrom . import sibling\n"
        "def f():\n    import yaml\n    from sklearn.datasets import load_digits\n")
    imports = smoke_wheel.third_party_imports(tmp_path)
    assert set(imports) == {"yaml", "sklearn"}
    missing = smoke_wheel.undeclared(imports, ["scikit-learn; extra == 'train'"])
    assert set(missing) == {"yaml"}


def test_core_dependencies_are_not_optional(metadata):
    # the neuron itself must work after a plain `pip install snntorch-ms`
    core = {r.split(";")[0].strip() for r in metadata.get_all("Requires-Dist") if "extra ==" not in r}
    names = smoke_wheel.declared_distributions(core)
    assert {"torch", "snntorch", "numpy"} <= names


def _extras():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return {name: [line.strip() for line in value.strip().splitlines()]
            for name, value in cfg["options.extras_require"].items()}


def _tutorial_imports():
    """Top-level modules imported by the code cells of the tutorials and the docs."""
    import ast

    modules = set()
    sources = list((ROOT / "tutorials").glob("*.md")) + list((ROOT / "docs").glob("*.md"))
    for path in sources:
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), re.S):
            code = "\n".join(line for line in cell.splitlines()
                             if not line.startswith((":", "%", "!")))
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Import):
                    modules |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    # the Sphinx configuration and the extensions in docs/_ext
    local = {p.stem for p in (ROOT / "docs" / "_ext").glob("*.py")}
    modules |= set(smoke_wheel.third_party_imports(ROOT / "docs" / "_ext"))
    modules |= set(smoke_wheel.third_party_imports_of(ROOT / "docs" / "conf.py"))
    return {m for m in modules - local
            if m and m not in sys.stdlib_module_names and m != "snntorch_ms"}


def test_docs_extra_is_enough_to_build_the_docs(metadata):
    # `pip install .[docs]` then `make docs`: the tutorials' imports (matplotlib...)
    # and the Sphinx extensions must come with the docs extra, itself or through
    # the extras it names
    extras = _extras()
    assert "snntorch-ms[train]" in extras["docs"]
    docs_requires = [r for r in metadata.get_all("Requires-Dist")
                     if "extra ==" not in r or "'docs'" in r or '"docs"' in r
                     or "'train'" in r or '"train"' in r]
    missing = smoke_wheel.undeclared(_tutorial_imports(), docs_requires)
    assert missing == {}, f"the docs need modules the docs extra does not install: {missing}"
    # the Sphinx extensions and theme named in conf.py
    conf = (ROOT / "docs" / "conf.py").read_text()
    block = re.search(r"extensions = \[(.*?)\]", conf, re.S).group(1)
    named = {m.split(".")[0] for m in re.findall(r'"([\w.-]+)"', block)}
    named.add(re.search(r'html_theme = "(\w+)"', conf).group(1))
    local = {p.stem for p in (ROOT / "docs" / "_ext").glob("*.py")}
    missing = smoke_wheel.undeclared(named - local, docs_requires)
    assert missing == {}, f"conf.py uses extensions the docs extra does not install: {missing}"


def test_the_test_extra_has_the_tools_of_make_test():
    test = _extras()["test"]
    for tool in ("pytest", "build", "selenium"):
        assert any(line.split(">")[0].split("=")[0].strip() == tool for line in test), tool
    assert importlib.util.find_spec("build") is not None
