"""ONNX export: skae.to_onnx and the skl2onnx converters match skae's own outputs."""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import skl2onnx
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skae
from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAE,
    EncoderClassifier,
    NoiseInjector,
    VAETransformer,
)
from skae._onnx import (
    ONNX_ESTIMATORS,
    OnnxEntry,
    ReconstructionScore,
    _autoencoder_methods,
)
from skae._registry import ESTIMATORS
from skae.datasets import load_digits

X, Y = (a[:300] for a in load_digits(return_X_y=True))
X32 = X.astype(np.float32)  # what the graphs take (load_digits gives float32 already)
TINY = dict(hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
CONV = dict(architecture="conv", hidden_layer_sizes=(4, 8), max_epochs=1, random_state=0)
ATOL = 1e-5
BATCHES = (1, 7, 300)  # the batch axis is dynamic: any number of rows runs


def session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def run(model, x):
    sess = session(model)
    return sess.run(None, {sess.get_inputs()[0].name: x})


@pytest.fixture(scope="module")
def models():
    ae = AutoencoderTransformer(n_components=3, **TINY).fit(X)
    return {
        "dense": ae,
        "conv": AutoencoderTransformer(n_components=3, **CONV).fit(X),
        "vae": VAETransformer(n_components=3, **TINY).fit(X),
        "vae-conv": VAETransformer(n_components=3, **CONV).fit(X),
        "dae": DenoisingAE(n_components=3, dropout=0.2, **TINY).fit(X),
        "dae-rec": DenoisingAE(n_components=3, output="reconstruction", **CONV).fit(X),
        "clf": EncoderClassifier(ae, hidden_layer_sizes=(8,), max_epochs=1,
                                 random_state=0).fit(X, Y),
        "clf-conv": EncoderClassifier(AutoencoderTransformer(n_components=3, **CONV),
                                      freeze_encoder=False, max_epochs=1,
                                      random_state=0).fit(X, Y),
    }


METHODS = {
    "dense": ["transform", "inverse_transform", "reconstruct"],
    "conv": ["transform", "inverse_transform", "reconstruct"],
    "vae": ["transform", "inverse_transform", "reconstruct"],
    "vae-conv": ["transform", "inverse_transform"],
    "dae": ["transform", "inverse_transform", "denoise"],
    "dae-rec": ["transform", "inverse_transform", "denoise"],
    "clf": ["predict_proba"],
    "clf-conv": ["predict_proba"],
}


def _input(est, method):
    if method == "inverse_transform":  # codes (or, for dae-rec, data) to decode
        return est.transform(X32)
    return X32


@pytest.mark.quality  # numeric agreement: CI reruns it on the AVX2 one-thread path
@pytest.mark.parametrize("name,method", [(n, m) for n in METHODS for m in METHODS[n]])
def test_every_method_matches_skae(models, name, method):
    est = models[name]
    onnx_model = skae.to_onnx(est, method=method)
    onnx.checker.check_model(onnx_model, full_check=True)
    x = _input(est, method)
    expected = getattr(est, method)(x)
    dims = onnx_model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and dims[1].dim_value == x.shape[1]  # dynamic rows
    for n in BATCHES:
        (out,) = run(onnx_model, x[:n])
        assert out.dtype == np.float32 and out.shape == expected[:n].shape
        np.testing.assert_allclose(out, expected[:n], rtol=0, atol=ATOL)


def test_default_method_and_names(models):
    for name in ("dense", "clf"):
        model = skae.to_onnx(models[name])
        assert [i.name for i in model.graph.input] == ["X"]
        assert [o.name for o in model.graph.output] == ["Y"]
    (proba,) = run(skae.to_onnx(models["clf"]), X32)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)


def test_export_leaves_the_estimator_as_it_was(models):
    est = models["dae"]
    before = est.transform(X32)
    training = [m.training for m in est.net_.module_.modules()]
    skae.to_onnx(est, method="denoise")
    assert [m.training for m in est.net_.module_.modules()] == training
    np.testing.assert_array_equal(est.transform(X32), before)


# ------------------------------------------------------------------ pipelines
@pytest.mark.quality
@pytest.mark.parametrize("scaler", [None, StandardScaler()], ids=["no-scaler", "scaler"])
@pytest.mark.parametrize("make", [
    lambda: AutoencoderTransformer(n_components=4, **TINY),
    lambda: AutoencoderTransformer(n_components=4, **CONV),
    lambda: VAETransformer(n_components=4, **TINY),
    lambda: DenoisingAE(n_components=4, output="reconstruction", **TINY),
], ids=["dense", "conv", "vae", "dae-reconstruction"])
def test_pipeline_matches_sklearn(scaler, make):
    steps = [s for s in (scaler, make(), LogisticRegression(max_iter=300)) if s is not None]
    pipe = make_pipeline(*steps).fit(X, Y)
    onnx_model = skae.to_onnx(pipe, X[:1], options={"zipmap": False})
    assert [o.name for o in onnx_model.graph.output] == ["label", "probabilities"]
    for n in BATCHES:
        label, proba = run(onnx_model, X32[:n])
        np.testing.assert_allclose(proba, pipe.predict_proba(X32[:n]), rtol=0, atol=ATOL)
        np.testing.assert_array_equal(label, pipe.predict(X32[:n]))


