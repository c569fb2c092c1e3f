"""skae.datasets: IDX reading, search order, errors (tiny files written here)."""

import gzip
import os
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from skae import datasets
from skae.datasets import (
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_train_test,
    parse_example_args,
    read_idx,
    read_mat_images,
    write_mat_images,
)

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_split(folder, split="train", n=5, gz=True, seed=0):
    """Write n random 28x28 images and labels; return (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    prefix = "train" if split == "train" else "t10k"
    folder.mkdir(parents=True, exist_ok=True)
    for stem, arr in ((f"{prefix}-images-idx3-ubyte", images),
                      (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return images, labels


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No env variables, a fake home (so ~/.skae is empty) and no Debian copy."""
    for var in ("SKAE_DATA", "SKAE_MNIST_DIR", "SKAE_FASHION_MNIST_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setitem(datasets._DATASETS, "mnist", datasets._DATASETS["mnist"][:3]
                        + (str(tmp_path / "debian-mnist"),))
    monkeypatch.setitem(datasets._DATASETS, "fashion-mnist",
                        datasets._DATASETS["fashion-mnist"][:3]
                        + (str(tmp_path / "debian-fashion"),))
    return tmp_path


def test_load_digits():
    data = load_digits()
    assert data.data.shape == (1797, 64) and data.data.dtype == np.float32
    assert data.image_shape == (8, 8) and data.images.shape == (1797, 8, 8)
    assert data.data.min() == 0.0 and data.data.max() == 1.0
    X, y = load_digits(return_X_y=True)
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))


def test_load_train_test_digits():
    X_train, y_train, X_test, y_test, image_shape = load_train_test("digits")
    assert (len(X_train), len(X_test)) == (1347, 450) and image_shape == (8, 8)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    # a stratified 75/25 split: together the two sets are all the digits
    whole, labels = load_digits(return_X_y=True)
    assert np.all(np.abs(np.bincount(y_test) - 0.25 * np.bincount(labels)) <= 1)
    assert len(np.unique(np.vstack([X_train, X_test]), axis=0)) == len(np.unique(whole, axis=0))
    # subsets are stratified, reproducible and driven by random_state
    a = load_train_test("digits", n_train=200, n_test=100, random_state=1)
    b = load_train_test("digits", n_train=200, n_test=100, random_state=1)
    c = load_train_test("digits", n_train=200, n_test=100, random_state=2)
    assert (len(a[0]), len(a[2])) == (200, 100)
    assert np.bincount(a[1]).min() >= 19 and np.bincount(a[3]).min() >= 9
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_load_train_test_official_splits(isolated):
    train_images, train_labels = write_split(isolated / "data", "train", n=30)
    test_images, _ = write_split(isolated / "data", "test", n=25, seed=1)
    X_train, y_train, X_test, y_test, image_shape = load_train_test(
        "fashion-mnist", root=isolated / "data")
    assert image_shape == (28, 28) and (len(X_train), len(X_test)) == (30, 25)
    np.testing.assert_array_equal(X_train, train_images.reshape(30, -1) / np.float32(255))
    np.testing.assert_array_equal(y_train, train_labels)
    np.testing.assert_array_equal(X_test, test_images.reshape(25, -1) / np.float32(255))
    with pytest.raises(FileNotFoundError, match="mnist train split not found"):
        load_train_test("mnist", root=isolated / "nowhere")


def test_load_train_test_errors():
    with pytest.raises(ValueError, match="name must be one of"):
        load_train_test("cifar")
    with pytest.raises(ValueError, match="n_test must be at least 20"):
        load_train_test("digits", n_test=5)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_load_from_root(isolated, loader, gz):
    images, labels = write_split(isolated / "data", "train", n=6, gz=gz)
    write_split(isolated / "data", "test", n=3, gz=gz, seed=1)
    data = loader(root=isolated / "data")
    assert data.data.shape == (6, 784) and data.data.dtype == np.float32
    assert data.target.dtype == np.int64
    assert data.image_shape == (28, 28) and data.images.shape == (6, 28, 28)
    np.testing.assert_array_equal(data.target, labels)
    np.testing.assert_allclose(data.data, images.reshape(6, -1) / 255.0, rtol=1e-6)
    assert data.data.min() == 0.0 and data.data.max() == 1.0
    assert len(data.target_names) == 10
    X, y = loader("test", root=str(isolated / "data"), return_X_y=True)
    assert X.shape == (3, 784) and y.shape == (3,)


def test_torchvision_layout_and_subfolder(isolated):
    _, labels = write_split(isolated / "tv" / "FashionMNIST" / "raw", gz=False)
    _, y = load_fashion_mnist(root=isolated / "tv", return_X_y=True)
    np.testing.assert_array_equal(y, labels)
    _, labels = write_split(isolated / "home2" / "mnist", seed=3)
    _, y = load_mnist(root=isolated / "home2", return_X_y=True)
    np.testing.assert_array_equal(y, labels)


