"""EncoderClassifier: a classifier on a pretrained (frozen or fine-tuned) encoder."""

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

import skae
from skae import AutoencoderTransformer, DenoisingAE, EncoderClassifier, VAETransformer
from skae.datasets import load_digits

#: learned-quality and numeric assertions: CI reruns this module on a second
#: numeric path (see .ci/run)
pytestmark = pytest.mark.quality

AE_FAST = dict(hidden_layer_sizes=(64,), max_epochs=15, lr=3e-3, batch_size=64,
               random_state=0)
CLF_FAST = dict(hidden_layer_sizes=(32,), max_epochs=20, lr=1e-2, batch_size=32,
                random_state=0)
TINY_AE = dict(hidden_layer_sizes=(16,), max_epochs=5, lr=1e-2, batch_size=32)
TINY_CLF = dict(hidden_layer_sizes=(16,), max_epochs=10, lr=1e-2, batch_size=32,
                random_state=0)
NAMES = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                  "eight", "nine"])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:1400], y[:1400], X[1400:], y[1400:]


@pytest.fixture(scope="module")
def ae(digits):
    return AutoencoderTransformer(n_components=16, **AE_FAST).fit(digits[0])


@pytest.fixture(scope="module")
def frozen(digits, ae):
    Xtr, ytr, _, _ = digits
    return EncoderClassifier(ae, **CLF_FAST).fit(Xtr, ytr)