def test_skl2onnx_to_onnx_after_registering():
    # the three lines of the README
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(n_components=4, **TINY),
                         LogisticRegression(max_iter=300)).fit(X, Y)
    skae.register_onnx_converters()
    skae.register_onnx_converters()  # twice is harmless
    onnx_model = skl2onnx.to_onnx(pipe, X32[:1])
    label, proba_dicts = run(onnx_model, X32)  # zipmap: a list of {class: probability}
    np.testing.assert_array_equal(label, pipe.predict(X32))
    proba = np.array([[d[c] for c in pipe.classes_] for d in proba_dicts])
    np.testing.assert_allclose(proba, pipe.predict_proba(X32), rtol=0, atol=ATOL)


def test_a_pipeline_ending_in_an_encoder_classifier_with_string_labels():
    y = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                  "nine"])[Y]
    pipe = make_pipeline(StandardScaler(), EncoderClassifier(
        AutoencoderTransformer(n_components=4, **TINY), max_epochs=2, random_state=0))
    pipe.fit(X, y)
    label, proba = run(skae.to_onnx(pipe, X[:1], options={"zipmap": False}), X32)
    np.testing.assert_array_equal(label, pipe.predict(X32))
    np.testing.assert_allclose(proba, pipe.predict_proba(X32), rtol=0, atol=ATOL)
    # nocl: class indices instead of labels
    clf = pipe[-1]
    label, _ = run(skae.to_onnx(pipe, X[:1], options={id(clf): {"zipmap": False,
                                                                 "nocl": True}}), X32)
    np.testing.assert_array_equal(label, np.argmax(pipe.predict_proba(X32), axis=1))


def test_a_column_transformer_and_a_double_input_graph():
    ae = AutoencoderTransformer(n_components=3, **TINY)
    ct = ColumnTransformer([("ae", ae, list(range(64))), ("pca", PCA(2), list(range(8)))])
    ct.fit(X)
    (out,) = run(skae.to_onnx(ct, X[:1]), X32)
    np.testing.assert_allclose(out, ct.transform(X32), rtol=0, atol=ATOL)
    # converted from float64 data, the graph casts around the float32 network
    X64 = X.astype(np.float64)
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(n_components=3, **TINY))
    pipe.fit(X64)
    skae.register_onnx_converters()
    onnx_model = skl2onnx.convert_sklearn(pipe, initial_types=[("X", DoubleTensorType([None,
                                                                                      64]))])
    (out,) = run(onnx_model, X64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, pipe.transform(X64), rtol=0, atol=ATOL)


def test_path_writes_the_model(tmp_path, models):
    path = tmp_path / "ae.onnx"
    model = skae.to_onnx(models["dense"], path=path)
    assert path.read_bytes() == model.SerializeToString()
    assert os.listdir(tmp_path) == ["ae.onnx"]
    (out,) = run(onnx.load(path), X32)
    np.testing.assert_allclose(out, models["dense"].transform(X32), rtol=0, atol=ATOL)


# ------------------------------------------------------------------ errors
def test_clear_errors(models):
    with pytest.raises(TypeError, match="NoiseInjector has no ONNX export"):
        skae.to_onnx(NoiseInjector().fit(X))
    with pytest.raises(NotFittedError, match="not fitted"):
        skae.to_onnx(AutoencoderTransformer())
    with pytest.raises(ValueError, match=r"exports \['predict_proba'\].*not 'transform'"):
        skae.to_onnx(models["clf"], method="transform")
    pipe = make_pipeline(StandardScaler(), models["dense"])
    with pytest.raises(ValueError, match="needs X"):
        skae.to_onnx(pipe)
    with pytest.raises(ValueError, match="method applies to a skae estimator only"):
        skae.to_onnx(pipe, X[:1], method="transform")
    with pytest.raises(ValueError, match="options are skl2onnx's"):
        skae.to_onnx(models["dense"], options={"zipmap": False})
    unfitted = make_pipeline(StandardScaler().fit(X), AutoencoderTransformer())
    with pytest.raises(NotFittedError):
        skae.to_onnx(unfitted, X[:1])


