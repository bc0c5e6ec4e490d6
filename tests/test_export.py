"""NIR export: a ProjLeaky that is not exactly a Leaky must not leave snntorch's
exporter as a plain nir.LIF; one that is exactly a Leaky exports as that LIF.

Note: with snntorch 1.0.0 and nir 1.0.8 the export only type-checks when the
LIF's parameters have the neuron's full shape (``[N]`` after a Linear), so the
exportable networks below use per-neuron ``beta`` and ``threshold``.
"""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("nir", reason="NIR export needs the optional package 'nir'")
pytest.importorskip("nirtorch", reason="NIR export needs the optional package 'nirtorch'")

import snntorch as snn  # noqa: E402
from snntorch.export_nir import export_to_nir as snntorch_export  # noqa: E402

from snntorch_ms import ProjLeaky  # noqa: E402
from snntorch_ms.export import (  # noqa: E402
    UnsupportedExportError,
    check_exportable,
    export_to_nir,
    unsupported_modules,
)

# nirtorch 2.x marks extract_nir_graph (used by snntorch 1.0.0) as deprecated
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TORCH_CALL = nn.Module.__call__


def conv_net(**neuron_kw):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        ProjLeaky(0.9, init_hidden=True, **neuron_kw),
    )


def map_sample():
    return torch.randn(1, 2, 8, 8)


def assert_explains(message, name="'1'"):
    assert name in message
    assert "ProjLeaky" in message
    assert "no NIR equivalent" in message
    assert "windows=None" in message and "projection='none'" in message
    assert "plain LIF" in message


# -- snntorch's own exporter ---------------------------------------------------


@pytest.mark.parametrize("windows,groups", [("quad", 4), ("overlap", 4), ("quad", 2)])
@pytest.mark.parametrize("projection", ["sincos", "none"])
def test_snntorch_exporter_refuses_windowed_projleaky(windows, groups, projection):
    net = conv_net(windows=windows, groups=groups, projection=projection)
    assert net[1].windowed
    with pytest.raises(UnsupportedExportError) as info:
        snntorch_export(net, map_sample(), ignore_dims=[0])
    message = str(info.value)
    assert_explains(message)
    assert f"windows={windows!r}, groups={groups}" in message
    assert "receptive-field windows" in message
    assert isinstance(info.value, ValueError)
    # the tracer put torch's own Module.__call__ back
    assert nn.Module.__call__ is TORCH_CALL


def test_snntorch_exporter_refuses_projection_without_windows():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), ProjLeaky(0.9, windows=None, init_hidden=True))
    with pytest.raises(UnsupportedExportError) as info:
        snntorch_export(net, torch.randn(1, 4), ignore_dims=[0])
    message = str(info.value)
    assert_explains(message)
    assert "projection='sincos'" in message
    assert "receptive-field windows" not in message


def test_snntorch_exporter_names_a_nested_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3, padding=1)
            self.block = nn.ModuleDict({"lif": ProjLeaky(0.9, init_hidden=True)})

        def forward(self, x):
            return self.block["lif"](self.conv(x))

    with pytest.raises(UnsupportedExportError) as info:
        snntorch_export(Net(), map_sample(), ignore_dims=[0])
    assert_explains(str(info.value), name="'block.lif'")


def test_snntorch_exporter_fails_loudly_when_projleaky_comes_first():
    # the neuron is the first module traced: nirtorch's tracer then raises its
    # own error on the empty graph while unwinding; ours must be in the chain
    net = nn.Sequential(ProjLeaky(0.9, init_hidden=True), nn.Conv2d(2, 3, 3))
    with pytest.raises(ValueError) as info:
        snntorch_export(net, map_sample(), ignore_dims=[0])
    chain, err = [], info.value
    while err is not None:
        chain.append(err)
        err = err.__cause__ or err.__context__
    assert any(isinstance(e, UnsupportedExportError) for e in chain)
    assert nn.Module.__call__ is TORCH_CALL


# -- the checking wrapper ----------------------------------------------------------


def test_wrapper_lists_every_unsupported_module():
    net = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        ProjLeaky(0.9, init_hidden=True),
        nn.Conv2d(3, 3, 3, padding=1),
        ProjLeaky(0.9, windows=None, init_hidden=True),
        nn.Conv2d(3, 3, 3, padding=1),
        ProjLeaky(0.9, windows=None, projection="none", init_hidden=True),
    )
    assert [name for name, _ in unsupported_modules(net)] == ["1", "3"]
    with pytest.raises(UnsupportedExportError) as info:
        export_to_nir(net, map_sample(), ignore_dims=[0])
    message = str(info.value)
    assert "2 module(s)" in message
    assert_explains(message, name="'1'")
    assert "'3'" in message and "'5'" not in message


# -- a ProjLeaky that is exactly a Leaky -------------------------------------------


def _linear_pair(neuron):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), neuron)


def _leaky_kw():
    return dict(
        beta=torch.tensor([0.9, 0.8, 0.5]),
        threshold=torch.tensor([1.0, 0.5, 2.0]),
        init_hidden=True,
    )


def assert_same_graph(got, want):
    assert set(got.nodes) == set(want.nodes)
    assert sorted(got.edges) == sorted(want.edges)
    for key, node in want.nodes.items():
        other = got.nodes[key]
        assert type(other) is type(node), key
        for field in ("weight", "bias", "tau", "r", "v_leak", "v_threshold", "v_reset"):
            if hasattr(node, field):
                np.testing.assert_array_equal(
                    np.asarray(getattr(other, field)), np.asarray(getattr(node, field)),
                    err_msg=f"{key}.{field}",
                )


@pytest.mark.parametrize(
    "neuron_kw", [dict(windows=None), dict(windows="quad", groups=1)], ids=["none", "groups1"]
)
@pytest.mark.parametrize("exporter", [snntorch_export, export_to_nir], ids=["snntorch", "ours"])
def test_leaky_equivalent_projleaky_exports_as_leaky(neuron_kw, exporter):
    lif = ProjLeaky(projection="none", **neuron_kw, **_leaky_kw())
    assert lif.nir_exportable and len(lif._forward_pre_hooks) == 0
    check_exportable(_linear_pair(lif))  # no error
    sample = torch.randn(1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = exporter(_linear_pair(lif), sample, ignore_dims=[0])
        want = snntorch_export(_linear_pair(snn.Leaky(**_leaky_kw())), sample, ignore_dims=[0])
    assert type(got.nodes["1"]).__name__ == "LIF"
    assert_same_graph(got, want)


def test_guard_is_inert_outside_export():
    lif = ProjLeaky(0.5, threshold=0.5, windows="quad", groups=4)
    assert not lif.nir_exportable and len(lif._forward_pre_hooks) == 1
    spk, mem = lif(torch.rand(2, 3, 8, 8))
    assert spk.shape == mem.shape == (2, 3, 8, 8)
