"""Structure of the paper's mixer networks."""

import pytest
import snntorch
import torch

from snntorch_ms import ProjLeaky
from snntorch_ms.models import MixerNet, PatchMerging, build_model
from snntorch_ms.models.mixers import MixerBlock
from snntorch_ms.models.token_mixers import CNNTokenMixer, LSTMTokenMixer

TINY = dict(depths=(1, 1, 1, 1), dims=(4, 8, 8, 8))


def test_default_is_the_papers_12_block_network():
    net = MixerNet("cnn")
    assert [len(s) for s in net.stages] == [2, 2, 6, 2]
    assert [blk.mixer.conv1.in_channels for blk in net.blocks()] == \
        [48] * 2 + [96] * 2 + [192] * 6 + [384] * 2
    assert net.stem.kernel_size == (2, 2) and net.stem.stride == (2, 2)
    assert net.stem.out_channels == 48
    blk = net.blocks()[0]
    assert (blk.mlp.fc1.in_features, blk.mlp.fc1.out_features) == (48, 144)
    assert isinstance(blk.mlp.act, torch.nn.GELU)
    assert [(m.reduction.in_features, m.reduction.out_features) for m in net.merges] == \
        [(192, 96), (384, 192), (768, 384)]
    lstm = MixerNet("lstm").blocks()[0].mixer
    assert lstm.lstm.bidirectional and lstm.lstm.hidden_size == 48 and lstm.lstm.num_layers == 1
    assert (lstm.proj.in_features, lstm.proj.out_features) == (96, 48)


def test_windows_alternate_and_last_stage_is_quad():
    net = MixerNet("cnn", image_size=64, dims=(4, 4, 4, 4))  # stage maps 32, 16, 8, 4
    got = [blk.windows for blk in net.blocks()]
    assert got == ["quad", "overlap"] * 5 + ["quad", "quad"]
    for blk in net.blocks():
        assert blk.mixer.neuron1.neuron.windows == blk.windows
        assert blk.mixer.neuron2.neuron.windows == blk.windows


@pytest.mark.parametrize("size, stage_sizes, last", [
    (28, [(14, 14), (7, 7), (4, 4), (2, 2)], "quad"),
    (32, [(16, 16), (8, 8), (4, 4), (2, 2)], "quad"),
    (64, [(32, 32), (16, 16), (8, 8), (4, 4)], "quad"),
    (16, [(8, 8), (4, 4), (2, 2), (1, 1)], None),
    (8, [(4, 4), (2, 2), (1, 1), (1, 1)], None),
])
@pytest.mark.parametrize("mixer", ["cnn", "lstm"])
def test_small_maps_fall_back_to_no_windows(mixer, size, stage_sizes, last):
    net = MixerNet(mixer, in_channels=1, image_size=size, **TINY)
    assert net.stage_sizes == stage_sizes
    assert net.blocks()[-1].windows == last
    assert net(torch.rand(2, 1, size, size)).shape == (2, 10)


def test_cnn_mixer_second_neuron_gets_first_membrane():
    mixer = CNNTokenMixer(3, neuron="proj", windows="overlap")
    seen = {}
    mixer.neuron1.neuron.register_forward_hook(lambda m, a, out: seen.update(mem1=out[1]))
    mixer.neuron2.neuron.register_forward_pre_hook(
        lambda m, args, kwargs: seen.update(lateral=kwargs.get("lateral"), cur2=args[0]),
        with_kwargs=True)
    mixer(torch.randn(2, 3, 8, 8))
    assert seen["lateral"] is not None
    assert torch.equal(seen["lateral"], seen["mem1"])
    # the neurons run on the window stack: 4 overlap windows of 6x6
    assert seen["cur2"].shape == (2, 4, 3, 6, 6)


def test_per_window_convolution_zero_pads_at_window_borders():
    mixer = CNNTokenMixer(1, neuron="relu", windows="quad", conv_norm=None)
    seen = {}
    mixer.conv1.register_forward_hook(lambda m, a, out: seen.update(out=out))
    mixer(torch.randn(1, 1, 4, 4))
    assert seen["out"].shape == (4, 1, 2, 2)  # B * g windows of 2x2


