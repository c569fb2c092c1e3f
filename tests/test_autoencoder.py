"""AutoencoderTransformer and the training core behind it."""

import os
import pickle
import threading
import time

import joblib
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from skorch.callbacks import Callback

import skae
from skae import AutoencoderTransformer
from skae.datasets import load_digits

#: learned-quality and numeric assertions: CI reruns this module on a second
#: numeric path (see .ci/run)
pytestmark = pytest.mark.quality

FAST = dict(hidden_layer_sizes=(32,), max_epochs=3, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return AutoencoderTransformer(n_components=4, **FAST).fit(X)


# ----------------------------------------------------------------- basics
def test_shapes_and_scores(digits, fitted):
    X, _ = digits
    Z = fitted.transform(X)
    assert Z.shape == (len(X), 4)
    rec = fitted.inverse_transform(Z)
    assert rec.shape == X.shape
    np.testing.assert_allclose(rec, fitted.reconstruct(X), rtol=1e-5, atol=1e-6)
    scores = fitted.score_samples(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    expected = -np.mean((X.astype(np.float64) - rec.astype(np.float64)) ** 2, axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    assert fitted.score(X) == pytest.approx(scores.mean())
    assert fitted.loss_ == "bce" and fitted.output_activation_ == "sigmoid"
    assert 0 <= rec.min() and rec.max() <= 1


def test_fitted_attributes(fitted):
    assert isinstance(fitted.net_, skae._training.TrainingNet)
    assert isinstance(fitted.encoder_, torch.nn.Module)
    assert isinstance(fitted.decoder_, torch.nn.Module)
    assert fitted.n_iter_ == len(fitted.history_) == 3
    assert {"epoch", "train_loss", "valid_loss", "dur"} <= set(fitted.history_[0])
    assert fitted.n_features_in_ == 64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_follows_input(digits, fitted, dtype):
    X = digits[0].astype(dtype)
    assert fitted.transform(X).dtype == dtype
    assert fitted.inverse_transform(fitted.transform(X)).dtype == dtype


def test_identity_output_and_mse_for_unscaled_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 10)) * 3
    ae = AutoencoderTransformer(n_components=3, **FAST).fit(X)
    assert ae.loss_ == "mse" and ae.output_activation_ == "identity"
    assert ae.inverse_transform(ae.transform(X)).min() < 0


def test_training_reduces_reconstruction_error(digits):
    X, _ = digits
    short = AutoencoderTransformer(n_components=8, max_epochs=1, early_stopping=False,
                                   random_state=0).fit(X)
    longer = AutoencoderTransformer(n_components=8, max_epochs=15, early_stopping=False,
                                    random_state=0).fit(X)
    losses = [h["train_loss"] for h in longer.history_]
    assert losses[-1] < losses[0]
    assert longer.score(X) > short.score(X)


# ----------------------------------------------------------------- conv
@pytest.mark.parametrize("image_shape, n_features", [
    (None, 64),          # square single channel inferred (8x8 digits)
    ((28, 28), 784),
    ((3, 8, 8), 192),    # multi-channel
    ((1, 7, 9), 63),     # odd, non-square sizes
])
def test_conv_any_image_size(image_shape, n_features):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(40, n_features)).astype(np.float32)
    ae = AutoencoderTransformer(n_components=5, architecture="conv",
                                hidden_layer_sizes=(4, 8), image_shape=image_shape,
                                max_epochs=1, early_stopping=False, random_state=0).fit(X)
    assert ae.transform(X).shape == (40, 5)
    assert ae.inverse_transform(ae.transform(X)).shape == (40, n_features)


def test_conv_learns_digits(digits):
    X, _ = digits
    ae = AutoencoderTransformer(n_components=16, architecture="conv", max_epochs=15,
                                batch_size=32, early_stopping=False, random_state=0).fit(X)
    assert ae.image_shape_ == (1, 8, 8)
    assert ae.score(X) > -0.02  # PCA(16) on digits: -0.011; the mean image: -0.09


# ----------------------------------------------------------------- sklearn integration
def test_pipeline_gridsearch_swaps_pca_and_autoencoder(digits):
    X, y = digits
    X, y = X[:600], y[:600]
    pipe = Pipeline([("reduce", PCA()), ("clf", LogisticRegression(max_iter=300))])
    ae = AutoencoderTransformer(hidden_layer_sizes=(64,), max_epochs=40, batch_size=32,
                                lr=1e-2, random_state=0)
    grid = GridSearchCV(pipe, {
        "reduce": [PCA(), ae],
        "reduce__n_components": [4, 8],
    }, cv=2)
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    kinds = {type(p["reduce"]).__name__ for p in grid.cv_results_["params"]}
    assert kinds == {"PCA", "AutoencoderTransformer"}
    # the baseline is PCA at the same n_components, not the grid's best (PCA
    # itself, whatever the autoencoder does): the autoencoder's codes carry
    # nearly as much class information (measured 0.72 / 0.77 against PCA's
    # 0.71 / 0.78; an untrained or 3-epoch autoencoder: 0.26-0.37)
    scores = {(type(p["reduce"]).__name__, p["reduce__n_components"]): s
              for p, s in zip(grid.cv_results_["params"],
                              grid.cv_results_["mean_test_score"])}
    for k in (4, 8):
        assert scores["AutoencoderTransformer", k] > scores["PCA", k] - 0.1, scores


