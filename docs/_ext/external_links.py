"""Links to names of torch, snntorch, Python and matplotlib without intersphinx.

Intersphinx downloads each project's ``objects.inv`` when the docs are built, which
fails a ``-W`` build on a machine without internet. This extension resolves the same
cross-references offline instead: a ``missing-reference`` handler turns a Python
reference that Sphinx could not resolve into a link, in this order:

1. **Our own names, written relative or through a re-export.** ``:func:`make_neuron```
   inside :mod:`snntorch_ms.models.mixers`, or ``snntorch_ms.convert_leaky``: the
   name is imported in the context of the reference, and the object is looked up
   among the documented objects (by identity, then by its defining module and
   qualified name). This is what turns a dead ``make_neuron`` into a link.
2. **Names of other projects**, mapped to their upstream documentation by URL rules
   (:data:`RULES`): the name as written, or the public name of the object when
   autodoc writes its private home (``torch.nn.modules.module.Module`` is linked as
   ``torch.nn.Module``, ``snntorch._neurons.leaky.Leaky`` as ``snntorch.Leaky``).

Why not ``sphinx.ext.extlinks``: it needs new roles (``:torch:`...```) in every
docstring, and their targets would never be checked. With this handler docstrings
keep the standard roles (``:class:`torch.nn.Module```), which intersphinx would also
resolve if the docs are ever built online, and every reference that resolves
nowhere is an error (``nitpicky = True`` in ``conf.py``, under ``-W``).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Optional

from docutils import nodes
from sphinx.util import logging

LOG = logging.getLogger(__name__)

PYTORCH = "https://docs.pytorch.org/docs/stable/"
SNNTORCH = "https://snntorch.readthedocs.io/en/latest/"
PYTHON = "https://docs.python.org/3/library/"
MATPLOTLIB = "https://matplotlib.org/stable/api/"

# pages of the PyTorch documentation that hold whole modules or several objects
_TORCH_PAGES = {
    "torch": "torch.html",
    "torch.nn": "nn.html",
    "torch.nn.functional": "nn.functional.html",
    "torch.autograd": "autograd.html",
    "torch.optim": "optim.html",
    "torch.optim.lr_scheduler": "optim.html",
    "torch.utils.data": "data.html",
    "torch.utils.data.distributed": "data.html",
    "torch.Tensor": "tensors.html",
    "torch.device": "tensor_attributes.html",
    "torch.dtype": "tensor_attributes.html",
}
# snntorch documents every neuron on a page of its own, under its private path
_SNNTORCH_NEURONS = ("Leaky", "RLeaky", "Synaptic", "RSynaptic", "Lapicque", "Alpha",
                     "SLSTM", "SConv2dLSTM")
_SNNTORCH_MODULES = ("surrogate", "utils", "functional", "backprop", "spikegen",
                     "spikeplot")


def _torch_url(name: str, obj) -> str:
    if name in _TORCH_PAGES and not (inspect.isclass(obj) and name.count(".") > 1):
        page = _TORCH_PAGES[name]
        return PYTORCH + page + ("" if inspect.ismodule(obj) else f"#{name}")
    module = name.rsplit(".", 1)[0]
    if module in ("torch.utils.data", "torch.utils.data.distributed"):
        return PYTORCH + f"data.html#{name}"
    # a method or attribute of a class: the class's page, at the member's anchor
    owner = name.rsplit(".", 1)[0]
    owner_obj = _import(owner)
    if inspect.isclass(owner_obj):
        if owner == "torch.Tensor":
            return PYTORCH + f"generated/{name}.html"
        return PYTORCH + f"generated/{owner}.html#{name}"
    return PYTORCH + f"generated/{name}.html"


def _snntorch_url(name: str, obj) -> str:
    parts = name.split(".")
    if len(parts) == 2 and parts[1] in _SNNTORCH_NEURONS:
        low = parts[1].lower()
        return SNNTORCH + f"snn.neurons_{low}.html#snntorch._neurons.{low}.{parts[1]}"
    if len(parts) >= 2 and parts[1] in _SNNTORCH_MODULES:
        page = SNNTORCH + f"snntorch.{parts[1]}.html"
        return page if len(parts) == 2 else page + f"#{name}"
    return SNNTORCH + "snntorch.html"


def _python_url(name: str, obj) -> str:
    module = name if inspect.ismodule(obj) else name.rsplit(".", 1)[0]
    page = PYTHON + f"{module.split('.')[0]}.html"
    return page if inspect.ismodule(obj) else page + f"#{name}"


def _torchvision_url(name: str, obj) -> str:
    if inspect.ismodule(obj):
        return "https://docs.pytorch.org/vision/stable/index.html"
    return f"https://docs.pytorch.org/vision/stable/generated/{name}.html"


def _matplotlib_url(name: str, obj) -> str:
    return MATPLOTLIB + f"_as_gen/{name}.html"


#: ``(top-level package, URL rule)``: a rule maps a public dotted name and its object
#: to a page of that package's documentation.
RULES = {
    "torch": _torch_url,
    "snntorch": _snntorch_url,
    "torchvision": _torchvision_url,
    "matplotlib": _matplotlib_url,
    "os": _python_url,
    "json": _python_url,
    "pathlib": _python_url,
    "typing": _python_url,
    "collections": _python_url,
    "dataclasses": _python_url,
    "argparse": _python_url,
}
#: optional dependencies, which may be absent when the docs are built: one page each
OPTIONAL = {"triton": "https://triton-lang.org/main/index.html"}
#: modules of other projects that import an optional dependency of ours
#: (``snntorch.export_nir`` and ``import_nir`` import ``nir`` and ``nirtorch``, the
#: ``nir`` extra): their names are linked by their URL rule without being imported,
#: so that the ``docs`` extra alone builds the docs (``tests/test_extras.py``)
BY_NAME = ("snntorch.export_nir", "snntorch.import_nir")


def _import(name: str):
    """The object a dotted name points to, or None."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:  # noqa: BLE001 - any failure means "not this prefix"
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _is_public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def public_name(name: str, obj) -> str:
    """The shortest dotted name under which ``obj`` is reachable, which is the one
    upstream documents (``torch.nn.modules.module.Module`` -> ``torch.nn.Module``,
    ``snntorch._neurons.leaky.Leaky`` -> ``snntorch.Leaky``); ``name`` if none is."""
    short = getattr(obj, "__name__", None) or name.rsplit(".", 1)[-1]
    parts = name.split(".")[:-1]
    for cut in range(1, len(parts) + 1):
        prefix = ".".join(parts[:cut])
        if _is_public(prefix) and getattr(_import(prefix), short, None) is obj:
            return f"{prefix}.{short}"
    return name


