"""AutoencoderOutlierDetector: scores, thresholds, reuse of autoencoders, sklearn tools."""

import pickle

import numpy as np
import pytest
import torch
from scipy.special import xlogy
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skae
from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAE,
    VAETransformer,
)
from skae.datasets import load_digits

AE = dict(n_components=8, hidden_layer_sizes=(64,), max_epochs=20, lr=3e-3, batch_size=32,
          random_state=0)
SCORES = ["reconstruction", "standardized", "mse", "denoising", "latent", "combined"]


@pytest.fixture(scope="module")
def digits():
    """Zeros to train on (first 150), and a test set of all digits (the rest)."""
    X, y = load_digits(return_X_y=True)
    train = np.flatnonzero(y == 0)[:150]
    test = np.setdiff1d(np.arange(len(X)), train)
    return X[train], X[test], (y[test] == 0).astype(int), y[test]


@pytest.fixture(scope="module")
def ae(digits):
    return AutoencoderTransformer(**AE).fit(digits[0])


@pytest.mark.quality
@pytest.mark.parametrize("score", SCORES)
def test_one_class_digits(digits, ae, score):
    """Fit on zeros only: every score separates the held-out zeros from the rest."""
    X_train, X_test, inlier, _ = digits
    detector = AutoencoderOutlierDetector(ae, anomaly_score=score, random_state=0)
    detector.fit(X_train)
    assert roc_auc_score(inlier, detector.decision_function(X_test)) > 0.95
    # most held-out zeros are inliers, most other digits outliers
    pred = detector.predict(X_test)
    assert np.mean(pred[inlier == 1] == 1) > 0.7
    assert np.mean(pred[inlier == 0] == -1) > 0.7


@pytest.mark.quality
def test_elbo_of_a_vae(digits):
    X_train, X_test, inlier, _ = digits
    vae = VAETransformer(**AE)
    detector = AutoencoderOutlierDetector(vae, anomaly_score="elbo", random_state=0)
    scores = detector.fit(X_train).score_samples(X_test)
    assert roc_auc_score(inlier, scores) > 0.95
    entropy = -(xlogy(X_test, X_test) + xlogy(1 - X_test, 1 - X_test)).sum(axis=1)
    np.testing.assert_allclose(scores, detector.autoencoder_.score_samples(X_test) + entropy,
                               rtol=1e-6, atol=1e-4)


@pytest.mark.quality
def test_default_autoencoder(digits):
    """None: a default AutoencoderTransformer seeded from random_state."""
    X_train, X_test, inlier, _ = digits
    detector = AutoencoderOutlierDetector(random_state=0).fit(X_train)
    assert isinstance(detector.autoencoder_, AutoencoderTransformer)
    assert detector.autoencoder_.n_components == 16
    scores = detector.score_samples(X_test)
    assert roc_auc_score(inlier, scores) > 0.95
    again = AutoencoderOutlierDetector(random_state=0).fit(X_train).score_samples(X_test)
    np.testing.assert_array_equal(scores, again)


def test_scores_relations(digits, ae):
    X_train, X_test, _, _ = digits
    det = AutoencoderOutlierDetector(ae, anomaly_score="mse").fit(X_train)
    np.testing.assert_allclose(det.score_samples(X_test), ae.score_samples(X_test))
    np.testing.assert_allclose(det.decision_function(X_test),
                               det.score_samples(X_test) - det.offset_)
    rec = AutoencoderOutlierDetector(ae, anomaly_score="reconstruction").fit(X_train)
    with torch.inference_mode():
        logits = ae.decoder_(ae.encoder_(torch.tensor(X_test[:5], dtype=torch.float32)))
    logits = logits.numpy().astype(np.float64)
    x = X_test[:5]
    bce = np.logaddexp(0, logits) - x * logits
    entropy = -(xlogy(x, x) + xlogy(1 - x, 1 - x))  # the least bce of each pixel
    kl = np.mean(bce - entropy, axis=1)  # 0 for a perfect reconstruction
    np.testing.assert_allclose(rec.score_samples(x), -kl, rtol=1e-4, atol=1e-7)
    assert np.all(kl >= 0)
    for score in SCORES:
        out = AutoencoderOutlierDetector(ae, anomaly_score=score).fit(X_train)
        s = out.score_samples(X_test)
        assert s.dtype == np.float64 and np.all(np.isfinite(s))
        assert out.predict(X_test).dtype.kind == "i"
        # a row's score does not depend on the other rows of the call
        np.testing.assert_array_equal(out.score_samples(X_test[7:9]), s[7:9])


