"""Reliability guarantees: batch-invariant inference, divergence, Ctrl-C,
checkpoint/resume after SIGKILL, and fits in concurrent threads."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback

from skae import (
    AutoencoderTransformer,
    DenoisingAE,
    EncoderClassifier,
    NoiseInjector,
    VAETransformer,
)
from skae._training import INFERENCE_BATCH_SIZE
from skae.datasets import load_digits

#: learned-quality and numeric assertions: CI reruns this module on a second
#: numeric path (see .ci/run)
pytestmark = pytest.mark.quality

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)


def _weights(est):
    return [p.detach().clone() for p in est.net_.module_.parameters()]


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert len(wa) == len(wb)
    for pa, pb in zip(wa, wb):
        assert torch.equal(pa, pb)


# ---------------------------------------------------------------- batch invariance
@pytest.fixture(scope="module")
def big_X():
    rng = np.random.default_rng(0)
    return rng.random((5000, 64)).astype(np.float32)


def _fitted_models():
    X, y = X_DIGITS[:600], Y_DIGITS[:600]
    fast = dict(max_epochs=1, random_state=0)
    ae = AutoencoderTransformer(n_components=8, **fast).fit(X)  # default (512, 256)
    return {
        "dense": ae,
        "conv": AutoencoderTransformer(n_components=8, architecture="conv", **fast).fit(X),
        "vae": VAETransformer(n_components=4, **fast).fit(X),
        "dae": DenoisingAE(n_components=8, dropout=0.1, **fast).fit(X),
        "clf": EncoderClassifier(ae, freeze_encoder=False, **fast).fit(X, y),
    }


@pytest.fixture(scope="module")
def fitted_models():
    return _fitted_models()


METHODS = {
    "dense": ["transform", "reconstruct", "score_samples"],
    "conv": ["transform", "reconstruct", "score_samples"],
    "vae": ["transform", "score_samples"],
    "dae": ["transform", "denoise"],
    "clf": ["predict_proba", "predict"],
}


@pytest.mark.parametrize("kind", list(METHODS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_rows_output_does_not_depend_on_the_other_rows(fitted_models, big_X, kind, dtype):
    est = fitted_models[kind]
    X = big_X.astype(dtype)
    rows = [0, 1, 255, 256, 2046, 2047, 2048, 4999]
    for method in METHODS[kind]:
        fn = getattr(est, method)
        full = fn(X)
        for n in (1, 2, 2047, 2048, 2049, 5000):
            part = fn(X[:n])
            np.testing.assert_array_equal(part, full[:n], err_msg=f"{method}, {n} rows")
        for i in rows:
            np.testing.assert_array_equal(fn(X[i:i + 1])[0], full[i],
                                          err_msg=f"{method}, row {i} alone")
        # a shuffled call gives the same rows
        perm = np.random.default_rng(1).permutation(len(X))
        np.testing.assert_array_equal(fn(X[perm]), full[perm], err_msg=method)


def test_inverse_transform_and_sample_are_batch_invariant(fitted_models):
    for kind in ("dense", "conv", "vae"):
        est = fitted_models[kind]
        Z = np.random.default_rng(0).normal(size=(2049, est.n_components)).astype(np.float32)
        full = est.inverse_transform(Z)
        for i in (0, 2047, 2048):
            np.testing.assert_array_equal(est.inverse_transform(Z[i:i + 1])[0], full[i])


def test_padding_is_never_visible(fitted_models):
    # the padded rows of the last batch are cut off: n rows in, n rows out
    est = fitted_models["dense"]
    for n in (1, INFERENCE_BATCH_SIZE - 1, INFERENCE_BATCH_SIZE, INFERENCE_BATCH_SIZE + 1):
        assert est.transform(X_DIGITS[:n]).shape == (n, est.n_components)


def test_overflowing_finite_input_raises_instead_of_nan(fitted_models):
    est = fitted_models["dense"]
    X = np.full((3, 64), 3e38, dtype=np.float32)
    with pytest.raises(ValueError, match="not finite.*overflow"):
        est.transform(X)


# ---------------------------------------------------------------- divergence
def test_divergence_without_weights_to_keep_raises_naming_the_epoch():
    ae = AutoencoderTransformer(lr=50, loss="mse", max_epochs=5, random_state=0)
    with pytest.raises(ValueError, match=r"diverged.*epoch 1\b.*learning rate.*scale"):
        ae.fit(X_DIGITS * 1e3)
    assert not hasattr(ae, "net_")


class BlowUpAt(Callback):
    """Make the weights infinite at the start of a given epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:
            with torch.no_grad():
                for p in net.module_.parameters():
                    p.fill_(float("inf"))


