"""sklearn's estimator properties for the conv estimators, on image data.

tests/test_common.py runs sklearn's own checks on every estimator, but those
checks feed arrays with 1 to 10 features that are not images, so about 30 of
them are expected failures for ``architecture="conv"`` (``CONV_EXPECTED``
there): pickling, dtypes, idempotent fit, set_output, read-only memmap input,
clone, feature names, not modifying X and the rest were never checked for
the conv networks. This file checks the same properties on image-shaped data
(8x8 digits, with the square single-channel shape inferred, and 3x8x8 colour
images with an explicit ``image_shape``), with tiny networks and two epochs.
"""

import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skae
from skae import AutoencoderTransformer, DenoisingAE, EncoderClassifier, VAETransformer
from skae.datasets import load_digits

CONV = dict(architecture="conv", hidden_layer_sizes=(4, 8), max_epochs=2, batch_size=32)
HEAD = dict(hidden_layer_sizes=(8,), max_epochs=2, batch_size=32, lr=1e-2)

_Xd, _yd = load_digits(return_X_y=True)
#: 8x8 grey digits (64 features: conv infers a 1x8x8 image)
GREY = (_Xd[:160], _yd[:160], None)
#: 3x8x8 colour images (192 features; image_shape given), 3 classes
_rng = np.random.RandomState(0)
COLOUR = (_rng.uniform(size=(120, 192)).astype(np.float32), np.arange(120) % 3, (3, 8, 8))
DATA = {"grey": GREY, "colour": COLOUR}


def make(name, image_shape=None, random_state=0):
    """A small unfitted conv estimator."""
    conv = dict(CONV, image_shape=image_shape, random_state=random_state)
    if name == "ae":
        return AutoencoderTransformer(n_components=3, **conv)
    if name == "dae":
        return DenoisingAE(n_components=3, noise_level=0.2, **conv)
    if name == "dae_rec":
        return DenoisingAE(n_components=3, noise="mask", noise_level=[0.0, 0.3],
                           output="reconstruction", **conv)
    if name == "vae":
        return VAETransformer(n_components=3, **conv)
    if name == "clf":  # frozen conv encoder, pretrained inside fit
        return EncoderClassifier(AutoencoderTransformer(n_components=3, **conv),
                                 random_state=random_state, **HEAD)
    if name == "clf_vae":  # fine-tuned conv VAE encoder
        return EncoderClassifier(VAETransformer(n_components=3, dropout=0.1, **conv),
                                 freeze_encoder=False, random_state=random_state, **HEAD)
    raise ValueError(name)


TRANSFORMERS = ["ae", "dae", "dae_rec", "vae"]
CLASSIFIERS = ["clf", "clf_vae"]
ALL = TRANSFORMERS + CLASSIFIERS


def is_clf(est):
    return isinstance(est, EncoderClassifier)


def fit(est, X, y):
    return est.fit(X, y) if is_clf(est) else est.fit(X)


def outputs(est, X):
    """Every inference method's output on X, by name."""
    if is_clf(est):
        return {"predict_proba": est.predict_proba(X), "predict": est.predict(X)}
    out = {"transform": est.transform(X), "score_samples": est.score_samples(X),
           "reconstruct": est.reconstruct(X)}
    out["inverse_transform"] = est.inverse_transform(out["transform"])
    return out


def assert_same_outputs(a, b, exact=True):
    assert a.keys() == b.keys()
    for key in a:
        if exact:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6, err_msg=key)


def data(kind):
    X, y, shape = DATA[kind]
    return X.copy(), y.copy(), shape


params_all = pytest.mark.parametrize("name", ALL)
params_kind = pytest.mark.parametrize("kind", ["grey", "colour"])