def _weights(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class InitialWeights(Callback):
    """Records the trained module's weights before the first epoch.

    Callbacks are deep-copied by fit, so the record goes into a class dict.
    """

    record = {}

    def on_train_begin(self, net, **kwargs):
        InitialWeights.record["weights"] = _weights(net.module_)


# ------------------------------------------------------------------ basics
def test_fit_predict_proba_score(digits, frozen):
    _, _, Xte, yte = digits
    proba = frozen.predict_proba(Xte)
    assert proba.shape == (len(Xte), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert proba.min() >= 0
    pred = frozen.predict(Xte)
    np.testing.assert_array_equal(pred, frozen.classes_[proba.argmax(axis=1)])
    assert frozen.score(Xte, yte) == pytest.approx(accuracy_score(yte, pred))
    # a frozen 16-d code of a 15-epoch autoencoder + a small head, on held-out digits
    assert frozen.score(Xte, yte) > 0.8
    np.testing.assert_array_equal(frozen.classes_, np.arange(10))


def test_fitted_attributes(frozen):
    assert frozen.n_features_in_ == 64
    assert frozen.n_iter_ == len(frozen.history_) >= 1
    assert ({"epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "dur"}
            <= set(frozen.history_[0]))
    assert isinstance(frozen.net_, skae._training.TrainingNet)
    assert frozen.net_.module_.encoder is frozen.encoder_
    assert frozen.net_.module_.head is frozen.head_


@pytest.mark.parametrize("freeze", [True, False])
def test_early_stopping_watches_validation_accuracy(digits, ae, freeze):
    # As MLPClassifier: stop when the validation accuracy stalls and keep the
    # most accurate epoch (not the one with the lowest cross-entropy).
    Xtr, ytr, _, _ = digits
    clf = EncoderClassifier(ae, freeze_encoder=freeze, tol=0.0, patience=3,
                            **dict(CLF_FAST, max_epochs=60)).fit(Xtr, ytr)
    accs = [row["valid_acc"] for row in clf.history_]
    best = int(np.argmax(accs))  # first maximum: a tie is no progress
    assert clf.n_iter_ == best + 1 + 3 < 60  # stopped `patience` epochs after the best
    _, valid_idx = skae._training.split_for_validation(clf, len(Xtr), clf._seed_,
                                                       stratify=ytr)
    # the restored weights are the best epoch's: same accuracy on the split
    assert clf.score(Xtr[valid_idx], ytr[valid_idx]) == pytest.approx(accs[best])
    assert all(0 <= row["train_acc"] <= 1 for row in clf.history_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_proba_dtype_follows_input(digits, frozen, dtype):
    proba = frozen.predict_proba(digits[2].astype(dtype))
    assert proba.dtype == dtype
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_same_seed_same_model(digits, ae):
    Xtr, ytr, Xte, _ = digits
    a = EncoderClassifier(ae, freeze_encoder=False, **TINY_CLF).fit(Xtr, ytr)
    b = EncoderClassifier(ae, freeze_encoder=False, **TINY_CLF).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))


# ------------------------------------------------------------------ frozen / fine-tuned
def test_frozen_encoder_is_bit_identical_and_head_trains(digits, ae):
    Xtr, ytr, Xte, _ = digits
    InitialWeights.record.clear()
    clf = EncoderClassifier(ae, callbacks=[InitialWeights()], **CLF_FAST).fit(Xtr, ytr)
    assert _same(_weights(clf.encoder_), _weights(ae.encoder_))
    assert clf.encoder_ is not ae.encoder_  # a copy, never the autoencoder's own
    assert all(not p.requires_grad for p in clf.encoder_.parameters())
    # the head was trained: its weights moved away from their initial values
    head_init = InitialWeights.record["weights"]
    assert head_init.keys() == _weights(clf.head_).keys()
    assert not _same(head_init, _weights(clf.head_))
    # the codes the head sees are the autoencoder's transform
    with torch.inference_mode():
        codes = clf.encoder_(torch.from_numpy(Xte)).numpy()
    np.testing.assert_array_equal(codes, ae.transform(Xte))


def test_frozen_encoder_stays_in_eval_mode():
    X, y = load_digits(return_X_y=True)
    ae = AutoencoderTransformer(n_components=8, dropout=0.5, random_state=0,
                                **{k: v for k, v in TINY_AE.items()}).fit(X)
    clf = EncoderClassifier(ae, **TINY_CLF).fit(X, y)
    clf.net_.module_.train()
    assert clf.head_.training and not clf.encoder_.training  # dropout stays off
    with torch.no_grad():
        x = torch.from_numpy(X[:50])
        np.testing.assert_array_equal(clf.encoder_(x).numpy(), clf.encoder_(x).numpy())


def test_fine_tuning_changes_the_encoder(digits, ae):
    Xtr, ytr, Xte, yte = digits
    before = _weights(ae.encoder_)
    clf = EncoderClassifier(ae, freeze_encoder=False, **CLF_FAST).fit(Xtr, ytr)
    assert not _same(_weights(clf.encoder_), before)
    assert all(p.requires_grad for p in clf.encoder_.parameters())
    assert _same(_weights(ae.encoder_), before)  # the autoencoder's own is untouched
    assert clf.score(Xte, yte) > 0.85


# ------------------------------------------------------------------ the autoencoder
def test_fitted_autoencoder_is_reused_untouched(digits, ae, monkeypatch):
    Xtr, ytr, Xte, _ = digits
    weights = _weights(ae.net_.module_)
    attrs = {k: copy.deepcopy(v) for k, v in vars(ae).items() if k != "net_"}
    net, params, Z = ae.net_, ae.get_params(), ae.transform(Xte)

    def no_refit(self, *args, **kwargs):
        raise AssertionError("a fitted autoencoder must not be refit")

    monkeypatch.setattr(AutoencoderTransformer, "fit", no_refit)
    monkeypatch.setattr(AutoencoderTransformer, "partial_fit", no_refit)
    for freeze in (True, False):
        clf = EncoderClassifier(ae, freeze_encoder=freeze, **TINY_CLF).fit(Xtr, ytr)
        assert clf.autoencoder_ is ae
    assert ae.net_ is net and ae.get_params() == params
    assert _same(_weights(ae.net_.module_), weights)
    assert vars(ae).keys() - {"net_"} == attrs.keys()
    for key, value in attrs.items():
        assert repr(getattr(ae, key)) == repr(value), key
    np.testing.assert_array_equal(ae.transform(Xte), Z)


def test_unfitted_autoencoder_is_pretrained_on_X_without_y(digits):
    Xtr, ytr, Xte, _ = digits
    ae = AutoencoderTransformer(n_components=8, random_state=3, **TINY_AE)
    clf = EncoderClassifier(ae, **TINY_CLF).fit(Xtr, ytr)
    assert not hasattr(ae, "net_")  # the parameter itself stays unfitted
    assert clf.autoencoder_ is not ae and clf.autoencoder_.n_iter_ >= 1
    # pretraining is exactly a fit on X alone (y is not used)
    alone = clone(ae).fit(Xtr)
    np.testing.assert_array_equal(clf.autoencoder_.transform(Xte), alone.transform(Xte))


def test_unseeded_autoencoder_is_seeded_from_random_state(digits):
    Xtr, ytr, Xte, _ = digits
    ae = AutoencoderTransformer(n_components=8, **TINY_AE)
    a = EncoderClassifier(ae, **TINY_CLF).fit(Xtr, ytr)
    b = EncoderClassifier(ae, **TINY_CLF).fit(Xtr, ytr)
    assert ae.random_state is None
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))