def external_url(name: str) -> Optional[str]:
    """The upstream documentation URL of a dotted name of another project, or None."""
    top = name.split(".")[0]
    if top in OPTIONAL:
        return OPTIONAL[top]
    if top not in RULES:
        return None
    if any(name == m or name.startswith(m + ".") for m in BY_NAME):
        return RULES[top](name, None)
    obj = _import(name)
    if obj is None:
        return None
    public = public_name(name, obj)
    return RULES[top](public, obj)


# -- our own names ------------------------------------------------------------------


def _documented(env) -> dict:
    """``id(object) -> documented name`` for every object of the Python domain."""
    cache = getattr(env, "_snntorch_ms_documented", None)
    if cache is None:
        cache = {}
        for name in env.get_domain("py").objects:
            obj = _import(name)
            if obj is not None and not isinstance(obj, (int, float, str, tuple, bool)):
                cache.setdefault(id(obj), name)
        env._snntorch_ms_documented = cache
    return cache


def _own_target(env, node) -> Optional[str]:
    """The documented name of a ``snntorch_ms`` object referred to by a name that
    Sphinx could not resolve (relative to the current module or class, or a
    re-export)."""
    target = node["reftarget"].lstrip("~.")
    module, klass = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if module:
        candidates = [f"{module}.{klass}.{target}"] * bool(klass) + [f"{module}.{target}"] \
            + candidates
    objects = env.get_domain("py").objects
    for cand in candidates:
        if not cand.startswith("snntorch_ms"):
            continue
        obj = _import(cand)
        if obj is None:
            continue
        found = _documented(env).get(id(obj))
        if found is None and hasattr(obj, "__qualname__"):
            canonical = f"{getattr(obj, '__module__', '')}.{obj.__qualname__}"
            found = canonical if canonical in objects else None
        if found is None:
            # a constant (an int, a tuple): the documented name in the module it
            # was imported from, if exactly one documented name ends the same way
            ends = [n for n in objects if n.startswith("snntorch_ms")
                    and n.rsplit(".", 1)[-1] == cand.rsplit(".", 1)[-1]
                    and _import(n) is obj]
            found = ends[0] if len(ends) == 1 else None
        if found:
            return found
    return None


def _link(contnode, url: str, title: str):
    ref = nodes.reference("", "", internal=False, refuri=url, reftitle=title)
    ref += contnode
    return ref


def resolve(app, env, node, contnode):
    """``missing-reference`` handler: our names first, then other projects'."""
    if node.get("refdomain") != "py":
        return None
    own = _own_target(env, node)
    if own is not None:
        py = env.get_domain("py")
        objtype = py.objects[own].objtype
        role = {"function": "func", "method": "meth", "attribute": "attr",
                "property": "attr", "module": "mod", "exception": "exc"}.get(objtype, objtype)
        new = node.deepcopy()
        new["reftarget"] = own
        new["reftype"] = role
        return py.resolve_xref(env, node["refdoc"], app.builder, role, own, new, contnode)
    target = node["reftarget"].lstrip("~.")
    candidates = [target]
    module = node.get("py:module")
    if module and "." not in target:
        candidates.append(f"{module}.{target}")   # a name imported into that module
    for cand in candidates:
        if cand.startswith("snntorch_ms"):
            obj = _import(cand)
            mod = getattr(obj, "__module__", None) or ""
            if obj is None or mod.startswith("snntorch_ms"):
                continue
            cand = f"{mod}.{getattr(obj, '__qualname__', '')}"
        url = external_url(cand)
        if url:
            return _link(contnode, url, cand)
    return None


def setup(app):
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
