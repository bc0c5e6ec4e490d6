"""snntorch's own workflows with ProjLeaky in place of Leaky.

Training loops written in the shape of snntorch's tutorials 5 (a class-based
network, membranes passed by hand) and 6 (``nn.Sequential`` with
``init_hidden=True``, ``snntorch.utils.reset``, ``spikegen.rate``,
``snntorch.functional`` losses, ``backprop.BPTT`` / ``TBPTT``), each run with
``snntorch.Leaky``, the Leaky-exact twin (``windows=None, projection="none"``)
and windowed ProjLeaky. The twin must give Leaky's losses bit for bit; the
windowed neuron must train without error.
"""

import numpy as np
import pytest
import snntorch as snn
import snntorch.functional as SF
import torch
from snntorch import backprop, spikegen, surrogate, utils
from torch import nn

from snntorch_ms import ProjLeaky

NUM_STEPS = 4
BETA = 0.8


def leaky(**kw):
    return snn.Leaky(beta=BETA, spike_grad=surrogate.fast_sigmoid(slope=25), **kw)


def twin(**kw):
    return ProjLeaky(beta=BETA, spike_grad=surrogate.fast_sigmoid(slope=25), windows=None,
                     projection="none", **kw)


def windowed(**kw):
    # windows only where the neuron sees a map of at least 2x2; the twin elsewhere
    def make(**kw2):
        if kw2.pop("map", False):
            return ProjLeaky(beta=BETA, threshold=0.5, spike_grad=surrogate.fast_sigmoid(slope=25),
                             **kw2)
        return twin(**kw2)
    return make(**kw)


NEURONS = {"leaky": leaky, "twin": twin, "windowed": windowed}


@pytest.fixture(scope="module")
def digits():
    """64 bundled 8x8 digits scaled to [0, 1], in batches of 16."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images[:64] / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target[:64])
    return [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]


# ------------------------------------------------------------------ tutorial 6 shape


def conv_net(kind):
    """Tutorial 6's convolutional network, shrunk to 8x8 inputs."""
    make = NEURONS[kind]

    def lif(map_, **kw):
        return make(map=map_, **kw) if kind == "windowed" else make(**kw)

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.MaxPool2d(2), lif(True, init_hidden=True),
        nn.Conv2d(8, 16, 3, padding=1), nn.MaxPool2d(2), lif(True, init_hidden=True),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 10), lif(False, init_hidden=True, output=True),
    )


def forward_pass(net, data):
    spk_rec, mem_rec = [], []
    utils.reset(net)  # snntorch's reset: works on ProjLeaky as on Leaky
    for step in range(NUM_STEPS):
        spk_out, mem_out = net(data[step])
        spk_rec.append(spk_out)
        mem_rec.append(mem_out)
    return torch.stack(spk_rec), torch.stack(mem_rec)


def train_sequential(kind, batches, loss_fn):
    net = conv_net(kind)
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    losses = []
    for epoch in range(2):
        for i, (x, y) in enumerate(batches):
            torch.manual_seed(100 * epoch + i)
            spikes = spikegen.rate(x, num_steps=NUM_STEPS)  # [T, B, 1, 8, 8]
            spk_rec, _ = forward_pass(net, spikes)
            loss = loss_fn(spk_rec, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return net, losses


@pytest.mark.parametrize("loss_name", ["ce_rate_loss", "mse_count_loss"])
def test_sequential_tutorial_loop(digits, loss_name):
    loss_fn = (SF.ce_rate_loss() if loss_name == "ce_rate_loss"
               else SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2))
    net_l, losses_l = train_sequential("leaky", digits, loss_fn)
    net_t, losses_t = train_sequential("twin", digits, loss_fn)
    assert losses_l == losses_t  # bit for bit
    for (n, a), (_, b) in zip(net_l.named_parameters(), net_t.named_parameters()):
        assert torch.equal(a, b), n
    net_w, losses_w = train_sequential("windowed", digits, loss_fn)
    assert all(np.isfinite(losses_w)) and losses_w != losses_l
    assert any(not torch.equal(a, b) for a, b in zip(net_w.parameters(), conv_net("windowed").parameters()))
    acc = SF.accuracy_rate(forward_pass(net_t, spikegen.rate(digits[0][0], NUM_STEPS))[0],
                           digits[0][1])
    assert 0.0 <= acc <= 1.0


@pytest.mark.parametrize("method", ["BPTT", "TBPTT"])
def test_backprop_helpers(digits, method):
    results = {}
    for kind in NEURONS:
        net = conv_net(kind)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        loss_fn = SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)
        kw = dict(num_steps=NUM_STEPS, time_var=False)
        if method == "TBPTT":
            kw["K"] = 2  # detach_hidden() every 2 steps: mem.detach_() on every neuron
        fn = getattr(backprop, method)
        results[kind] = [fn(net, digits, optimizer=opt, criterion=loss_fn, **kw).item()
                         for _ in range(2)]
    assert results["leaky"] == results["twin"]
    assert all(np.isfinite(results["windowed"]))


# ------------------------------------------------------------------ tutorial 5 shape


class FCNet(nn.Module):
    """Tutorial 5's network: membranes initialised and passed by hand."""

    def __init__(self, make):
        super().__init__()
        torch.manual_seed(0)
        self.fc1 = nn.Linear(64, 32)
        self.lif1 = make()
        self.fc2 = nn.Linear(32, 10)
        self.lif2 = make()

    def forward(self, x):
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        spk2_rec, mem2_rec = [], []
        for _ in range(NUM_STEPS):
            spk1, mem1 = self.lif1(self.fc1(x.flatten(1)), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return torch.stack(spk2_rec), torch.stack(mem2_rec)


class ConvNet(nn.Module):
    """The same loop with a conv layer, so a windowed ProjLeaky sees maps."""

    def __init__(self, kind):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.lif1 = NEURONS[kind](map=True) if kind == "windowed" else NEURONS[kind]()
        self.fc = nn.Linear(4 * 8 * 8, 10)
        self.lif2 = NEURONS[kind]()

    def forward(self, x):
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spk_rec, mem_rec = [], []
        for _ in range(NUM_STEPS):
            spk1, mem1 = self.lif1(self.conv(x), mem1)
            spk2, mem2 = self.lif2(self.fc(spk1.flatten(1)), mem2)
            spk_rec.append(spk2)
            mem_rec.append(mem2)
        return torch.stack(spk_rec), torch.stack(mem_rec)


def train_class_based(net, batches):
    opt = torch.optim.Adam(net.parameters(), lr=5e-3, betas=(0.9, 0.999))
    ce = nn.CrossEntropyLoss()
    losses = []
    for x, y in batches:
        _, mem_rec = net(x)
        loss = sum(ce(mem_rec[step], y) for step in range(NUM_STEPS))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_class_based_tutorial_loop(digits):
    losses_l = train_class_based(FCNet(leaky), digits)
    losses_t = train_class_based(FCNet(twin), digits)
    assert losses_l == losses_t
    assert train_class_based(ConvNet("leaky"), digits) == train_class_based(ConvNet("twin"), digits)
    losses_w = train_class_based(ConvNet("windowed"), digits)
    assert all(np.isfinite(losses_w)) and losses_w[-1] < losses_w[0] * 1.5