def test_gridsearch_with_default_score(digits):
    X, _ = digits
    ae = AutoencoderTransformer(max_epochs=15, batch_size=32, early_stopping=False,
                                random_state=0)
    grid = GridSearchCV(ae, {"n_components": [2, 16]}, cv=2)
    grid.fit(X[:600])
    assert grid.best_params_ == {"n_components": 16}  # larger code reconstructs better


def test_tsne_on_codes(digits, fitted):
    X, _ = digits
    emb = TSNE(n_components=2, perplexity=10, random_state=0).fit_transform(
        fitted.transform(X[:150]))
    assert emb.shape == (150, 2) and np.isfinite(emb).all()


def test_feature_names_and_pandas_output(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    ae = AutoencoderTransformer(n_components=3, **FAST).set_output(transform="pandas")
    out = ae.fit(df).transform(df)
    assert list(out.columns) == ["autoencodertransformer0", "autoencodertransformer1",
                                 "autoencodertransformer2"]
    assert list(ae.feature_names_in_) == list(df.columns)


# ----------------------------------------------------------------- randomness
def test_same_seed_same_model_and_no_global_rng_leak(digits):
    X, _ = digits
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = AutoencoderTransformer(n_components=4, dropout=0.2, **FAST).fit(X)
    b = AutoencoderTransformer(n_components=4, dropout=0.2, **FAST).fit(X)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.history_[-1]["train_loss"] == b.history_[-1]["train_loss"]
    c = AutoencoderTransformer(n_components=4, dropout=0.2,
                               **{**FAST, "random_state": 1}).fit(X)
    assert not np.allclose(a.transform(X), c.transform(X))


def test_y_is_ignored(digits):
    X, y = digits
    a = AutoencoderTransformer(n_components=4, **FAST).fit(X)
    b = AutoencoderTransformer(n_components=4, **FAST).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_input_never_modified(digits):
    X = digits[0].copy()
    X_orig = X.copy()
    ae = AutoencoderTransformer(n_components=4, **FAST).fit(X)
    ae.transform(X)
    ae.score(X)
    ae.partial_fit(X)
    np.testing.assert_array_equal(X, X_orig)


# ----------------------------------------------------------------- training engine
class SnapshotWeights(Callback):
    """Keeps a copy of the encoder's weights after every epoch."""

    def initialize(self):
        self.snapshots = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.snapshots.append({k: v.clone() for k, v in
                               net.module_.encoder.state_dict().items()})


def test_early_stopping_stops_and_restores_best(digits):
    X, _ = digits
    ae = AutoencoderTransformer(n_components=8, max_epochs=300, patience=2, tol=0.0,
                                batch_size=32, callbacks=[("snap", SnapshotWeights())],
                                random_state=0).fit(X)
    assert ae.n_iter_ < 300
    valid = [h["valid_loss"] for h in ae.history_]
    best = int(np.argmin(valid))
    assert best == ae.n_iter_ - 1 - 2  # stopped after `patience` epochs without progress
    snapshots = dict(ae.net_.callbacks_)["snap"].snapshots
    restored = ae.encoder_.state_dict()
    for key, value in snapshots[best].items():
        assert torch.equal(restored[key], value)
    assert not torch.equal(restored[key], snapshots[-1][key])
    # user callbacks run before the stop, so they see every epoch, the last too
    assert len(snapshots) == ae.n_iter_


def test_early_stopping_needs_two_samples():
    with pytest.raises(ValueError, match="1 sample"):
        AutoencoderTransformer(n_components=2, early_stopping=True).fit(np.zeros((1, 4)))


def test_partial_fit_streams_chunks(digits):
    X, _ = digits
    ae = AutoencoderTransformer(n_components=8, hidden_layer_sizes=(32,), batch_size=64,
                                random_state=0)
    for chunk in np.array_split(X, 4):
        ae.partial_fit(chunk)
    assert ae.n_iter_ == 4
    first = ae.score(X)
    for _ in range(5):
        for chunk in np.array_split(X, 4):
            ae.partial_fit(chunk)
    assert ae.n_iter_ == 24
    assert ae.score(X) > first
    with pytest.raises(ValueError, match="features"):
        ae.partial_fit(X[:, :10])


def test_partial_fit_after_fit_continues(fitted, digits):
    X, _ = digits
    ae = pickle.loads(pickle.dumps(fitted))
    ae.partial_fit(X)
    assert ae.n_iter_ == fitted.n_iter_ + 1
    assert "valid_loss" not in ae.history_[-1]


def test_verbose_prints_progress(digits, capsys):
    X, _ = digits
    AutoencoderTransformer(n_components=2, verbose=1, **FAST).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 3


class CountBatches(Callback):
    def initialize(self):
        self.n_batches = 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        self.n_batches += training


def test_user_callbacks_run_and_are_not_modified(digits):
    X, _ = digits
    cb = CountBatches()
    callbacks = [cb]
    ae = AutoencoderTransformer(n_components=2, callbacks=callbacks,
                                **{**FAST, "max_epochs": 2}).fit(X)
    assert ae.callbacks is callbacks and callbacks == [cb]
    assert not hasattr(cb, "n_batches")  # the estimator worked on a copy
    used = dict(ae.net_.callbacks_)["user_0"]
    n_train = len(X) - int(np.ceil(0.1 * len(X)))
    assert used.n_batches == 2 * int(np.ceil(n_train / 64))


def test_optimizer_choices(digits):
    # the optimizer class actually built (a name silently mapped to Adam
    # fails); every estimator and the optimizer that steps: tests/test_settings.py
    X, _ = digits
    for opt, cls in [("sgd", torch.optim.SGD), ("adamw", torch.optim.AdamW),
                     ("rmsprop", torch.optim.RMSprop), ("adam", torch.optim.Adam),
                     (torch.optim.Adagrad, torch.optim.Adagrad)]:
        ae = AutoencoderTransformer(n_components=2, optimizer=opt, **FAST).fit(X[:200])
        assert type(ae.net_.optimizer_) is cls, opt
        assert np.isfinite(ae.score(X[:200]))


# ----------------------------------------------------------------- inference memory
def _status_bytes(key):
    """A size field (``VmRSS``, ``VmHWM``) of /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_rss_growth(fn):
    """``(fn(), peak growth of the resident set during the call, in bytes)``.

    What the process really holds, torch's allocations included (tracemalloc
    sees only Python's allocator): the kernel's peak RSS (``VmHWM``), reset
    just before the call through /proc/self/clear_refs, and, where that reset
    is not allowed, ``VmRSS`` sampled every millisecond in a thread.
    """
    base = _status_bytes("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        exact = True
    except OSError:
        exact = False
    peak = [base]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _status_bytes("VmRSS"))
            time.sleep(0.001)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        out = fn()
    finally:
        done.set()
        thread.join()
    peak = max(peak[0], _status_bytes("VmRSS"))
    if exact:
        peak = max(peak, _status_bytes("VmHWM"))
    return out, peak - base


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("method", ["transform", "score_samples"])
def test_transform_memory_is_bounded(method):
    # 32k x 784 float32 (96 MiB): a full copy of X (torch.tensor(X), a float64
    # or padded copy) dwarfs the output and the few batches inference may hold
    n, d = 32_000, 784
    X = np.random.default_rng(0).random((n, d), dtype=np.float32)
    ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(16,), max_epochs=1,
                                early_stopping=False, random_state=0).fit(X[:500])
    getattr(ae, method)(X[:300])  # first-call allocations (thread pools, kernels)
    out, growth = peak_rss_growth(lambda: getattr(ae, method)(X))
    assert out.shape[0] == n
    # docs/benchmarks.md: the growth beyond the output is a few batches of
    # activations (256 rows of 784 float32 are 0.8 MiB), not a copy of X
    slack = 16 * 2**20
    assert slack < X.nbytes / 5
    assert growth - out.nbytes < slack, (
        f"{method} grew the resident memory by {growth / 2**20:.1f} MiB for an output "
        f"of {out.nbytes / 2**20:.1f} MiB (X: {X.nbytes / 2**20:.0f} MiB)")


# ----------------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trip(digits, fitted, tmp_path):
    X, _ = digits
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.transform(X), fitted.transform(X))
    joblib.dump(fitted, tmp_path / "ae.joblib")
    again = joblib.load(tmp_path / "ae.joblib")
    np.testing.assert_array_equal(again.inverse_transform(again.transform(X)),
                                  fitted.inverse_transform(fitted.transform(X)))


def test_pickle_keeps_one_copy_of_the_weights(fitted):
    # skorch device-maps only `module_` & co.; the net's `module` parameter
    # must not hold the weights a second time (else they are pickled twice,
    # and a CUDA-trained model cannot be unpickled without CUDA:
    # tests/test_cuda.py)
    again = pickle.loads(pickle.dumps(fitted))
    for name in ("module", "criterion"):
        state = pickle.dumps(getattr(again.net_, name))
        assert len(state) < 1000, name
    # no callback keeps a snapshot of the weights once training has ended
    for name, cb in fitted.net_.callbacks_:
        held = [v for v in vars(cb).values() if isinstance(v, dict) and
                any(isinstance(t, torch.Tensor) for t in v.values())]
        assert not held, name


@pytest.mark.parametrize("architecture", ["dense", "conv"])
def test_save_load_round_trip(digits, tmp_path, architecture):
    X, _ = digits
    ae = AutoencoderTransformer(n_components=3, architecture=architecture,
                                **{**FAST, "hidden_layer_sizes": (4, 8)}).fit(X)
    path = tmp_path / "model.skae"
    skae.save(ae, path)
    loaded = skae.load(path)
    assert type(loaded) is AutoencoderTransformer
    assert loaded.get_params() == ae.get_params()
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), ae.score_samples(X))
    assert loaded.history_ == ae.history_ and loaded.n_iter_ == ae.n_iter_
    loaded.partial_fit(X)  # a loaded model can keep training
    assert loaded.n_iter_ == ae.n_iter_ + 1


def test_save_unfitted_and_with_dataframe_names(tmp_path, digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    skae.save(AutoencoderTransformer(n_components=7), tmp_path / "u.skae")
    assert skae.load(tmp_path / "u.skae").n_components == 7
    df = pd.DataFrame(X[:200], columns=[f"c{i}" for i in range(64)])
    ae = AutoencoderTransformer(n_components=2, **FAST).fit(df)
    skae.save(ae, tmp_path / "df.skae")
    assert list(skae.load(tmp_path / "df.skae").feature_names_in_) == list(df.columns)


def test_save_warns_about_callbacks(tmp_path):
    with pytest.warns(UserWarning, match="callbacks"):
        skae.save(AutoencoderTransformer(callbacks=[CountBatches()]), tmp_path / "c.skae")


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("X, match", [
    (np.array([[0.1, np.nan], [0.2, 0.3]]), "NaN"),
    (np.array([[0.1, np.inf], [0.2, 0.3]]), "infinity"),
    (np.array([0.1, 0.2, 0.3]), "2D array"),
    (np.empty((0, 4)), "0 sample"),
    (np.array([["a", "b"], ["c", "d"]], dtype=object), "could not convert|string"),
    (np.array([[1 + 2j, 1], [2, 3]]), "[Cc]omplex"),
])
def test_bad_input_rejected_before_training(X, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(n_components=2, early_stopping=False).fit(X)


def test_wrong_number_of_features(fitted, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="X has 10 features, but AutoencoderTransformer "
                                         "is expecting 64 features"):
        fitted.transform(X[:, :10])
    with pytest.raises(ValueError, match="expects 4"):
        fitted.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="features"):
        fitted.score(X[:, :10])


@pytest.mark.parametrize("params, match", [
    (dict(n_components=0), "n_components"),
    (dict(n_components=-3), "n_components"),
    (dict(architecture="lstm"), "architecture"),
    (dict(loss="hinge"), "loss"),
    (dict(dropout=1.0), "dropout"),
    (dict(lr=0), "lr"),
    (dict(batch_size=0), "batch_size"),
    (dict(activation="swish"), "activation"),
    (dict(validation_fraction=1.5), "validation_fraction"),
    (dict(hidden_layer_sizes=(16, 0)), "hidden_layer_sizes"),
])
def test_bad_parameters(params, match, digits):
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(**params).fit(digits[0][:50])


def test_conv_needs_image_shape_for_non_square():
    X = np.random.RandomState(0).uniform(size=(20, 60))
    with pytest.raises(ValueError, match="image_shape"):
        AutoencoderTransformer(architecture="conv").fit(X)
    with pytest.raises(ValueError, match="holds 64 values"):
        AutoencoderTransformer(architecture="conv", image_shape=(8, 8)).fit(X)


def test_bce_needs_unit_interval():
    X = np.random.RandomState(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match=r"loss='bce' needs X in \[0, 1\]"):
        AutoencoderTransformer(loss="bce").fit(X)
    with pytest.raises(ValueError, match="sigmoid"):
        AutoencoderTransformer(loss="bce", output_activation="identity").fit(np.abs(X) / 10)


def test_unfitted_raises():
    from sklearn.exceptions import NotFittedError

    ae = AutoencoderTransformer()
    for method in (ae.transform, ae.inverse_transform, ae.score, ae.score_samples):
        with pytest.raises(NotFittedError):
            method(np.zeros((2, 4)))


def test_cuda_unavailable_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        AutoencoderTransformer(device="cuda").fit(np.zeros((10, 4)))
