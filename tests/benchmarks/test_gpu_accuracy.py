"""The prepared GPU accuracy run (``benchmarks/gpu_accuracy.py``): which trainings it
holds and with which configuration, checked without training or a GPU."""

import argparse

import pytest


@pytest.fixture(scope="module")
def acc(load_script):
    return load_script("gpu_accuracy")


def _args(**kw):
    base = dict(seeds=None, only=None, best_t1=None, epochs=None, batch_size=None,
                recipe="basic", device="cpu")
    return argparse.Namespace(**dict(base, **kw))


def test_best_t1_is_the_leaky_row_trained_three_times_as_long(acc):
    specs = acc.all_specs(_args())
    best = [k for k in specs if k.startswith("convnet-best-T1-s")]
    assert best == ["convnet-best-T1-s0"]  # BEST_T1_SEEDS: one, for the 6-minute budget
    assert [k for k in acc.all_specs(_args(seeds=[0, 1])) if k.startswith("convnet-best")] == \
        ["convnet-best-T1-s0", "convnet-best-T1-s1"]
    row = acc.make_config(specs["convnet-leaky-T1-s0"], _args())
    top = acc.make_config(specs["convnet-best-T1-s0"], _args())
    assert (row.epochs, top.epochs) == (10, 30)  # the basic recipe's 10 for Fashion-MNIST
    for field in ("model", "neuron", "timesteps", "lr", "optimizer", "batch_size", "seed"):
        assert getattr(top, field) == getattr(row, field), field
    # --epochs scales it too, and the recipe's fields drawn from the epochs follow
    assert acc.make_config(specs["convnet-best-T1-s0"], _args(epochs=2)).epochs == 6
    # the paper recipe's warm-up is min(5, epochs // 10): 2 for the rows' 20, 5 for 60
    paper = acc.make_config(specs["convnet-best-T1-s0"], _args(recipe="paper", epochs=20))
    assert (paper.epochs, paper.warmup_epochs) == (60, 5)
    assert acc.make_config(specs["convnet-leaky-T1-s0"],
                           _args(recipe="paper", epochs=20)).warmup_epochs == 2


def test_epochs_factor_is_checked(acc):
    spec = dict(model="convnet", neuron="leaky", timesteps=1, seed=0, config_name="x")
    with pytest.raises(ValueError, match="'epochs_factor' or config 'epochs', not both"):
        acc.make_config(dict(spec, epochs_factor=2, config={"epochs": 4}), _args())
    for bad in (0, -1, "3"):
        with pytest.raises(ValueError, match="'epochs_factor' must be a positive number"):
            acc.make_config(dict(spec, epochs_factor=bad), _args())
    assert acc.scaled_epochs(1.5, 5) == 8 and acc.scaled_epochs(0.01, 5) == 1