def test_search_order_env_default_debian(isolated, monkeypatch):
    # Debian location is the last resort.
    _, deb = write_split(isolated / "debian-fashion", seed=1)
    np.testing.assert_array_equal(load_fashion_mnist(return_X_y=True)[1], deb)
    # ~/.skae/datasets comes before it.
    _, home = write_split(isolated / "home" / ".skae" / "datasets" / "fashion-mnist",
                          seed=2)
    np.testing.assert_array_equal(load_fashion_mnist(return_X_y=True)[1], home)
    # $SKAE_DATA before that, the per-dataset variable before $SKAE_DATA.
    _, shared = write_split(isolated / "shared" / "FashionMNIST" / "raw", seed=3)
    monkeypatch.setenv("SKAE_DATA", str(isolated / "shared"))
    np.testing.assert_array_equal(load_fashion_mnist(return_X_y=True)[1], shared)
    _, own = write_split(isolated / "own", seed=4)
    monkeypatch.setenv("SKAE_FASHION_MNIST_DIR", str(isolated / "own"))
    np.testing.assert_array_equal(load_fashion_mnist(return_X_y=True)[1], own)
    # root wins over everything.
    _, rooted = write_split(isolated / "rooted", seed=5)
    np.testing.assert_array_equal(
        load_fashion_mnist(root=isolated / "rooted", return_X_y=True)[1], rooted)
    # The MNIST variable does not leak into Fashion-MNIST and vice versa.
    with pytest.raises(FileNotFoundError):
        load_mnist()


def test_not_found_message(isolated):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist("test", root=isolated / "nowhere")
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte" in msg and str(isolated / "nowhere") in msg
    assert "FashionMNIST" in msg and "debian-fashion" in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "download=True" in msg
    with pytest.raises(FileNotFoundError, match="download=True") as info:
        load_mnist()
    assert "apt-get" not in str(info.value)


def test_half_a_split_is_not_found(isolated):
    write_split(isolated / "d")
    os.remove(isolated / "d" / "train-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError):
        load_mnist(root=isolated / "d")


def test_bad_split(isolated):
    with pytest.raises(ValueError, match="split must be"):
        load_mnist("validation")


def test_download_uses_torchvision(isolated, monkeypatch):
    calls = []

    class FakeMNIST:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            write_split(Path(root) / "MNIST" / "raw", "train" if train else "test", n=2)

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    X, y = load_mnist("test", root=isolated / "dl", download=True, return_X_y=True)
    assert X.shape == (2, 784)
    assert calls == [(str(isolated / "dl"), False, True)]
    load_mnist("test", root=isolated / "dl", download=True)  # found: no new download
    assert len(calls) == 1


def test_read_idx_validation(tmp_path):
    good = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    (tmp_path / "ok").write_bytes(good)
    np.testing.assert_array_equal(read_idx(tmp_path / "ok"),
                                  np.arange(24).reshape(2, 3, 4))
    cases = {
        "magic": (b"\x01\x02" + good[2:], "bad magic number"),
        "empty": (b"", "bad magic number"),
        "type": (good[:2] + b"\x07" + good[3:], "unknown IDX element type"),
        "short": (good[:-1], "declares shape"),
        "long": (good + b"\x00", "declares shape"),
        "header": (good[:6], "truncated IDX header"),
        "gzip": (gzip.compress(good)[:-8], "not a valid gzip file"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=message):
            read_idx(tmp_path / name)


def test_mismatched_and_wrong_kind_files(isolated):
    folder = isolated / "bad"
    write_split(folder, n=4, gz=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3)))
    with pytest.raises(ValueError, match="4 images but .* 3 labels"):
        load_mnist(root=folder)
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros(3)))
    with pytest.raises(ValueError, match="3-D uint8 IDX image file"):
        load_mnist(root=folder)


@pytest.mark.slow
@pytest.mark.skipif(not (DEBIAN_FASHION / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="Fashion-MNIST not installed (apt-get install "
                           "dataset-fashion-mnist)")
def test_real_fashion_mnist_from_debian():
    test = load_fashion_mnist("test", root=DEBIAN_FASHION)
    assert test.data.shape == (10000, 784) and test.data.dtype == np.float32
    assert np.bincount(test.target).tolist() == [1000] * 10
    assert 0.0 == test.data.min() and test.data.max() == 1.0
    X, y = load_fashion_mnist("train", root=DEBIAN_FASHION, return_X_y=True)
    assert X.shape == (60000, 784) and np.bincount(y).tolist() == [6000] * 10


# ----------------------------------------------------------------- MATLAB files
def mat_round_trip(tmp_path, array, n_features, **kwargs):
    from scipy.io import loadmat, savemat

    savemat(tmp_path / "in.mat", {kwargs.pop("key", "input_images"): array})
    X, layout = read_mat_images(tmp_path / "in.mat", n_features, **kwargs)
    write_mat_images(tmp_path / "out.mat", X, layout)
    back = loadmat(tmp_path / "out.mat")[layout.key]
    assert back.shape == array.shape and back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)
    return X, layout


