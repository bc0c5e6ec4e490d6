"""snntorch's ``backprop.TBPTT`` with time-varying data and an integer ``K``.

snntorch 1.0.0 fails there with ``UnboundLocalError`` (``K_flag`` is assigned only
when ``K`` is ``False``). Not our bug, but our users meet it in snntorch's
tutorials' workflow: ``docs/leaky.md`` names it with the workaround, and
``CONTRIBUTING.md`` carries the reproducer below and the fix we would propose
upstream. These tests pin all three: the reproducer fails on the installed
snntorch (when it stops failing, update both pages), the workaround runs, and the
hand-written loop of the workaround updates the weights exactly as snntorch's
``TBPTT`` with the proposed fix does.
"""

from __future__ import annotations

import inspect
import textwrap
import warnings

import pytest
import snntorch as snn
import torch
from snntorch import functional as SF
from snntorch import utils
from torch import nn

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # backprop warns on import
    from snntorch import backprop

from snntorch_ms import ProjLeaky


def _setup(neuron="leaky"):
    # the reproducer of CONTRIBUTING.md
    torch.manual_seed(0)
    lif = (snn.Leaky(beta=0.9, init_hidden=True, output=True) if neuron == "leaky" else
           ProjLeaky(0.9, init_hidden=True, output=True, windows=None, projection="none"))
    net = nn.Sequential(nn.Linear(4, 3), lif)
    data = torch.rand(6, 2, 4)                 # [time, batch, features]: time-varying
    targets = torch.tensor([0, 2])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    return net, [(data, targets)], optimizer


@pytest.mark.parametrize("neuron", ["leaky", "projleaky"])
def test_the_reproducer_fails_on_the_installed_snntorch(neuron):
    net, loader, optimizer = _setup(neuron)
    try:
        backprop.TBPTT(net, loader, optimizer, SF.ce_rate_loss(), time_var=True, K=2)
    except UnboundLocalError as err:
        assert "K_flag" in str(err)
    else:
        pytest.fail(f"snntorch {snn.__version__} fixed TBPTT with time_var=True and an "
                    "integer K: drop the workaround from docs/leaky.md and the reproducer "
                    "and proposed fix from CONTRIBUTING.md")


def truncated_bptt(net, loader, optimizer, loss_fn, K):
    """The workaround of docs/leaky.md: TBPTT written out (time-first data)."""
    net.train()
    for data, targets in loader:
        utils.reset(net)
        chunk = []
        for step in range(data.size(0)):
            spk, _mem = net(data[step])
            chunk.append(spk)
            if len(chunk) == K or step == data.size(0) - 1:
                loss = loss_fn(torch.stack(chunk), targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                snn.Leaky.detach_hidden()   # cut the graph, keep the membrane's values
                chunk = []


def _fixed_tbptt():
    """snntorch's TBPTT with the fix proposed in CONTRIBUTING.md applied to its
    source: whether ``K`` follows the sequence length is decided once, before the
    loop over batches."""
    src = textwrap.dedent(inspect.getsource(backprop.TBPTT))
    broken = ("            if K is False:\n                K_flag = K\n"
              "            if K_flag is False:\n                K = num_steps\n")
    before_loop = "    data_iterator = iter(dataloader)\n"
    if broken not in src or before_loop not in src:
        pytest.skip(f"snntorch {snn.__version__}'s TBPTT is not the 1.0.0 source")
    src = src.replace(broken, "            if K_flag:\n                K = num_steps\n")
    src = src.replace(before_loop, "    K_flag = K is False\n" + before_loop)
    namespace = dict(vars(backprop))
    exec(compile(src, backprop.__file__, "exec"), namespace)
    return namespace["TBPTT"]


@pytest.mark.parametrize("neuron", ["leaky", "projleaky"])
@pytest.mark.parametrize("K", [2, 4])     # 6 steps: chunks of 2, and of 4 then 2
def test_the_workaround_is_tbptt_with_the_proposed_fix(neuron, K):
    net, loader, optimizer = _setup(neuron)
    # built anew, not deep-copied: a copy would miss snntorch's class-wide instance
    # list, through which detach_hidden() reaches the neurons
    twin, _, twin_optimizer = _setup(neuron)
    start = [p.detach().clone() for p in net.parameters()]

    truncated_bptt(net, loader, optimizer, SF.ce_rate_loss(), K)
    _fixed_tbptt()(twin, loader, twin_optimizer, SF.ce_rate_loss(), time_var=True, K=K)

    assert any(not torch.equal(a, b) for a, b in zip(start, net.parameters()))  # it trained
    for a, b in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_k_false_runs_the_whole_sequence():
    # the other workaround, when no truncation is needed: K=False (the whole sequence)
    net, loader, optimizer = _setup()
    loss = backprop.TBPTT(net, loader, optimizer, SF.ce_rate_loss(), time_var=True, K=False)
    assert torch.isfinite(torch.as_tensor(loss))
