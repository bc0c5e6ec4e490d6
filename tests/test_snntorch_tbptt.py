"""snntorch's ``backprop.TBPTT`` with time-varying data and an integer ``K``.

snntorch 1.0.0 fails there with ``UnboundLocalError`` (``K_flag`` is assigned only
when ``K`` is ``False``). Not our bug, but our users meet it in snntorch's
tutorials' workflow: ``docs/leaky.md`` names it with the workaround, and
``CONTRIBUTING.md`` carries the reproducer below and the fix we would propose
upstream. These tests run the pages' code: the reproducer fails on the installed
snntorch (when it stops failing, update both pages), and the workaround's
hand-written loop updates the weights exactly as snntorch's ``TBPTT`` with the
proposed fix (the diff's added lines applied to the installed source) does.
"""

from __future__ import annotations

import inspect
import re
import textwrap
import warnings
from pathlib import Path

import pytest
import snntorch as snn
import torch
from snntorch import functional as SF
from torch import nn

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # backprop warns on import
    from snntorch import backprop

from snntorch_ms import ProjLeaky

REPO = Path(__file__).resolve().parents[1]


def _python_block(path: Path, containing: str) -> str:
    """The ```python block of a page that contains ``containing``."""
    blocks = re.findall(r"```python\n(.*?)```", (REPO / path).read_text(), flags=re.S)
    found = [b for b in blocks if containing in b]
    assert len(found) == 1, f"{path}: no single python block with {containing!r}"
    return found[0]


def test_contributing_carries_a_reproducer_that_fails():
    code = _python_block(Path("CONTRIBUTING.md"), "backprop.TBPTT(")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(UnboundLocalError, match="K_flag"):
            exec(compile(code, "CONTRIBUTING.md", "exec"), {})


def _documented_workaround():
    """``truncated_bptt`` as docs/leaky.md writes it (its definition, run as is)."""
    code = _python_block(Path("docs/leaky.md"), "def truncated_bptt")
    namespace = {}
    exec(compile(code.split("\ntruncated_bptt(")[0], "docs/leaky.md", "exec"), namespace)
    return namespace["truncated_bptt"]


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
    # the '+' lines of the proposed fix in CONTRIBUTING.md
    diff = re.search(r"```diff\n(.*?)```", (REPO / "CONTRIBUTING.md").read_text(),
                     flags=re.S).group(1)
    added = [line[1:] for line in diff.splitlines() if line.startswith("+")]
    # one line before the loop over batches, then the two that replace the broken four
    assert len(added) == 3 and "K is False" in added[0], added
    src = src.replace(broken, added[1] + "\n" + added[2] + "\n")
    src = src.replace(before_loop, added[0] + "\n" + before_loop)
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

    _documented_workaround()(net, loader, optimizer, SF.ce_rate_loss(), K)
    _fixed_tbptt()(twin, loader, twin_optimizer, SF.ce_rate_loss(), time_var=True, K=K)

    assert any(not torch.equal(a, b) for a, b in zip(start, net.parameters()))  # it trained
    for a, b in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_k_false_runs_the_whole_sequence():
    # the other workaround, when no truncation is needed: K=False (the whole sequence)
    net, loader, optimizer = _setup()
    loss = backprop.TBPTT(net, loader, optimizer, SF.ce_rate_loss(), time_var=True, K=False)
    assert torch.isfinite(torch.as_tensor(loss))