def test_default_autoencoder():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    clf = EncoderClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert isinstance(clf.autoencoder_, AutoencoderTransformer)
    assert clf.autoencoder_.n_components == AutoencoderTransformer().n_components
    assert clf.autoencoder is None
    again = EncoderClassifier(max_epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))


def test_input_size_mismatch_is_a_clear_error(ae):
    rng = np.random.RandomState(0)
    X, y = rng.rand(40, 32), rng.randint(0, 2, 40)
    with pytest.raises(ValueError, match="X has 32 features, but the fitted autoencoder "
                                         r"\(AutoencoderTransformer\) was trained on 64"):
        EncoderClassifier(ae).fit(X, y)


def test_bad_parameters():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(InvalidParameterError, match="autoencoder"):
        EncoderClassifier(autoencoder="pca").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be"):
        EncoderClassifier(AutoencoderTransformer(**TINY_AE),
                          hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        EncoderClassifier().fit(X, y + 0.5)


@pytest.mark.parametrize("kind", ["vae", "denoising", "conv"])
def test_other_autoencoders(digits, kind):
    Xtr, ytr, Xte, yte = digits
    if kind == "vae":
        # a VAE needs a gentler lr than TINY_AE's, or its posterior collapses
        auto = VAETransformer(n_components=8, hidden_layer_sizes=(16,), max_epochs=10,
                              lr=3e-3, batch_size=32, random_state=0)
    elif kind == "denoising":
        auto = DenoisingAE(n_components=8, noise_level=0.2, random_state=0, **TINY_AE)
    else:
        auto = AutoencoderTransformer(n_components=8, architecture="conv",
                                      hidden_layer_sizes=(8, 16), max_epochs=3, lr=1e-2,
                                      batch_size=32, random_state=0)
    auto.fit(Xtr)
    frozen = EncoderClassifier(auto, **CLF_FAST).fit(Xtr, ytr)
    # the frozen encoder gives exactly the autoencoder's codes (the VAE's posterior mean)
    with torch.inference_mode():
        codes = frozen.encoder_(torch.from_numpy(Xte)).numpy()
    np.testing.assert_allclose(codes, auto.transform(Xte), rtol=1e-6, atol=1e-6)
    tuned = EncoderClassifier(auto, freeze_encoder=False, **CLF_FAST).fit(Xtr, ytr)
    assert frozen.score(Xte, yte) > 0.5
    assert tuned.score(Xte, yte) > 0.75


# ------------------------------------------------------------------ labels
def test_string_labels(digits, ae):
    Xtr, ytr, Xte, yte = digits
    clf = EncoderClassifier(ae, **TINY_CLF).fit(Xtr, NAMES[ytr])
    np.testing.assert_array_equal(clf.classes_, np.sort(NAMES))
    pred = clf.predict(Xte)
    assert pred.dtype.kind == "U" and set(pred) <= set(NAMES)
    assert clf.score(Xte, NAMES[yte]) > 0.5


def test_binary_and_non_contiguous_labels(digits, ae):
    Xtr, ytr, Xte, yte = digits
    labels = np.where(ytr < 5, -7, 40)
    clf = EncoderClassifier(ae, **TINY_CLF).fit(Xtr, labels)
    np.testing.assert_array_equal(clf.classes_, [-7, 40])
    assert clf.predict_proba(Xte).shape == (len(Xte), 2)
    assert clf.score(Xte, np.where(yte < 5, -7, 40)) > 0.7


# ------------------------------------------------------------------ sklearn tools
def test_pipeline_and_cross_val_score(digits):
    Xtr, ytr, _, _ = digits
    X, y = Xtr[:600] * 16, ytr[:600]  # unscaled pixels; the scaler brings them to [0, 1]
    pipe = Pipeline([("scale", MinMaxScaler()),
                     ("clf", EncoderClassifier(AutoencoderTransformer(
                         n_components=8, **TINY_AE), freeze_encoder=False, **TINY_CLF))])
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.5
    assert pipe.fit(X, y).score(X, y) > 0.5


def test_grid_search(digits):
    Xtr, ytr, _, _ = digits
    X, y = Xtr[:500], ytr[:500]
    clf = EncoderClassifier(AutoencoderTransformer(n_components=4, **TINY_AE), **TINY_CLF)
    grid = {"freeze_encoder": [True, False], "lr": [1e-2, 3e-3],
            "autoencoder__n_components": [4, 8]}
    search = GridSearchCV(clf, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert search.best_estimator_.autoencoder_.n_components == \
        search.best_params_["autoencoder__n_components"]
    assert search.best_score_ > 0.3  # 250 training samples per fold; chance is 0.1
    assert search.score(X, y) > 0.7


def test_frozen_estimator_shares_one_pretrained_autoencoder(digits, ae, monkeypatch):
    Xtr, ytr, _, _ = digits
    X, y = Xtr[:500], ytr[:500]

    def no_refit(self, *args, **kwargs):
        raise AssertionError("a fitted autoencoder must not be refit")

    monkeypatch.setattr(AutoencoderTransformer, "fit", no_refit)
    clf = EncoderClassifier(FrozenEstimator(ae), **TINY_CLF)
    search = GridSearchCV(clf, {"lr": [1e-2, 3e-3]}, cv=2).fit(X, y)
    assert search.best_estimator_.autoencoder_ is ae
    assert cross_val_score(clf, X, y, cv=2).mean() > 0.5
    with pytest.raises(ValueError, match="must wrap a fitted skae autoencoder"):
        EncoderClassifier(FrozenEstimator(AutoencoderTransformer())).fit(X, y)


# ------------------------------------------------------------------ persistence
def test_pickle(digits, frozen):
    Xte = digits[2]
    loaded = pickle.loads(pickle.dumps(frozen))
    np.testing.assert_array_equal(loaded.predict_proba(Xte), frozen.predict_proba(Xte))
    assert loaded.autoencoder_ is loaded.autoencoder  # identity of the reused autoencoder


@pytest.mark.parametrize("pretrained", [True, False])
def test_save_load(digits, ae, tmp_path, pretrained):
    Xtr, ytr, Xte, _ = digits
    auto = ae if pretrained else AutoencoderTransformer(n_components=8, random_state=0,
                                                        **TINY_AE)
    clf = EncoderClassifier(auto, freeze_encoder=not pretrained, **TINY_CLF)
    clf.fit(Xtr, NAMES[ytr])
    path = tmp_path / "clf.skae"
    skae.save(clf, path)
    loaded = skae.load(path)
    assert isinstance(loaded, EncoderClassifier)
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_allclose(loaded.predict_proba(Xte), clf.predict_proba(Xte),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(loaded.predict(Xte), clf.predict(Xte))
    assert loaded.n_iter_ == clf.n_iter_ and loaded.history_ == clf.history_
    assert loaded.freeze_encoder == clf.freeze_encoder
    np.testing.assert_allclose(loaded.autoencoder_.transform(Xte),
                               clf.autoencoder_.transform(Xte), rtol=1e-6)
    assert (loaded.autoencoder_ is loaded.autoencoder) == pretrained
    if not pretrained:
        assert not hasattr(loaded.autoencoder, "net_")


def test_save_unfitted(tmp_path):
    clf = EncoderClassifier(AutoencoderTransformer(n_components=5), lr=0.01)
    skae.save(clf, tmp_path / "c.skae")
    loaded = skae.load(tmp_path / "c.skae")
    assert loaded.get_params()["autoencoder__n_components"] == 5 and loaded.lr == 0.01
