"""Every example in examples/ runs end to end, quickly (SKAE_EXAMPLES_QUICK=1).

The examples run in this process with ``runpy`` (no second torch import), on
the Agg backend, with one torch thread: their networks are tiny in quick mode
and extra threads only add overhead on a busy machine. Each example is also
checked for what it computes, not only for running.
"""

import gzip
import importlib.util
import runpy
import struct
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))
OPTUNA_MISSING = "optuna is not installed (optional extra: pip install -e '.[optuna]')"


@pytest.fixture
def quick_mode(monkeypatch):
    monkeypatch.setenv("SKAE_EXAMPLES_QUICK", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    plt.close("all")
    yield
    torch.set_num_threads(threads)
    plt.close("all")


def run_example(path, monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    return runpy.run_path(str(path), run_name="__main__")


def _finite(values):
    return bool(np.all(np.isfinite(np.asarray(values, dtype=float))))


def check_latent_size_sweep(ns):
    assert set(ns["results"]) == {"PCA", "autoencoder"}
    for errors in ns["results"].values():
        assert len(errors) == len(ns["sizes"]) and _finite(errors)
    assert ns["results"]["PCA"] == sorted(ns["results"]["PCA"], reverse=True)


def check_grid_search(ns):
    n_ae = int(np.prod([len(v) for v in ns["ae_grid"].values()]))
    assert len(ns["results"]) == len(ns["sizes"]) + n_ae
    assert ns["results"]["mean_test_accuracy"].between(0.5, 1).all()
    assert (ns["results"]["mean_test_reconstruction"] < 0).all()
    assert hasattr(ns["search"], "best_estimator_")


def check_denoising_robustness(ns):
    report = ns["report"]
    assert len(report) == len(ns["noises"]) + 1
    assert report.columns[-3:] == ["mse_pca", "mse_ae", "mse_dae"]
    assert {row["kind"] for row in report.rows[1:]} == {
        "gaussian", "uniform", "salt_and_pepper", "occlusion", "flip", "mask"}
    assert _finite(report["mse_dae"])


def check_vae(ns):
    assert ns["vae2"].n_components == 2
    assert ns["vae"].score(ns["X_test"]) < 0
    assert len(plt.get_fignums()) == 5


def check_latent_space(ns):
    assert [Z.shape[0] for Z in ns["spaces"].values()] == [len(ns["y_test"])] * 3
    assert len(plt.gcf().axes) == 6


def check_pretrained_classifier(ns):
    for values in ns["accuracy"].values():
        assert len(values) == len(ns["label_counts"])
        assert all(0 <= v <= 1 for v in values)
    assert ns["accuracy"]["logistic regression (pixels)"][0] > 0.5


def check_denoise_before_classify(ns):
    assert len(ns["pipeline_accuracy"]) == len(ns["report"])
    assert ns["report"]["acc_noisy"][0] > 0.8  # the clean classifier


def check_optuna_search(ns):
    assert len(ns["study"].trials) == ns["n_trials"]
    assert ns["study"].best_value > 0


CHECKS = {name[len("check_"):]: check for name, check in globals().items()
          if name.startswith("check_")}


def test_every_example_is_checked():
    assert sorted(f"plot_{name}" for name in CHECKS) == [p.stem for p in EXAMPLES]


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, quick_mode, monkeypatch, capsys):
    if path.stem == "plot_optuna_search" and importlib.util.find_spec("optuna") is None:
        pytest.skip(OPTUNA_MISSING)
    ns = run_example(path, monkeypatch)
    assert ns["args"].dataset == "digits" and ns["quick"]
    assert plt.get_fignums(), "the example drew no figure"
    assert capsys.readouterr().out.strip(), "the example printed no result"
    CHECKS[path.stem[len("plot_"):]](ns)


def write_idx(folder, prefix, n, rng):
    """A tiny Fashion-MNIST-like split: random 28x28 images, every class."""
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        header = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(
            f">{arr.ndim}I", *arr.shape)
        (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(header + arr.tobytes()))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["plot_latent_size_sweep", "plot_vae", "plot_latent_space"])
def test_example_dataset_flag(name, quick_mode, monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path, "train", 200, rng)
    write_idx(tmp_path, "t10k", 100, rng)
    monkeypatch.setenv("SKAE_FASHION_MNIST_DIR", str(tmp_path))
    ns = run_example(EXAMPLES_DIR / f"{name}.py", monkeypatch, "--dataset", "fashion-mnist")
    assert ns["args"].dataset == "fashion-mnist"
    assert ns["image_shape"] == (28, 28) and ns["X_train"].shape == (200, 784)
    assert plt.get_fignums(), "the example drew no figure"


def test_optuna_example_without_optuna(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optuna", None)  # makes `import optuna` fail
    monkeypatch.setenv("SKAE_EXAMPLES_QUICK", "1")
    with pytest.raises(SystemExit) as info:
        run_example(EXAMPLES_DIR / "plot_optuna_search.py", monkeypatch)
    assert info.value.code in (0, None)
    assert "needs optuna" in capsys.readouterr().out


def test_misspelt_flag_is_an_error(monkeypatch, capsys):
    """``--datset`` stops the example at once instead of running on digits."""
    with pytest.raises(SystemExit) as info:
        run_example(EXAMPLES_DIR / "plot_latent_size_sweep.py", monkeypatch,
                    "--datset", "fashion-mnist")
    assert info.value.code == 2
    assert "unrecognized arguments: --datset" in capsys.readouterr().err
