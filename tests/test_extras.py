"""Installs that say what is missing, and extras that hold what they are for.

* The core install (no extras) runs no command: each optional module a command
  needs, hidden as if not installed, gives one line naming the package and the
  extra to install, and exit status 2, never a traceback.
* The ``docs`` extra alone builds the docs: every module the build imports (its
  configuration, extensions and theme, the documented modules, the notebooks'
  imports and the offline link resolver's targets) comes from the core install or
  the ``docs`` extra. The modules of the other extras are hidden while the resolver
  links every reference of the sources.
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from snntorch_ms import _extras
from snntorch_ms.cli import main

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PROJECT = "snntorch-ms"

TINY = ["--epochs", "1", "--limit-train", "50", "--limit-test", "25", "--batch-size", "25",
        "--model-arg", "width=0.25", "--energy-images", "4", "--threads", "1"]


def _hidden_run(hidden, argv, cwd=REPO):
    """``snntorch-ms ARGV`` in a fresh interpreter where the modules ``hidden`` are
    not importable (``sys.modules[name] = None``: ``find_spec`` says None and an
    import raises ``ModuleNotFoundError``, as when the package is not installed)."""
    code = ("import sys\n"
            f"for name in {list(hidden)!r}:\n"
            "    sys.modules[name] = None\n"
            "from snntorch_ms.cli import main\n"
            f"sys.exit(main({list(argv)!r}))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def _one_line(proc, *words):
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "pip install 'snntorch-ms[train]'" in err, err
    for word in words:
        assert word in err, err
    return err


# -- the core install: one line naming the extra ----------------------------------------


@pytest.mark.parametrize("hidden,dist,extra_args", [
    (["sklearn"], "scikit-learn", []),                       # the default dataset, digits
    (["matplotlib"], "matplotlib", []),                      # curves.png, energy.png
    (["torchvision"], "torchvision", ["--dataset", "mnist"]),  # every other dataset
    (["torchvision"], "torchvision", ["--recipe", "paper"]),   # the paper's augmentation
    (["sklearn", "matplotlib", "tqdm", "torchvision", "PIL"], "scikit-learn, matplotlib", []),
])
def test_train_without_the_train_extra_says_which_extra(tmp_path, hidden, dist, extra_args):
    out = tmp_path / "run"
    proc = _hidden_run(hidden, ["train", "--out", str(out), "--no-progress", *TINY, *extra_args])
    _one_line(proc, f"needs {dist}", "snntorch-ms train")
    assert not out.exists()   # said before any work


def test_progress_bars_need_tqdm(tmp_path, monkeypatch):
    # bars are drawn on a terminal only: a stderr that is one, and tqdm hidden
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    for name in ("tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, name, None)
    assert main(["train", "--out", str(tmp_path / "run"), *TINY]) == 2
    line = err.getvalue().strip()
    assert line.splitlines() == [line] and "needs tqdm" in line
    assert "pip install 'snntorch-ms[train]'" in line
    assert not (tmp_path / "run").exists()


def test_eval_and_energy_without_the_train_extra(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--no-progress", *TINY]) == 0
    # the dataset is loaded inside the command: the error it raises becomes the line
    _one_line(_hidden_run(["sklearn"], ["eval", "--out", str(out)]),
              "needs scikit-learn", "snntorch-ms eval")
    _one_line(_hidden_run(["sklearn"], ["energy", "--out", str(out), "--images", "4"]),
              "needs scikit-learn", "snntorch-ms energy")
    _one_line(_hidden_run(["matplotlib"], ["energy", "--out", str(out), "--images", "4",
                                           "--plot", str(tmp_path / "e.png")]),
              "needs matplotlib", "snntorch-ms energy --plot")


def test_an_import_error_raised_from_a_missing_module_is_explained():
    try:
        try:
            import snntorch_ms_no_such_module  # noqa: F401
        except ModuleNotFoundError as inner:
            inner.name = "torchvision"
            raise ImportError("dataset 'mnist' needs torchvision") from inner
    except ImportError as err:
        explained = _extras.explain(err, "snntorch-ms train")
    assert explained is not None and "pip install 'snntorch-ms[train]'" in str(explained)
    assert _extras.explain(ImportError("something else"), "x") is None
    nir = _extras.error(["nirtorch"], "NIR export")
    assert "pip install 'snntorch-ms[nir]'" in str(nir) and isinstance(nir, ImportError)


# -- setup.cfg's extras ---------------------------------------------------------------------


def _normal(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _requirement_name(req: str) -> str:
    return _normal(re.match(r"\s*([A-Za-z0-9_.\-]+)", req).group(1))


def _extras_of_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    raw = {name: [line.strip() for line in value.splitlines() if line.strip()]
           for name, value in cfg["options.extras_require"].items()}
    core = {_requirement_name(r) for r in cfg["options"]["install_requires"].splitlines()
            if r.strip()}
    return core, raw


def _closure(extra: str, raw) -> set:
    """The distributions an extra installs (its own and those of the extras it names)."""
    out = set()
    for req in raw[extra]:
        inner = re.fullmatch(rf"{PROJECT}\[([\w,\s-]+)\]", req.replace(" ", ""))
        if inner:
            for name in inner.group(1).split(","):
                out |= _closure(name, raw)
        else:
            out.add(_requirement_name(req))
    return out


def _dist_of_module():
    """top-level import name -> normalised distribution names (installed ones)."""
    return {mod: {_normal(d) for d in dists}
            for mod, dists in importlib.metadata.packages_distributions().items()}


def test_extra_of_matches_setup_cfg():
    _, raw = _extras_of_setup_cfg()
    for module, (dist, extra) in _extras.EXTRA_OF.items():
        assert _normal(dist) in _closure(extra, raw), (module, dist, extra)
    # every optional dependency of the commands (train, nir, triton) has its entry
    named = {_normal(d) for d, _ in _extras.EXTRA_OF.values()}
    for extra in ("train", "nir", "triton"):
        assert _closure(extra, raw) <= named, extra


# -- the docs extra builds the docs ----------------------------------------------------------


def _imports_of(source: str) -> set:
    """Top-level names of the absolute imports in a piece of Python source."""
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _conf_settings():
    tree = ast.parse((DOCS / "conf.py").read_text())
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


def _code_cells(text: str):
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S):
        lines = [line for line in cell.splitlines()
                 if not line.lstrip().startswith(("%", "!", ":"))]
        yield "\n".join(lines)


def _docs_build_imports() -> set:
    """Every top-level module the docs build imports, found in its sources: conf.py
    and its local extensions, the extensions and theme it names, the code cells the
    build executes (tutorials and pages)."""
    settings = _conf_settings()
    local = {p.stem for p in (DOCS / "_ext").glob("*.py")}
    names = _imports_of((DOCS / "conf.py").read_text())
    for path in (DOCS / "_ext").glob("*.py"):
        names |= _imports_of(path.read_text())
    names |= {ext.split(".")[0] for ext in settings["extensions"]}
    names.add(settings["html_theme"])
    pages = list((REPO / "tutorials").glob("*.md")) + list(DOCS.glob("*.md"))
    for page in pages:
        for cell in _code_cells(page.read_text()):
            names |= _imports_of(cell)
    return names - local - {"snntorch_ms", "__future__"}


def test_the_docs_extra_holds_what_the_docs_build_imports():
    core, raw = _extras_of_setup_cfg()
    allowed = core | _closure("docs", raw)
    dists = _dist_of_module()
    outside = {}
    for name in sorted(_docs_build_imports()):
        if name in sys.stdlib_module_names:
            continue
        found = dists.get(name)
        assert found, f"the docs build imports {name!r}, which no installed package provides"
        if not found & allowed:
            outside[name] = sorted(found)
    assert not outside, (f"the docs build imports {outside}, which neither the core install "
                         "nor the docs extra installs: add them to docs in setup.cfg")


def _other_extras_modules() -> list:
    """Import names of the packages that only extras other than docs install."""
    core, raw = _extras_of_setup_cfg()
    allowed = core | _closure("docs", raw)
    others = set().union(*(_closure(e, raw) for e in raw)) - allowed
    dists = _dist_of_module()
    hidden = {mod for mod, found in dists.items() if found & others}
    hidden |= {d.replace("-", "_") for d in others}   # not installed: the usual name
    return sorted(hidden)


_ROLE = r"(?:py:)?(?:func|class|meth|mod|attr|exc|data|obj)"
_TARGETS = (re.compile(rf":{_ROLE}:`~?(?:[^`<]*<)?([\w.]+)>?`"),
            re.compile(rf"\{{{_ROLE}\}}`~?(?:[^`<]*<)?([\w.]+)>?`"))


def _reference_targets() -> list:
    files = [*(REPO / "snntorch_ms").rglob("*.py"), *DOCS.glob("*.md"),
             *(DOCS / "api").glob("*.rst"), *(REPO / "tutorials").glob("*.md")]
    found = set()
    for path in files:
        text = path.read_text()
        for pattern in _TARGETS:
            found.update(pattern.findall(text))
    return sorted(found)


def test_the_docs_build_needs_no_other_extra(tmp_path):
    """With the modules of the nir, triton and test extras hidden, every documented
    module imports and the offline resolver links every reference to torch,
    snntorch, Python and matplotlib names in the sources."""
    documented = sorted({m for page in [*(DOCS / "api").glob("*.rst"), *DOCS.glob("*.md")]
                         for m in re.findall(r"\.\. automodule:: ([\w.]+)", page.read_text())})
    hidden = _other_extras_modules()
    assert {"nir", "nirtorch"} <= set(hidden)
    code = f"""
import importlib, json, sys
for name in {hidden!r}:
    sys.modules[name] = None
sys.path.insert(0, {str(DOCS / "_ext")!r})
import external_links
failed = {{"modules": [], "links": []}}
for name in {documented!r}:
    try:
        importlib.import_module(name)
    except ImportError as err:
        failed["modules"].append(f"{{name}}: {{err}}")
for target in {_reference_targets()!r}:
    top = target.split(".")[0]
    if top in external_links.RULES or top in external_links.OPTIONAL:
        if external_links.external_url(target) is None:
            failed["links"].append(target)
print(json.dumps(failed))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert failed == {"modules": [], "links": []}, failed
