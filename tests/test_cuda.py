"""Training on CUDA, and using a CUDA-trained model on a machine without one.

These tests need a GPU and are skipped where torch sees none (CI has none).
The CPU side of the story runs in a subprocess with ``CUDA_VISIBLE_DEVICES=""``
so that it really has no GPU, as on a laptop that receives the model file.
"""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import skae
from skae import (
    AutoencoderTransformer,
    DenoisingAE,
    EncoderClassifier,
    NoiseInjector,
    VAETransformer,
)
from skae.datasets import load_digits

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

FAST = dict(max_epochs=3, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


def make_estimators():
    return {
        "dense": AutoencoderTransformer(n_components=4, hidden_layer_sizes=(32,), **FAST),
        "conv": AutoencoderTransformer(n_components=4, architecture="conv",
                                       hidden_layer_sizes=(8, 16), **FAST),
        "dae": DenoisingAE(n_components=4, hidden_layer_sizes=(32,), noise_level=0.2, **FAST),
        "vae": VAETransformer(n_components=2, hidden_layer_sizes=(32,), **FAST),
        "clf": EncoderClassifier(AutoencoderTransformer(n_components=8,
                                                        hidden_layer_sizes=(32,), **FAST),
                                 freeze_encoder=False, **FAST),
    }


def outputs(est, X):
    if isinstance(est, EncoderClassifier):
        return est.predict_proba(X)
    return est.transform(X)


def run_on_cpu_only(code, tmp_path):
    """Run ``code`` in a fresh interpreter that cannot see any GPU."""
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    script = "import torch\nassert not torch.cuda.is_available()\n" + textwrap.dedent(code)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["dense", "conv", "dae", "vae", "clf"])
def test_fit_on_cuda_then_load_on_cpu(name, digits, tmp_path):
    X, y = digits
    est = make_estimators()[name].set_params(device="cuda")
    est.fit(X, y) if name == "clf" else est.fit(X)
    assert est.net_.weights_device.type == "cuda"
    out = outputs(est, X)
    # a CUDA model's results come back as host arrays
    assert isinstance(out, np.ndarray) and np.isfinite(out).all()
    skae.save(est, tmp_path / "model.skae")
    on_cpu = skae.load(tmp_path / "model.skae")
    expected = outputs(on_cpu, X)
    # the same weights on the CPU: equal up to kernel differences (cuDNN runs
    # convolutions in TF32 by default, about 3 significant digits)
    scale = np.abs(out).max()
    np.testing.assert_allclose(expected, out, rtol=1e-2, atol=1e-2 * scale)
    np.save(tmp_path / "expected.npy", expected)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    with open(tmp_path / "model.pkl", "wb") as fh:
        pickle.dump(est, fh)

    run_on_cpu_only(f"""
        import pickle, warnings
        import numpy as np
        import skae
        X, y, expected = np.load("X.npy"), np.load("y.npy"), np.load("expected.npy")
        is_clf = {name == "clf"}
        def outputs(est):
            return est.predict_proba(X) if is_clf else est.transform(X)

        # expected: the same files loaded on the CPU of the GPU machine
        loaded = skae.load("model.skae")
        assert loaded.net_.weights_device.type == "cpu"
        np.testing.assert_allclose(outputs(loaded), expected, rtol=1e-5, atol=1e-6)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skorch: "no CUDA, loading on cpu"
            with open("model.pkl", "rb") as fh:
                unpickled = pickle.load(fh)
        assert unpickled.net_.weights_device.type == "cpu"
        np.testing.assert_allclose(outputs(unpickled), expected, rtol=1e-5, atol=1e-6)

        # training goes on, on the CPU, where the weights now are
        if not is_clf:
            loaded.partial_fit(X)
            assert np.isfinite(loaded.transform(X)).all()
    """, tmp_path)


def test_auto_device_picks_cuda(digits):
    X, _ = digits
    est = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(32,), **FAST).fit(X)
    assert est.net_.weights_device.type == "cuda"


def test_cuda_and_cpu_fits_agree_in_quality(digits):
    X, _ = digits
    params = dict(n_components=8, hidden_layer_sizes=(64,), max_epochs=20,
                  early_stopping=False, random_state=0)
    gpu = AutoencoderTransformer(device="cuda", **params).fit(X)
    cpu = AutoencoderTransformer(device="cpu", **params).fit(X)
    # same seed, different kernels: not bitwise equal, but the same quality
    assert gpu.score(X) == pytest.approx(cpu.score(X), rel=0.1)


def test_cuda_determinism_for_dense(digits):
    X, _ = digits
    a = AutoencoderTransformer(n_components=4, device="cuda", **FAST).fit(X).transform(X)
    b = AutoencoderTransformer(n_components=4, device="cuda", **FAST).fit(X).transform(X)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_denoising_corruption_runs_on_the_gpu(digits):
    X, _ = digits
    dae = DenoisingAE(n_components=4, hidden_layer_sizes=(32,), noise="salt_and_pepper",
                      noise_level=0.1, device="cuda", **FAST).fit(X)
    assert dae.denoise(X).shape == X.shape
    noisy = NoiseInjector("gaussian", level=0.2, random_state=0).fit_transform(X)
    assert np.isfinite(dae.denoise(noisy)).all()


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["dense", "conv", "dae", "vae", "clf"])
def test_mixed_precision_on_cuda(name, precision, digits):
    X, y = digits
    est = make_estimators()[name].set_params(device="cuda", precision=precision)
    est.fit(X, y) if name == "clf" else est.fit(X)
    assert (est.net_.grad_scaler_ is not None) == (precision == "float16")
    out = outputs(est, X)
    assert out.dtype == X.dtype and np.isfinite(out).all()


def test_cuda_inference_runs_in_large_batches_and_matches_the_cpu(digits, tmp_path):
    X, _ = digits
    X = np.tile(X, (6, 1))  # 10782 rows: more than one GPU batch
    est = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(32,), device="cuda",
                                 **FAST).fit(X[:1797])
    skae.save(est, tmp_path / "m.skae")
    on_cpu = skae.load(tmp_path / "m.skae")
    np.testing.assert_allclose(est.transform(X), on_cpu.transform(X), rtol=1e-3, atol=1e-4)