# ------------------------------------------------------------------ fitted state
@params_kind
@params_all
def test_fit_returns_self_and_sets_fitted_state(name, kind):
    X, y, shape = data(kind)
    est = make(name, shape)
    methods = ["predict", "predict_proba"] if is_clf(est) else \
        ["transform", "score_samples", "reconstruct", "score"]
    for method in methods:  # check_fit_check_is_fitted
        with pytest.raises(NotFittedError):
            getattr(est, method)(X)
    assert fit(est, X, y) is est  # check_estimators_fit_returns_self
    assert est.n_features_in_ == X.shape[1]  # check_n_features_in
    ae = est.autoencoder_ if is_clf(est) else est
    assert ae.architecture == "conv" and ae.image_shape_ == (shape or (1, 8, 8))
    assert not hasattr(est, "feature_names_in_")  # fitted on an ndarray
    if is_clf(est):
        np.testing.assert_array_equal(est.classes_, np.unique(y))
    else:
        assert est.get_feature_names_out().shape == (est._n_features_out,)


# ------------------------------------------------------------------ dtypes
@params_all
def test_output_dtype_follows_input(name):
    # check_transformer_preserve_dtypes / check_estimators_dtypes
    X, y, shape = data("grey")
    for dtype in (np.float32, np.float64):
        est = fit(make(name, shape), X.astype(dtype), y)
        for key, value in outputs(est, X.astype(dtype)).items():
            expected = {"score_samples": np.float64, "predict": y.dtype}.get(key, dtype)
            assert value.dtype == expected, (key, dtype, value.dtype)
    # integer input is computed as float64 (on its own scale: pixels 0..16)
    X_int = np.round(X * 16).astype(np.int64)
    est = fit(make(name, shape), X_int, y)
    out = outputs(est, X_int)
    for key in ("transform", "reconstruct", "predict_proba"):
        if key in out:
            assert out[key].dtype == np.float64 and np.isfinite(out[key]).all()


# ------------------------------------------------------------------ randomness
@pytest.mark.quality
@params_kind
@params_all
def test_fit_is_idempotent_and_seeded(name, kind):
    # check_fit_idempotent: a second fit of the same estimator (and of a
    # clone) gives the same model; another seed gives another model
    X, y, shape = data(kind)
    est = fit(make(name, shape), X, y)
    first = outputs(est, X)
    assert_same_outputs(first, outputs(fit(est, X, y), X))
    assert_same_outputs(first, outputs(fit(clone(est), X, y), X))
    other = outputs(fit(make(name, shape, random_state=1), X, y), X)
    key = "predict_proba" if is_clf(est) else "transform"
    assert not np.allclose(first[key], other[key])


@pytest.mark.quality
@pytest.mark.parametrize("name", TRANSFORMERS + ["clf"])
def test_methods_sample_order_and_subset_invariance(name):
    # check_methods_sample_order_invariance / check_methods_subset_invariance:
    # a row's output does not depend on the other rows of the call (bitwise).
    # The default conv widths (32, 64): with tiny ones, even unpadded batches
    # happen to give the same bits, and the test could not fail
    X, y, shape = data("grey")
    est = make(name, shape)
    prefix = "autoencoder__" if is_clf(est) else ""
    est = fit(est.set_params(**{prefix + "hidden_layer_sizes": None,
                                prefix + "max_epochs": 1}), X, y)
    full = outputs(est, X)
    perm = np.random.RandomState(1).permutation(len(X))
    for key, value in outputs(est, X[perm]).items():
        np.testing.assert_array_equal(value, full[key][perm], err_msg=key)
    for key, value in outputs(est, X[7:12]).items():
        np.testing.assert_array_equal(value, full[key][7:12], err_msg=key)


# ------------------------------------------------------------------ persistence
@params_kind
@params_all
def test_pickle_joblib_and_save_round_trip(name, kind, tmp_path):
    # check_estimators_pickle, for pickle, joblib and skae.save/load
    X, y, shape = data(kind)
    est = fit(make(name, shape), X, y)
    expected = outputs(est, X)
    assert_same_outputs(expected, outputs(pickle.loads(pickle.dumps(est)), X))
    joblib.dump(est, tmp_path / "est.joblib")
    assert_same_outputs(expected, outputs(joblib.load(tmp_path / "est.joblib"), X))
    skae.save(est, tmp_path / "est.skae")
    loaded = skae.load(tmp_path / "est.skae")
    assert loaded.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    assert_same_outputs(expected, outputs(loaded, X))
    # an unfitted estimator pickles with its parameters
    unfitted = pickle.loads(pickle.dumps(make(name, shape)))
    assert repr(unfitted) == repr(make(name, shape))