def test_divergence_restores_the_best_epoch_and_warns():
    ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(16,), max_epochs=6,
                                random_state=0, callbacks=[BlowUpAt(3)])
    with pytest.warns(RuntimeWarning, match=r"diverged.*epoch 3.*weights of epoch [12]\b"):
        ae.fit(X_DIGITS)
    assert ae.n_iter_ == 2
    assert all(np.isfinite(row["train_loss"]) for row in ae.history_)
    assert np.isfinite(ae.transform(X_DIGITS)).all()
    assert np.isfinite(ae.score(X_DIGITS))


# ---------------------------------------------------------------- Ctrl-C
class InterruptAt(Callback):
    """Raise KeyboardInterrupt in the middle of a given (1-based) epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, training=None, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1]["batches"]) > 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("early_stopping", [True, False])
def test_ctrl_c_keeps_the_best_weights_and_warns(early_stopping):
    kw = dict(n_components=4, hidden_layer_sizes=(16,), max_epochs=20, random_state=0,
              early_stopping=early_stopping)
    with pytest.warns(RuntimeWarning, match="interrupted at epoch 3 of 20"):
        ae = AutoencoderTransformer(callbacks=[InterruptAt(3)], **kw).fit(X_DIGITS)
    assert ae.n_iter_ == 2
    # the kept weights are those of a clean 2-epoch fit (with early stopping:
    # the best of its 2 epochs, restored in both)
    two = AutoencoderTransformer(**dict(kw, max_epochs=2)).fit(X_DIGITS)
    _assert_same_weights(ae, two)


def test_ctrl_c_before_any_epoch_completes_propagates():
    ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(16,), max_epochs=5,
                                random_state=0, callbacks=[InterruptAt(1)])
    with pytest.raises(KeyboardInterrupt):
        ae.fit(X_DIGITS)


# ---------------------------------------------------------------- checkpoints
CHILD = textwrap.dedent("""
    import sys
    from skae import DenoisingAE
    from skae.datasets import load_digits
    X, _ = load_digits(return_X_y=True)
    DenoisingAE(**{params}).fit(X)
