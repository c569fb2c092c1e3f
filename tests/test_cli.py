"""The ``skae`` command, run in-process through ``skae.cli.main``."""

import gzip
import re
import struct

import numpy as np
import pytest
import scipy.io as sio

import skae.datasets
from skae import AutoencoderTransformer, DenoisingAE, NoiseInjector, VAETransformer
from skae.cli import main
from skae.datasets import load_digits, load_train_test
from skae.evaluation import mse, probe_accuracy, reconstruction_error

TINY = ["--max-epochs", "1", "--set", "hidden_layer_sizes=(8,)", "--n-train", "200"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------- help
@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["fit", "--help"],
                                  ["reconstruct", "--help"]])
def test_help(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: skae")
    if argv == ["--help"]:
        assert all(cmd in out for cmd in ("demo", "fit", "reconstruct"))


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 0 and "COMMAND" in out


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fit", "--model", "pca", "-o", "x"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--n-components", "0"])


# ----------------------------------------------------------------- demo
def test_demo_quick_with_figures(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--quick", "--n-components", "4",
                         "--out", str(tmp_path / "figs"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["model", "recon", "MSE", "probe", "acc", "noisy", "MSE",
                                "trust", "epochs", "fit", "time", "(s)", "transform", "(s)"]
    names = [line.split()[0] for line in lines[2:6]]
    assert names == ["PCA", "AE", "DAE", "VAE"]
    rows = {line.split()[0]: [float(v) for v in line.split()[1:4]] for line in lines[2:6]}
    # the baselines, on the demo's split (--quick: 300 training, 100 test images)
    X_train, y_train, X_test, y_test, image_shape = load_train_test(
        "digits", n_train=300, n_test=100)
    mean_image = float(np.mean((X_test - X_train.mean(axis=0)) ** 2))  # 0.072
    chance = np.bincount(y_test).max() / len(y_test)
    X_noisy = NoiseInjector("gaussian", 0.2, clip=(0, 1), random_state=0).transform(X_test)
    assert f"(the noisy input itself: {mse(X_noisy, X_test):.4f})" in out
    # PCA(4) beats the mean image and chance by far (0.0385, 0.87)
    recon, acc, noisy = rows["PCA"]
    assert recon < 0.7 * mean_image and noisy < 0.7 * mean_image and acc > 5 * chance
    # The --quick networks (2 epochs of 3 batches) are not trained enough to
    # beat the mean image (MSE 0.17): no quality is claimed for them; what the
    # table must do is report their real numbers, recomputed here
    for name, cls in [("AE", AutoencoderTransformer), ("DAE", DenoisingAE),
                      ("VAE", VAETransformer)]:
        est = cls(n_components=4, image_shape=image_shape, max_epochs=2,
                  hidden_layer_sizes=(32,), random_state=0).fit(X_train)
        recon, acc, noisy = rows[name]
        assert recon == pytest.approx(reconstruction_error(est, X_test), abs=6e-5), name
        assert acc == pytest.approx(probe_accuracy(est.transform(X_train), y_train,
                                                   est.transform(X_test), y_test),
                                    abs=6e-4), name
        assert noisy == pytest.approx(reconstruction_error(est, X_noisy, X_test),
                                      abs=6e-5), name
    assert "n_components=4" in out
    assert "fitting AE (AutoencoderTransformer)" in err  # progress on stderr
    # the outlier section: one-class protocol on each digit, mean AUROC and AP
    start = lines.index(next(line for line in lines if line.startswith("outlier detection")))
    assert lines[start + 1].split()[:2] == ["detector", "AUROC"]
    outliers = {line.rsplit(None, 3)[0]: [float(v) for v in line.rsplit(None, 3)[1:]]
                for line in lines[start + 3:start + 6]}
    assert list(outliers) == ["AE detector", "IsolationForest", "PCA recon error"]
    from sklearn.decomposition import PCA

    from skae.evaluation import one_class_scenarios, outlier_metrics

    aurocs, aps = [], []
    for X_c, X_te, inlier in one_class_scenarios(X_train, y_train, X_test, y_test).values():
        pca = PCA(4, random_state=0).fit(X_c)
        m = outlier_metrics(inlier, -np.mean(
            (pca.inverse_transform(pca.transform(X_te)) - X_te) ** 2, axis=1))
        aurocs.append(m["auroc"])
        aps.append(m["average_precision"])
    assert outliers["PCA recon error"][:2] == pytest.approx([np.mean(aurocs),
                                                             np.mean(aps)], abs=6e-5)
    assert all(0 <= v[0] <= 1 for v in outliers.values())
    files = {p.name for p in (tmp_path / "figs").iterdir()}
    assert {"results.txt", "reconstructions.png", "denoising.png", "latent_space.png",
            "history.png", "samples_VAE.png", "latent_grid_VAE.png",
            "robustness.png", "outliers.png"} <= files
    assert "PCA" in (tmp_path / "figs" / "results.txt").read_text()


def test_demo_pca_row_is_exact(capsys):
    """The PCA row reports the real test MSE of PCA on the same split."""
    from sklearn.decomposition import PCA

    from skae.datasets import load_train_test

    code, out, _ = run(capsys, "demo", "--quick", "--models", "pca", "--no-outliers")
    assert code == 0
    X_train, _, X_test, _, _ = load_train_test("digits", n_train=300, n_test=100)
    pca = PCA(8, random_state=0).fit(X_train)
    expected = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    row = out.splitlines()[2].split()
    assert row[0] == "PCA" and float(row[1]) == pytest.approx(expected, abs=6e-5)
    assert len(out.splitlines()) == 4  # header, rule, one row, notes


def test_demo_errors(capsys):
    code, _, err = run(capsys, "demo", "--quick", "--models", "pca,umap")
    assert code == 1 and "unknown model(s) ['umap']" in err
    code, _, err = run(capsys, "demo", "--quick", "--n-components", "65")
    assert code == 1 and "--n-components must be between 1 and 64" in err
    assert "Traceback" not in err


def write_idx(folder, prefix, n):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        header = struct.pack(">BBBB", 0, 0, 8, arr.ndim)
        header += struct.pack(f">{arr.ndim}I", *arr.shape)
        (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(
            gzip.compress(header + arr.tobytes()))


def test_demo_on_idx_files(capsys, tmp_path):
    write_idx(tmp_path, "train", 60)
    write_idx(tmp_path, "t10k", 30)
    code, out, err = run(capsys, "demo", "--quick", "--dataset", "fashion-mnist",
                         "--data-dir", str(tmp_path), "--models", "PCA,AE")
    assert code == 0, err
    assert "60 training and 30 test images of 28x28" in err
    assert [line.split()[0] for line in out.splitlines()[2:4]] == ["PCA", "AE"]


def test_missing_dataset_is_a_clear_error(capsys, tmp_path, monkeypatch):
    for var in ("SKAE_DATA", "SKAE_MNIST_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setitem(skae.datasets._DATASETS, "mnist",
                        skae.datasets._DATASETS["mnist"][:3] + (str(tmp_path / "deb"),))
    code, out, err = run(capsys, "demo", "--quick", "--dataset", "mnist",
                         "--data-dir", str(tmp_path / "empty"))
    assert code == 1 and out == ""
    assert "mnist train split not found" in err and "download=True" in err


# ----------------------------------------------------------------- fit
@pytest.mark.parametrize("model, cls", [("ae", "AutoencoderTransformer"),
                                        ("conv-ae", "AutoencoderTransformer"),
                                        ("dae", "DenoisingAE"),
                                        ("vae", "VAETransformer")])
def test_fit_saves_a_loadable_model(capsys, tmp_path, model, cls):
    path = tmp_path / "models" / f"{model}.skae"
    code, out, err = run(capsys, "fit", "--model", model, "--n-components", "3",
                         "-o", str(path), "--set", "lr=0.005", *TINY)
    assert code == 0, err
    est = skae.load(path)
    assert type(est).__name__ == cls and est.n_components == 3
    assert est.lr == 0.005 and est.hidden_layer_sizes == (8,) and est.n_iter_ == 1
    assert est.architecture == ("conv" if model == "conv-ae" else "dense")
    reported = float(re.search(r"test reconstruction MSE ([0-9.]+)", out).group(1))
    assert str(path) in out
    # one epoch of a width-8 network does not beat the mean image (no quality
    # is claimed): the line must report the saved model's real test MSE
    _, _, X_test, _, _ = load_train_test("digits", n_train=200)
    assert f"({len(X_test)} test images)" in out
    assert reported == pytest.approx(reconstruction_error(est, X_test), abs=6e-5)
    X, _ = load_digits(return_X_y=True)
    assert est.transform(X[:5]).shape == (5, 3)


def test_fit_errors(capsys, tmp_path):
    out = str(tmp_path / "m.skae")
    code, _, err = run(capsys, "fit", "-o", out, "--set", "no_such_param=1", *TINY)
    assert code == 1 and "no_such_param" in err
    code, _, err = run(capsys, "fit", "-o", out, "--set", "lr", *TINY)
    assert code == 1 and "KEY=VALUE" in err
    code, _, err = run(capsys, "fit", "-o", out, *TINY, "--set", "lr=-1")
    assert code == 1 and "'lr' parameter" in err and "Traceback" not in err
    assert not (tmp_path / "m.skae").exists()


# ----------------------------------------------------------------- reconstruct
@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    X, _ = load_digits(return_X_y=True)
    est = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(16,), max_epochs=2,
                                 image_shape=(8, 8), random_state=0).fit(X)
    path = tmp_path_factory.mktemp("model") / "digits.skae"
    skae.save(est, path)
    return path, est, X


@pytest.fixture(scope="module")
def mnist_model(tmp_path_factory):
    X = np.random.default_rng(0).random((60, 784)).astype(np.float32)
    est = AutoencoderTransformer(n_components=2, hidden_layer_sizes=(8,), max_epochs=1,
                                 random_state=0).fit(X)  # no image_shape: 28 x 28 guessed
    path = tmp_path_factory.mktemp("model") / "mnist.skae"
    skae.save(est, path)
    return path, est


def reconstruct_file(capsys, model, tmp_path, data, *extra, key="input_images"):
    src, dst = tmp_path / "in.mat", tmp_path / "out.mat"
    sio.savemat(src, {key: data})
    code, out, err = run(capsys, "reconstruct", str(model), str(src), "-o", str(dst),
                         *extra)
    assert code == 0, err
    result = sio.loadmat(dst)
    assert [k for k in result if not k.startswith("__")] == [key]
    return result[key], out


@pytest.mark.parametrize("layout", ["NxF", "FxN", "NxHxW", "HxWxN", "HxW"])
def test_reconstruct_layouts_uint8(capsys, tmp_path, mnist_model, layout):
    path, est = mnist_model
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    data = {"NxF": images.reshape(5, 784), "FxN": images.reshape(5, 784).T,
            "NxHxW": images, "HxWxN": images.transpose(1, 2, 0), "HxW": images[0]}[layout]
    result, out = reconstruct_file(capsys, path, tmp_path, data)
    assert result.shape == data.shape and result.dtype == np.uint8
    n = 1 if layout == "HxW" else 5
    X = images[:n].reshape(n, 784).astype(np.float32) / 255
    expected = np.clip(np.rint(est.reconstruct(X) * 255), 0, 255).astype(np.uint8)
    back = {"NxF": lambda r: r, "FxN": lambda r: r.T,
            "NxHxW": lambda r: r.reshape(5, 784),
            "HxWxN": lambda r: r.transpose(2, 0, 1).reshape(5, 784),
            "HxW": lambda r: r.reshape(1, 784)}[layout](result)
    assert np.abs(back.astype(int) - expected.astype(int)).max() <= 1
    mse = np.mean((est.reconstruct(X).astype(np.float64) - X) ** 2)
    printed = float(re.search(r"MSE ([0-9.]+)", out).group(1))
    assert printed == pytest.approx(mse, abs=2e-6)
    assert f"reconstructed {n} images" in out


def test_reconstruct_float_keeps_dtype_and_values(capsys, tmp_path, digits_model):
    path, est, X = digits_model
    data = X[:7].astype(np.float64).reshape(7, 8, 8)
    result, out = reconstruct_file(capsys, path, tmp_path, data, "--key", "digits",
                                   key="digits")
    assert result.dtype == np.float64 and result.shape == (7, 8, 8)
    np.testing.assert_allclose(result.reshape(7, 64), est.reconstruct(X[:7]), atol=1e-6)
    assert "the input's units" in out


def test_reconstruct_float_0_255_needs_scale(capsys, tmp_path, digits_model):
    path, est, X = digits_model
    data = X[:4] * 255.0
    src = tmp_path / "in.mat"
    sio.savemat(src, {"input_images": data})
    code, _, err = run(capsys, "reconstruct", str(path), str(src), "-o",
                       str(tmp_path / "o.mat"))
    assert code == 1 and "--scale 255" in err
    result, _ = reconstruct_file(capsys, path, tmp_path, data, "--scale", "255")
    np.testing.assert_allclose(result, est.reconstruct(X[:4]) * 255, atol=1e-3)


def test_reconstruct_only_variable_is_the_default_key(capsys, tmp_path, digits_model):
    path, _, X = digits_model
    result, _ = reconstruct_file(capsys, path, tmp_path, X[:3].astype(np.float32),
                                 key="imgs")
    assert result.shape == (3, 64) and result.dtype == np.float32


def test_reconstruct_errors(capsys, tmp_path, digits_model):
    path, _, X = digits_model
    good = tmp_path / "good.mat"
    sio.savemat(good, {"a": X[:2], "b": X[:2]})
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"this is not a MATLAB file" * 10)
    small = tmp_path / "small.mat"
    sio.savemat(small, {"input_images": np.zeros((3, 5, 5), dtype=np.uint8)})
    text = tmp_path / "text.mat"
    sio.savemat(text, {"input_images": "hello"})
    out = str(tmp_path / "o.mat")
    cases = [
        ([str(path), str(good), "-o", out, "--key", "input_images"],
         "no variable 'input_images' in .*good.mat; available: a, b"),
        ([str(path), str(good), "-o", out], "several variables \\(a, b\\).*--key"),
        ([str(path), str(bad), "-o", out], "cannot read .*bad.mat as a MATLAB .mat file"),
        ([str(path), str(small), "-o", out],
         "images of shape 3 x 5 x 5 do not fit the model, which takes 64 values"),
        ([str(path), str(text), "-o", out], "not a non-empty numeric array"),
        ([str(path), str(tmp_path / "missing.mat"), "-o", out], "input file .* not found"),
        ([str(tmp_path / "none.skae"), str(good), "-o", out], "model file .* not found"),
        ([str(good), str(good), "-o", out], "cannot load model"),
    ]
    for argv, message in cases:
        code, stdout, err = run(capsys, "reconstruct", *argv)
        assert code == 1, argv
        assert re.search(message, err), (message, err)
        assert err.startswith("skae reconstruct: error:") and "Traceback" not in err
    assert not (tmp_path / "o.mat").exists()


def test_threads_are_restored_after_an_in_process_call(capsys):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        code, _, _ = run(capsys, "demo", "--quick", "--models", "pca")  # digits: 1 thread
        assert code == 0 and torch.get_num_threads() == 2
        code, _, _ = run(capsys, "demo", "--quick", "--models", "pca", "--threads", "1")
        assert code == 0 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------- one-line errors
def assert_one_line_error(code, err, command, message):
    assert code == 1
    assert err.startswith(f"skae {command}: error:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), (message, err)


def test_reconstruct_refuses_models_that_do_not_reconstruct(capsys, tmp_path, digits_model):
    from skae import EncoderClassifier, NoiseInjector

    _, _, X = digits_model
    src = tmp_path / "in.mat"
    sio.savemat(src, {"input_images": X[:3]})
    y = np.arange(len(X)) % 10
    models = {
        "unfitted": (AutoencoderTransformer(), "AutoencoderTransformer in .* is not fitted"),
        "noise": (NoiseInjector().fit(X), "NoiseInjector in .* does not reconstruct images"),
        "classifier": (EncoderClassifier(AutoencoderTransformer(n_components=2),
                                         hidden_layer_sizes=(4,), max_epochs=1,
                                         random_state=0).fit(X[:100], y[:100]),
                       "EncoderClassifier in .* does not reconstruct"),
    }
    for name, (model, message) in models.items():
        path = tmp_path / f"{name}.skae"
        skae.save(model, path)
        code, out, err = run(capsys, "reconstruct", str(path), str(src), "-o",
                             str(tmp_path / "o.mat"))
        assert_one_line_error(code, err, "reconstruct", message)
    assert not (tmp_path / "o.mat").exists()


def test_corrupt_idx_file_is_a_one_line_error(capsys, tmp_path):
    write_idx(tmp_path, "train", 60)
    write_idx(tmp_path, "t10k", 30)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08"))
    code, out, err = run(capsys, "demo", "--quick", "--dataset", "fashion-mnist",
                         "--data-dir", str(tmp_path), "--models", "PCA")
    assert_one_line_error(code, err, "demo", "is not an IDX file|truncated")
    assert out == ""


@pytest.mark.parametrize("command", ["demo", "fit", "reconstruct"])
def test_output_paths_are_checked_before_any_work(capsys, tmp_path, digits_model, command,
                                                  monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("the output path must be checked before loading the data")

    # the commands import these when they run: patch them where they live
    monkeypatch.setattr("skae.datasets.load_train_test", no_training)
    monkeypatch.setattr("skae._persistence.load", no_training)
    folder = tmp_path / "existing"
    folder.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    path, _, X = digits_model
    src = tmp_path / "in.mat"
    sio.savemat(src, {"input_images": X[:3]})
    cases = {
        "demo": [(["demo", "--quick", "--out", str(a_file)], "exists and is not a folder"),
                 (["demo", "--quick", "--out", str(a_file / "figs")],
                  "a_file is not a folder")],
        "fit": [(["fit", "-o", str(folder), *TINY], "is a folder; give a file name"),
                (["fit", "-o", str(a_file / "m.skae"), *TINY], "a_file is not a folder")],
        "reconstruct": [(["reconstruct", str(path), str(src), "-o", str(folder)],
                         "is a folder; give a file name")],
    }[command]
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert_one_line_error(code, err, command, message)