# ------------------------------------------------------------------ inputs
@params_all
def test_readonly_memmap_and_read_only_input(name, tmp_path):
    # check_readonly_memmap_input: fit and predict on a read-only np.memmap
    X, y, shape = data("grey")
    expected = outputs(fit(make(name, shape), X, y), X)
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert isinstance(X_map, np.memmap) and not X_map.flags.writeable
    est = fit(make(name, shape), X_map, y)
    assert_same_outputs(expected, outputs(est, X_map))
    X_ro = X.copy()
    X_ro.setflags(write=False)
    assert_same_outputs(expected, outputs(fit(make(name, shape), X_ro, y), X_ro))


@params_all
def test_other_array_layouts_give_the_same_model(name):
    # check_f_contiguous_array_estimator, check_transformer_data_not_an_array,
    # check_dtype_object, check_requires_y_none / check_fit_score_takes_y
    X, y, shape = data("grey")
    est = fit(make(name, shape), X, y)
    expected = outputs(est, X)
    got = outputs(fit(make(name, shape), np.asfortranarray(X), y), np.asfortranarray(X))
    assert_same_outputs(expected, got)
    for variant in (X.tolist(), X.astype(object)):
        # lists and object arrays become float64: the same model (the network
        # computes in float32), outputs in float64
        got = outputs(fit(make(name, shape), variant, y), variant)
        assert_same_outputs(expected, got, exact=False)
    if not is_clf(est):
        ref = make(name, shape).fit(X, None)
        assert_same_outputs(expected, outputs(ref, X))
        assert ref.score(X, None) == est.score(X) == pytest.approx(np.mean(
            expected["score_samples"]))


@params_all
def test_fit_does_not_modify_input_params_or_state(name):
    # check_estimators_overwrite_params, check_dont_overwrite_parameters,
    # check_dict_unchanged; and X is never written to
    X, y, shape = data("colour")
    X_orig, y_orig = X.copy(), y.copy()
    est = make(name, shape)
    params = {k: (v if not hasattr(v, "get_params") else repr(v))
              for k, v in est.get_params(deep=True).items()}
    public_before = {k for k in vars(est) if not k.startswith("_")}
    fit(est, X, y)
    after = {k: (v if not hasattr(v, "get_params") else repr(v))
             for k, v in est.get_params(deep=True).items()}
    assert joblib.hash(after) == joblib.hash(params)
    added = {k for k in vars(est) if not k.startswith("_")} - public_before
    assert added and all(k.endswith("_") for k in added), added
    state = {k: joblib.hash(v) for k, v in vars(est).items() if k != "net_"}
    weights = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    outputs(est, X)
    est.score(X, y) if is_clf(est) else est.score(X)
    assert {k: joblib.hash(v) for k, v in vars(est).items() if k != "net_"} == state
    assert all(torch.equal(v, weights[k]) for k, v in est.net_.module_.state_dict().items())
    if not is_clf(est):
        est.partial_fit(X)
    np.testing.assert_array_equal(X, X_orig)
    np.testing.assert_array_equal(y, y_orig)