def test_contamination_sets_offset(digits, ae):
    X_train, _, _, _ = digits
    det = AutoencoderOutlierDetector(ae, contamination=0.1).fit(X_train)
    assert np.mean(det.predict(X_train) == -1) == pytest.approx(0.1, abs=0.01)
    auto = AutoencoderOutlierDetector(ae).fit(X_train)
    scores = auto.score_samples(X_train)
    q1, q3 = np.percentile(scores, [25, 75])
    assert auto.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1))
    labels = auto.fit_predict(X_train)
    np.testing.assert_array_equal(labels, np.where(scores >= auto.offset_, 1, -1))


def test_fitted_autoencoder_is_reused(digits, ae):
    X_train, _, _, _ = digits
    weights = {k: v.clone() for k, v in ae.net_.module_.state_dict().items()}
    det = AutoencoderOutlierDetector(ae).fit(X_train)
    assert det.autoencoder_ is ae
    for key, value in ae.net_.module_.state_dict().items():
        assert (value == weights[key]).all()
    # an unfitted one is cloned and trained; the parameter stays unfitted
    fresh = AutoencoderTransformer(**dict(AE, max_epochs=2))
    det = AutoencoderOutlierDetector(fresh).fit(X_train)
    assert det.autoencoder_ is not fresh and not hasattr(fresh, "net_")
    # FrozenEstimator survives clone: the same trained model in every clone
    frozen = clone(AutoencoderOutlierDetector(FrozenEstimator(ae))).fit(X_train)
    assert frozen.autoencoder_ is ae


def test_errors(digits, ae):
    X_train, _, _, _ = digits
    with pytest.raises(ValueError, match="needs a VAETransformer"):
        AutoencoderOutlierDetector(ae, anomaly_score="elbo").fit(X_train)
    with pytest.raises(ValueError, match="trained on 64 features"):
        AutoencoderOutlierDetector(ae).fit(X_train[:, :10])
    with pytest.raises(ValueError, match="contamination"):
        AutoencoderOutlierDetector(ae, contamination=0.7).fit(X_train)
    det = AutoencoderOutlierDetector(ae).fit(X_train)
    with pytest.raises(ValueError, match="features"):
        det.score_samples(X_train[:, :10])


def test_pipeline(digits):
    X_train, X_test, inlier, _ = digits
    pipe = make_pipeline(MinMaxScaler(), AutoencoderOutlierDetector(
        AutoencoderTransformer(**dict(AE, max_epochs=3)), random_state=0))
    pipe.fit(X_train * 16)  # the digits' original 0..16 scale
    assert pipe.predict(X_test * 16).shape == (len(X_test),)
    assert pipe.decision_function(X_test * 16).shape == (len(X_test),)
    assert pipe.score_samples(X_test * 16).dtype == np.float64


@pytest.mark.quality
def test_grid_search_with_labelled_validation(digits, ae):
    """roc_auc reads decision_function; y = 1 inlier / 0 (or -1) outlier."""
    X_train, X_test, inlier, _ = digits
    X = np.concatenate([X_train, X_test])
    train = np.arange(len(X_train))  # fit on zeros only ...
    valid = np.arange(len(X_train), len(X))  # ... validate on labelled data
    grid = {"anomaly_score": ["mse", "latent"]}
    cv = [(train, valid)]
    y01 = np.concatenate([np.ones(len(X_train), int), inlier])
    search = GridSearchCV(AutoencoderOutlierDetector(FrozenEstimator(ae)), grid,
                          scoring="roc_auc", cv=cv).fit(X, y01)
    assert search.best_score_ > 0.95
    aurocs = search.cv_results_["mean_test_score"]
    y_pm = np.where(y01 == 1, 1, -1)  # sklearn's own +1 / -1 labels give the same AUROCs
    search_pm = GridSearchCV(AutoencoderOutlierDetector(FrozenEstimator(ae)), grid,
                             scoring="roc_auc", cv=cv).fit(X, y_pm)
    np.testing.assert_allclose(search_pm.cv_results_["mean_test_score"], aurocs)
    expected = [roc_auc_score(inlier, AutoencoderOutlierDetector(ae, anomaly_score=s)
                              .fit(X_train).decision_function(X_test))
                for s in grid["anomaly_score"]]
    np.testing.assert_allclose(aurocs, expected)


