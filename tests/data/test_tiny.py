"""snntorch_ms.data.sources.tiny: Tiny-ImageNet from a self-written tree of the official
zip's layout."""

import pytest
import torch

from snntorch_ms.data import DatasetNotFoundError, dataset_info, load_dataset


def _write_tiny(root):
    from PIL import Image

    base = root / "tiny-imagenet-200"
    wnids = ["n02", "n01", "n03"]  # unsorted on purpose: classes are the sorted wnids
    (base).mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    colours = {"n01": (255, 0, 0), "n02": (0, 255, 0), "n03": (0, 0, 255)}
    for w in wnids:
        folder = base / "train" / w / "images"
        folder.mkdir(parents=True)
        for k in range(2):
            Image.new("RGB", (64, 64), colours[w]).save(folder / f"{w}_{k}.JPEG")
        (base / "train" / w / f"{w}_boxes.txt").write_text("")
    val = base / "val" / "images"
    val.mkdir(parents=True)
    ann = []
    for i, w in enumerate(["n03", "n01", "n02", "n01"]):
        mode = "L" if i == 3 else "RGB"  # Tiny-ImageNet holds a few grey JPEGs
        colour = 76 if mode == "L" else colours[w]
        Image.new(mode, (64, 64), colour).save(val / f"val_{i}.JPEG")
        ann.append(f"val_{i}.JPEG\t{w}\t0\t0\t63\t63")
    (base / "val" / "val_annotations.txt").write_text("\n".join(ann) + "\n")
    return base


def test_tiny_imagenet_tree(tmp_path):
    _write_tiny(tmp_path)
    train = load_dataset("tiny-imagenet", root=tmp_path, train=True, download=False)
    val = load_dataset("tiny-imagenet", root=tmp_path, train=False, download=False)
    assert train.classes == ["n01", "n02", "n03"]
    assert len(train) == 6 and sorted(train.targets.tolist()) == [0, 0, 1, 1, 2, 2]
    assert val.targets.tolist() == [2, 0, 1, 0]
    x, y = val[0]
    assert x.shape == (3, 64, 64) and y == 2
    # the colour follows the label: n03 is blue in the self-written tree
    mean = torch.tensor(dataset_info("tiny-imagenet").mean)
    std = torch.tensor(dataset_info("tiny-imagenet").std)
    pixel = x[:, 32, 32] * std + mean
    assert pixel.argmax().item() == 2
    assert val[3][0].shape == (3, 64, 64)  # grey JPEG converted to RGB
    for i in range(len(train)):
        xi, yi = train[i]
        assert (xi[:, 32, 32] * std + mean).argmax().item() == yi
    paper = load_dataset("tiny-imagenet", root=tmp_path, train=True, recipe="paper", download=False)
    assert paper[0][0].shape == (3, 64, 64)


def test_tiny_imagenet_class_without_images_is_named(tmp_path):
    base = _write_tiny(tmp_path)
    for f in (base / "train" / "n02" / "images").iterdir():
        f.unlink()
    with pytest.raises(DatasetNotFoundError, match="n02"):
        load_dataset("tiny-imagenet", root=tmp_path, train=True, download=False)


def test_tiny_imagenet_missing(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("tiny-imagenet", root=tmp_path, download=False)
    msg = str(err.value)
    assert "tiny-imagenet-200" in msg and "val_annotations.txt" in msg and "wnids.txt" in msg