@params_all
def test_bad_input_is_rejected(name):
    # check_estimators_nan_inf, check_fit2d_predict1d,
    # check_estimators_partial_fit_n_features, check_n_features_in
    X, y, shape = data("grey")
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 5] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            fit(make(name, shape), Xb, y)
    est = fit(make(name, shape), X, y)
    for method in outputs(est, X[:2]):
        if method == "inverse_transform":
            continue
        with pytest.raises(ValueError, match="Reshape your data|1D"):
            getattr(est, method)(X[0])
        with pytest.raises(ValueError, match="63 features"):
            getattr(est, method)(X[:, :63])
        Xb = X[:4].copy()
        Xb[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            getattr(est, method)(Xb)
    if not is_clf(est):
        with pytest.raises(ValueError, match="features"):
            est.partial_fit(X[:, :63])
        # a conv network needs an image: 63 values are none
        with pytest.raises(ValueError, match="image_shape"):
            make(name, shape).fit(X[:, :63])
        # check_fit2d_1sample: one sample cannot be split for early stopping,
        # and fits without it
        with pytest.raises(ValueError, match="1 sample"):
            make(name, shape).fit(X[:1])
        one = make(name, shape).set_params(early_stopping=False).fit(X[:1])
        assert one.transform(X[:2]).shape[0] == 2


# ------------------------------------------------------------------ sklearn API
@params_all
def test_clone(name):
    X, y, shape = data("grey")
    est = make(name, shape)
    copy = clone(est)
    assert copy is not est and repr(copy) == repr(est)
    assert copy.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    if is_clf(est):
        assert copy.autoencoder is not est.autoencoder
        assert repr(copy.autoencoder) == repr(est.autoencoder)
    fit(est, X, y)
    again = clone(est)
    with pytest.raises(NotFittedError):
        (again.predict if is_clf(again) else again.transform)(X)
    assert repr(again) == repr(est)


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_transformer_general_and_pipeline(name):
    # check_transformer_general, check_pipeline_consistency
    X, y, shape = data("grey")
    a = make(name, shape).fit_transform(X)
    b = make(name, shape).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    pipe = make_pipeline(FunctionTransformer(), make(name, shape)).fit(X)
    np.testing.assert_array_equal(pipe.transform(X), b)
    assert pipe.score(X) == make(name, shape).fit(X).score(X)


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_set_output_pandas_and_feature_names(name):
    # check_set_output_transform(_pandas), check_global_output_transform_pandas,
    # check_get_feature_names_out_error, feature_names_in_
    pd = pytest.importorskip("pandas")
    X, y, shape = data("grey")
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)],
                      index=np.arange(len(X)) * 3)
    est = make(name, shape)
    expected = make(name, shape).fit(X).transform(X)
    out = est.set_output(transform="pandas").fit(df).transform(df)
    assert isinstance(out, pd.DataFrame)
    names = list(est.get_feature_names_out())
    assert list(out.columns) == names and out.index.equals(df.index)
    if getattr(est, "output", "latent") == "reconstruction":
        assert names == list(df.columns)
    else:
        assert names == [f"{type(est).__name__.lower()}{i}" for i in range(3)]
    np.testing.assert_array_equal(out.to_numpy(), expected)
    assert list(est.feature_names_in_) == list(df.columns)
    out = make(name, shape).set_output(transform="pandas").fit_transform(df)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == names
    with config_context(transform_output="pandas"):
        out = make(name, shape).fit(df).transform(df)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == names
    # other names, or no names, than in fit
    with pytest.raises(ValueError, match="feature names"):
        est.transform(df.rename(columns={"px0": "other"}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.transform(X)
    assert any("feature names" in str(w.message) for w in caught)


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_get_feature_names_out_before_fit_raises(name):
    # check_get_feature_names_out_error (sklearn 1.9 does not run it for these
    # estimators, so test_common.py's expected-failure entry never runs either)
    with pytest.raises(NotFittedError):
        make(name).get_feature_names_out()


@pytest.mark.parametrize("name", ["dae", "dae_rec"])
def test_denoising_get_feature_names_out_before_fit_raises(name):
    with pytest.raises(NotFittedError):
        make(name).get_feature_names_out()


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_feature_names_and_labels(name):
    pd = pytest.importorskip("pandas")
    X, y, shape = data("grey")
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    labels = np.array([f"digit {d}" for d in y])
    est = make(name, shape).fit(df, labels)
    assert list(est.feature_names_in_) == list(df.columns)
    assert set(est.predict(df)) <= set(labels) and est.predict(df).dtype == labels.dtype
    expected = make(name, shape).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(est.predict_proba(df), expected)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(df.rename(columns={"px0": "other"}))


def test_vae_sample_pickles_and_is_seeded():
    X, _, shape = data("colour")
    vae = make("vae", shape).fit(X)
    again = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(vae.sample(5, random_state=3), again.sample(5, random_state=3))
    assert vae.sample(5, random_state=3).shape == (5, 192)
    assert not np.allclose(vae.sample(5, random_state=3), vae.sample(5, random_state=4))