@pytest.mark.parametrize("score", ["combined", "denoising", "standardized"])
@pytest.mark.parametrize("as_param", [True, False])
def test_save_load_and_pickle(digits, ae, tmp_path, score, as_param):
    X_train, X_test, _, _ = digits
    autoencoder = ae if as_param else AutoencoderTransformer(**dict(AE, max_epochs=2))
    det = AutoencoderOutlierDetector(autoencoder, anomaly_score=score,
                                     random_state=0).fit(X_train)
    expected = det.decision_function(X_test)
    path = tmp_path / "det.skae"
    skae.save(det, path)
    loaded = skae.load(path)
    np.testing.assert_array_equal(loaded.decision_function(X_test), expected)
    assert loaded.get_params()["anomaly_score"] == score
    assert (loaded.autoencoder_ is loaded.autoencoder) == as_param
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(det)).decision_function(X_test), expected)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_denoising_autoencoder_and_dataframe(digits):
    pd = pytest.importorskip("pandas")
    X_train, X_test, _, _ = digits
    cols = [f"p{i}" for i in range(X_train.shape[1])]
    det = AutoencoderOutlierDetector(DenoisingAE(**dict(AE, max_epochs=2)),
                                     anomaly_score="combined", random_state=0)
    det.fit(pd.DataFrame(X_train, columns=cols))
    assert list(det.feature_names_in_) == cols
    np.testing.assert_array_equal(det.score_samples(pd.DataFrame(X_test, columns=cols)),
                                  det.score_samples(X_test.copy()))


# ----------------------------------------------------------------- evaluation, plots
def test_outlier_metrics():
    from skae.evaluation import outlier_metrics

    m = outlier_metrics([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    assert m["auroc"] == pytest.approx(0.75)
    # outliers ranked from the lowest score: 0.1 (outlier), 0.4 (inlier), 0.5 (outlier)
    assert m["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    assert outlier_metrics(np.array([1, 1, -1, -1]), [0.9, 0.4, 0.5, 0.1]) == m
    assert outlier_metrics(np.array([True, True, False, False]), [3, 2, 1, 0])["auroc"] == 1
    with pytest.raises(ValueError, match="both inliers and outliers"):
        outlier_metrics([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="one value per sample"):
        outlier_metrics([1, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="1 = inlier"):
        outlier_metrics([2, 0], [0.1, 0.2])


def test_outlier_report_and_plot(digits, ae):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.ensemble import IsolationForest

    from skae.evaluation import one_class_scenarios, outlier_metrics, outlier_report
    from skae.plotting import plot_outlier_scores

    X, y = load_digits(return_X_y=True)
    scenarios = one_class_scenarios(X[:1000], y[:1000], X[1000:], y[1000:], classes=[0, 1],
                                    contamination=0.05)
    X_fit, X_test, inlier = scenarios["class 1"]
    n_one = int(np.sum(y[:1000] == 1))
    assert len(X_fit) == n_one + round(n_one * 0.05 / 0.95)
    np.testing.assert_array_equal(inlier, y[1000:] == 1)
    detectors = {"IF": IsolationForest(random_state=0),
                 "AE": AutoencoderOutlierDetector(AutoencoderTransformer(
                     **dict(AE, max_epochs=2)), random_state=0)}
    report = outlier_report(detectors, scenarios)
    assert report["scenario"] == ["class 0", "class 0", "class 1", "class 1"]
    assert report["detector"] == ["IF", "AE"] * 2
    row = report.rows[2]
    expected = outlier_metrics(inlier, report.scores["class 1"]["IF"])
    assert row["auroc"] == expected["auroc"]
    assert row["average_precision"] == expected["average_precision"]
    means = report.mean()
    assert means["IF"]["auroc"] == pytest.approx(np.mean(report["auroc"][::2]))
    assert "AP (outliers)" in str(report) and report.to_markdown().startswith("| scenario")
    fig = report.plot("class 1")
    assert len(fig.axes) == 3 and fig.axes[-1].get_title().startswith("ROC")
    plt.close(fig)
    fig = plot_outlier_scores(report.scores["class 0"]["IF"],
                              report.scores["class 0"]["is_inlier"], bins=10)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="one value per sample"):
        plot_outlier_scores({"a": np.zeros(3)}, [1, 0])
    with pytest.raises(TypeError, match="non-empty dict"):
        outlier_report([], scenarios)