def test_missing_extra_names_it(monkeypatch, models):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(ImportError, match=r"skae\[onnx\]"):
        skae.register_onnx_converters()
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"'onnx' extra"):
        skae.to_onnx(models["dense"])


def test_every_registered_estimator_is_known():
    # one entry per exportable class; only the random NoiseInjector is left out
    assert set(ONNX_ESTIMATORS) == set(ESTIMATORS) - {"NoiseInjector"}


# ------------------------------------------------------------------ outlier detectors
class ToyDetector(OutlierMixin, BaseEstimator):
    """An outlier detector on an autoencoder's reconstruction error, standing
    in for skae's own to test the ``"outlier"`` kind of converter."""

    def __init__(self, autoencoder=None):
        self.autoencoder = autoencoder

    def fit(self, X, y=None):
        self.autoencoder_ = self.autoencoder.fit(X)
        self.n_features_in_ = self.autoencoder_.n_features_in_
        self.offset_ = float(np.quantile(self.score_samples(X), 0.2))
        return self

    def score_samples(self, X):
        return self.autoencoder_.score_samples(X)

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)


def _toy_methods(est):
    reconstruct = _autoencoder_methods(est.autoencoder_)["reconstruct"][0]
    return {"decision_function": (ReconstructionScore(reconstruct, est.offset_),
                                  est.n_features_in_, 1)}


@pytest.fixture
def toy_detector(monkeypatch):
    """ToyDetector registered as a skae estimator with its one ONNX entry."""
    monkeypatch.setitem(ESTIMATORS, "ToyDetector", ToyDetector)
    monkeypatch.setitem(ONNX_ESTIMATORS, "ToyDetector", OnnxEntry("outlier", _toy_methods))
    return ToyDetector(AutoencoderTransformer(n_components=3, **CONV)).fit(X)


def test_an_outlier_detector_is_one_entry(toy_detector):
    est = toy_detector
    scores = est.decision_function(X32)
    assert 0 < (est.predict(X32) == -1).mean() < 0.5
    (out,) = run(skae.to_onnx(est), X32)
    np.testing.assert_allclose(out[:, 0], scores, rtol=0, atol=ATOL)
    skae.register_onnx_converters()
    for pipe in (est, make_pipeline(StandardScaler(with_std=False), est).fit(X)):
        onnx_model = skl2onnx.to_onnx(pipe, X32[:1])  # converted as a step, not alone
        assert [o.name for o in onnx_model.graph.output] == ["label", "scores"]
        away = np.abs(pipe.decision_function(X32)) > 1e-5
        for n in BATCHES:
            label, out = run(onnx_model, X32[:n])
            assert label.dtype == np.int64 and label.shape == (n,) and out.shape == (n, 1)
            np.testing.assert_allclose(out[:, 0], pipe.decision_function(X32[:n]), rtol=0,
                                       atol=ATOL)
            # rows whose score float32 rounding cannot move across the threshold
            np.testing.assert_array_equal(label[away[:n]], pipe.predict(X32[:n])[away[:n]])


@pytest.mark.quality
@pytest.mark.parametrize("params", [dict(anomaly_score="standardized"),
                                    dict(anomaly_score="reconstruction"),
                                    dict(anomaly_score="mse", contamination=0.1)])
def test_the_outlier_detector_exports(params):
    """skae's own detector: its decision_function and score_samples, alone and
    as a pipeline step (label and scores, as skl2onnx converts IsolationForest)."""
    det = AutoencoderOutlierDetector(
        AutoencoderTransformer(n_components=4, hidden_layer_sizes=(16,), max_epochs=2,
                               random_state=0), random_state=0, **params).fit(X)
    for method in ("decision_function", "score_samples"):
        (out,) = run(skae.to_onnx(det, method=method), X32)
        np.testing.assert_allclose(out[:, 0], getattr(det, method)(X32), rtol=1e-5,
                                   atol=ATOL)
    pipe = make_pipeline(StandardScaler(with_std=False), det).fit(X)
    skae.register_onnx_converters()
    label, scores = run(skl2onnx.to_onnx(pipe, X32[:1]), X32)
    np.testing.assert_allclose(scores[:, 0], pipe.decision_function(X32), rtol=1e-5,
                               atol=ATOL)
    away = np.abs(pipe.decision_function(X32)) > 1e-4
    np.testing.assert_array_equal(label[away], pipe.predict(X32)[away])


def test_detector_scores_that_do_not_export_say_so():
    det = AutoencoderOutlierDetector(
        AutoencoderTransformer(n_components=2, hidden_layer_sizes=(8,), max_epochs=1,
                               random_state=0), anomaly_score="latent").fit(X)
    with pytest.raises(TypeError, match="anomaly_score in"):
        skae.to_onnx(det)