def test_lstm_mixer_reads_window_tokens():
    mixer = LSTMTokenMixer(3, neuron="proj", windows="quad")
    seen = {}
    mixer.lstm.register_forward_hook(lambda m, a, out: seen.update(inp=a[0], out=out[0]))
    mixer.neuron.neuron.register_forward_pre_hook(lambda m, a: seen.update(cur=a[0]))
    x = torch.randn(2, 3, 4, 6)
    assert mixer(x).shape == x.shape
    assert seen["inp"].shape == (2 * 4, 2 * 3, 3)  # B*g windows, 2x3 tokens, C
    # tokens of window 0 in row-major order
    assert torch.equal(seen["inp"][0], x[0, :, :2, :3].flatten(1).T)
    assert seen["cur"].shape == (2, 4, 6, 2, 3)  # 2C channels, stack layout
    assert torch.equal(seen["cur"][0, 0, :, 0, 1], seen["out"][0, 1])


@pytest.mark.parametrize("mixer", ["cnn", "lstm"])
def test_bernoulli_encoding_feeds_binary_input_without_gradient(mixer):
    torch.manual_seed(0)
    inputs = []
    for encode in ("real", "bernoulli"):
        net = MixerNet(mixer, in_channels=1, image_size=16, encode=encode, **TINY)
        blk = net.blocks()[0].mixer
        first = blk.conv1 if mixer == "cnn" else blk.lstm
        first.register_forward_pre_hook(lambda m, a: inputs.append(a[0]))
        net(torch.rand(2, 1, 16, 16)).sum().backward()
        assert net.stem.weight.grad is not None  # the residual path still carries it
    real, binary = inputs
    assert not torch.all((real == 0) | (real == 1))
    assert torch.all((binary == 0) | (binary == 1)) and binary.sum() > 0
    assert not binary.requires_grad


@pytest.mark.parametrize("neuron", ["proj", "leaky", "relu"])
def test_spiking_mlp(neuron):
    net = MixerNet("cnn", in_channels=1, image_size=16, neuron=neuron, spiking_mlp=True,
                   **TINY)
    blk = net.blocks()[0]
    assert blk.mlp.act is None and blk.mlp.neuron.kind == neuron
    hidden = []
    blk.mlp.fc2.register_forward_pre_hook(lambda m, a: hidden.append(a[0]))
    net(torch.rand(2, 1, 16, 16) * 3).sum().backward()
    if neuron != "relu":
        assert torch.all((hidden[0] == 0) | (hidden[0] == 1))
        expected = ProjLeaky if neuron == "proj" else snntorch.Leaky
        assert type(blk.mlp.neuron.neuron) is expected
    assert torch.isfinite(net.stem.weight.grad).all()


def test_block_and_patch_merging_shapes():
    blk = MixerBlock(4, mixer="lstm", windows=None)
    assert blk(torch.rand(2, 4, 1, 1)).shape == (2, 4, 1, 1)
    merge = PatchMerging(4, 6)
    assert merge(torch.rand(2, 4, 5, 3)).shape == (2, 6, 3, 2)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="cnn"):
        MixerNet("mlp")
    with pytest.raises(ValueError, match="bernoulli"):
        MixerNet("cnn", encode="poisson")
    with pytest.raises(ValueError, match="alternate"):
        MixerNet("cnn", windows="dilated")
    with pytest.raises(ValueError, match="per stage"):
        MixerNet("cnn", depths=(1, 1), dims=(4,))


def test_runtime_map_too_small_gives_a_clear_error():
    net = build_model("cnn-mixer", in_channels=1, image_size=32, **TINY)
    with pytest.raises(ValueError, match="image_size"):
        net(torch.rand(1, 1, 16, 16))


def test_cnn_mixer_lateral_off_feeds_the_second_neuron_no_membrane():
    torch.manual_seed(0)
    on = CNNTokenMixer(4, neuron="proj", windows="quad")
    off = CNNTokenMixer(4, neuron="proj", windows="quad", lateral=False)
    off.load_state_dict(on.state_dict())
    seen = {}

    def spy(name):
        def hook(_module, args, kwargs):
            seen[name] = kwargs.get("lateral")
        return hook

    on.neuron2.register_forward_pre_hook(spy("on"), with_kwargs=True)
    off.neuron2.register_forward_pre_hook(spy("off"), with_kwargs=True)
    x = torch.randn(2, 4, 6, 6)
    y_on, y_off = on(x), off(x)
    assert seen["off"] is None
    assert seen["on"] is not None and seen["on"].shape == (2, 4, 4, 3, 3)  # the first membrane
    assert not torch.equal(y_on, y_off)  # the projection did see the lateral stream


def test_lateral_off_is_refused_for_the_lstm_mixer():
    with pytest.raises(ValueError, match="CNN mixer only"):
        MixerNet("lstm", depths=(1,), dims=(4,), image_size=8, lateral=False)
    net = MixerNet("cnn", depths=(1,), dims=(4,), image_size=8, lateral=False)
    assert net.blocks()[0].mixer.lateral is False