""")

CKPT_PARAMS = dict(n_components=8, hidden_layer_sizes=(256, 128), dropout=0.1,
                   noise_level=[0.0, 0.2], max_epochs=12, patience=20, batch_size=32,
                   random_state=0)


def _epochs_in(path):
    try:
        return len(torch.load(path, weights_only=True)["history"])
    except Exception:  # not there yet, or being replaced
        return 0


class CountEpochs(Callback):
    def initialize(self):
        self.count = 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.count += 1


@pytest.mark.slow
def test_fit_killed_with_sigkill_resumes_to_the_same_weights(tmp_path):
    path = tmp_path / "fit.ckpt"
    params = dict(CKPT_PARAMS, checkpoint=str(path))
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(params=repr(params))],
                             env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        deadline = time.time() + 240
        while _epochs_in(path) < 3:
            assert child.poll() is None, "the child ended before it could be killed"
            assert time.time() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    done = _epochs_in(path)
    assert 3 <= done < CKPT_PARAMS["max_epochs"]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the child: kernels may split work by thread count
    try:
        resumed = DenoisingAE(callbacks=[("count", CountEpochs())], **params).fit(X_DIGITS)
        whole = DenoisingAE(**CKPT_PARAMS).fit(X_DIGITS)
    finally:
        torch.set_num_threads(threads)
    # the callbacks are copied at fit: count on the net's copy
    assert dict(resumed.net_.callbacks_)["count"].count == CKPT_PARAMS["max_epochs"] - done
    assert resumed.n_iter_ == whole.n_iter_ == CKPT_PARAMS["max_epochs"]
    _assert_same_weights(resumed, whole)
    assert [r["train_loss"] for r in resumed.history_] == \
        [r["train_loss"] for r in whole.history_]
    assert not path.exists()  # removed once the fit completed


@pytest.mark.parametrize("lr_schedule", ["constant", "cosine"])
def test_checkpoint_resume_after_ctrl_c_is_bitwise(tmp_path, lr_schedule):
    path = tmp_path / "fit.ckpt"
    kw = dict(n_components=4, hidden_layer_sizes=(32,), dropout=0.2, max_epochs=6,
              lr_schedule=lr_schedule, random_state=0, checkpoint=str(path))
    with pytest.warns(RuntimeWarning, match="interrupted at epoch 4"):
        AutoencoderTransformer(callbacks=[InterruptAt(4)], **kw).fit(X_DIGITS)
    assert _epochs_in(path) == 3  # kept: the fit did not complete
    resumed = AutoencoderTransformer(callbacks=[("count", CountEpochs())], **kw).fit(X_DIGITS)
    assert dict(resumed.net_.callbacks_)["count"].count == 3
    whole = AutoencoderTransformer(**dict(kw, checkpoint=None)).fit(X_DIGITS)
    assert resumed.n_iter_ == whole.n_iter_
    _assert_same_weights(resumed, whole)
    assert not path.exists()  # removed once the fit completed


def test_checkpoint_of_another_fit_is_ignored_with_a_warning(tmp_path):
    path = tmp_path / "fit.ckpt"
    kw = dict(n_components=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0,
              checkpoint=str(path))

    class Stop(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise SystemExit

    with pytest.raises(SystemExit):
        AutoencoderTransformer(callbacks=[Stop()], **kw).fit(X_DIGITS)
    assert path.exists()
    with pytest.warns(UserWarning, match="other parameters or data"):
        other = AutoencoderTransformer(**dict(kw, lr=2e-3)).fit(X_DIGITS)
    assert other.n_iter_ == 3
    path.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="cannot be read"):
        AutoencoderTransformer(**kw).fit(X_DIGITS)


def test_early_stopping_and_checkpoint_serve_one_fit(tmp_path):
    """After fit, partial_fit trains without validation: the fit's early
    stopping and checkpoint pass it by (no callback is removed from the net,
    so the user's callbacks keep their state) and hold no copy of weights."""
    path = tmp_path / "fit.ckpt"
    ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(16,), max_epochs=3,
                                random_state=0, checkpoint=str(path),
                                callbacks=[("count", CountEpochs())]).fit(X_DIGITS)
    names = [name for name, _ in ae.net_.callbacks_]
    assert "early_stopping" in names and "checkpoint" in names
    assert ae.net_.train_split is None  # the validation data is let go
    es = dict(ae.net_.callbacks_)["early_stopping"]
    assert es.best_model_weights_ is None
    assert not path.exists()
    for _ in range(2):
        ae.partial_fit(X_DIGITS)
    assert not path.exists()  # partial_fit writes no checkpoint
    assert [name for name, _ in ae.net_.callbacks_] == names
    assert dict(ae.net_.callbacks_)["count"].count == 3 + 2  # state kept
    assert len(ae.history_) == 5 and "valid_loss" not in ae.history_[-1]
    assert np.isfinite(ae.transform(X_DIGITS)).all()


# ---------------------------------------------------------------- threads
def _fit(est):
    return est.fit(X_DIGITS)


def _thread_models():
    kw = dict(n_components=4, hidden_layer_sizes=(32,), dropout=0.1, max_epochs=3,
              batch_size=64)
    return ([AutoencoderTransformer(random_state=s, **kw) for s in range(4)]
            + [DenoisingAE(random_state=0, **kw), VAETransformer(random_state=0, **kw)])


@pytest.mark.parametrize("how", ["joblib", "threads"])
def test_fits_in_concurrent_threads_equal_serial_fits(how):
    serial = [_fit(est) for est in _thread_models()]
    state = torch.get_rng_state()
    if how == "joblib":
        parallel = Parallel(n_jobs=len(serial), prefer="threads")(
            delayed(_fit)(est) for est in _thread_models())
    else:
        parallel = _thread_models()
        threads = [threading.Thread(target=_fit, args=(est,)) for est in parallel]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert torch.equal(torch.get_rng_state(), state)
    for a, b in zip(serial, parallel):
        _assert_same_weights(a, b)
    # and different seeds gave different models
    assert not torch.equal(_weights(serial[0])[0], _weights(serial[1])[0])


def test_partial_fit_does_not_touch_the_early_stopping_parameter():
    seen = []

    class Watch(Callback):
        def __init__(self, est):
            self.est = est

        def on_epoch_begin(self, net, **kwargs):
            seen.append(self.est.get_params()["early_stopping"])

    ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(8,), random_state=0)
    ae.set_params(callbacks=[Watch(ae)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.partial_fit(X_DIGITS)
    assert seen == [True]
    assert ae.n_iter_ == 1


def test_noise_injector_never_uses_the_global_rng():
    state = torch.get_rng_state()
    NoiseInjector("gaussian", 0.1, random_state=0).transform(X_DIGITS)
    assert torch.equal(torch.get_rng_state(), state)