@pytest.mark.parametrize("layout, images_last", [
    ("NxF", False), ("FxN", True), ("NxHxW", False), ("HxWxN", True), ("HxW", False)])
def test_mat_layouts_round_trip(tmp_path, layout, images_last):
    images = np.random.default_rng(0).integers(0, 256, size=(3, 4, 4), dtype=np.uint8)
    array = {"NxF": images.reshape(3, 16), "FxN": images.reshape(3, 16).T,
             "NxHxW": images, "HxWxN": images.transpose(1, 2, 0), "HxW": images[0]}[layout]
    X, found = mat_round_trip(tmp_path, array, 16)
    n = 1 if layout == "HxW" else 3
    np.testing.assert_allclose(X, images[:n].reshape(n, 16) / 255, rtol=1e-6)
    assert X.dtype == np.float32 and found.images_last == images_last
    assert (found.key, found.scale, found.shape) == ("input_images", 255.0, array.shape)


def test_mat_n_first_wins_when_ambiguous_and_floats_keep_their_values(tmp_path):
    a = np.arange(8, dtype=np.float64).reshape(2, 2, 2)
    X, layout = mat_round_trip(tmp_path, a, 4, image_shape=(2, 2), key="imgs")
    np.testing.assert_array_equal(X, a.reshape(2, 4))
    assert not layout.images_last and layout.scale == 1.0 and layout.key == "imgs"


def test_mat_writes_rounded_clipped_integers(tmp_path):
    from scipy.io import loadmat, savemat

    savemat(tmp_path / "in.mat", {"x": np.zeros((2, 4), dtype=np.uint8)})
    _, layout = read_mat_images(tmp_path / "in.mat", 4)
    write_mat_images(tmp_path / "out.mat", [[-0.5, 0.2, 0.5, 1.5]] * 2, layout)
    assert loadmat(tmp_path / "out.mat")["x"].tolist() == [[0, 51, 128, 255]] * 2
    with pytest.raises(ValueError, match="holds 4 values"):
        write_mat_images(tmp_path / "out.mat", np.zeros((1, 4)), layout)


def test_mat_errors(tmp_path):
    from scipy.io import savemat

    savemat(tmp_path / "two.mat", {"a": np.zeros((2, 4)), "b": np.zeros((2, 4))})
    savemat(tmp_path / "text.mat", {"input_images": "hello"})
    (tmp_path / "bad.mat").write_bytes(b"not a MATLAB file" * 10)
    for name, value in [("nan", np.nan), ("inf", -np.inf), ("huge", 1e300)]:
        savemat(tmp_path / f"{name}.mat", {"a": np.where(np.eye(2, 4), value, 0.5)})
    cases = [
        ("nan.mat", {}, "holds NaN, infinite values or values beyond float32"),
        ("inf.mat", {}, "holds NaN, infinite values"),
        ("huge.mat", {}, r"beyond float32's range \(\|x\| > 3.4e38\)"),
        ("two.mat", {}, r"several variables \(a, b\); choose one with key=NAME"),
        ("two.mat", {"key": "c"}, "no variable 'c' in .*; available: a, b"),
        ("two.mat", {"key": "a", "scale": 10}, "scale must be"),
        ("text.mat", {}, "not a non-empty numeric array"),
        ("bad.mat", {}, "cannot read .* as a MATLAB .mat file"),
        ("two.mat", {"key": "a", "image_shape": None}, "do not fit the model"),
    ]
    for name, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            read_mat_images(tmp_path / name, 5 if "image_shape" in kwargs else 4, **kwargs)
    with pytest.raises(FileNotFoundError):
        read_mat_images(tmp_path / "missing.mat", 4)


# ----------------------------------------------------------------- examples
def test_parse_example_args(monkeypatch, capsys):
    monkeypatch.delenv("SKAE_EXAMPLES_QUICK", raising=False)
    args = parse_example_args([])
    assert (args.dataset, args.quick) == ("digits", False)
    assert parse_example_args(["--dataset", "mnist", "--quick"]).quick
    with pytest.raises(SystemExit):  # a misspelt flag is not silently ignored
        parse_example_args(["--datset", "fashion-mnist"])
    assert "unrecognized arguments: --datset" in capsys.readouterr().err
    monkeypatch.setenv("SKAE_EXAMPLES_QUICK", "1")
    monkeypatch.setattr("sys.argv", ["kernel.py", "-f", "kernel.json"])
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    assert parse_example_args().quick  # a Jupyter kernel's own options are not parsed
