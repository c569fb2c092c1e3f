"""skae.evaluation: reconstruction errors and the robustness report."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from skae import AutoencoderTransformer, DenoisingAE, NoiseInjector
from skae.datasets import load_digits
from skae.evaluation import (
    RobustnessReport,
    compare_reducers,
    probe_accuracy,
    reconstruction_error,
    robustness_report,
)

#: learned-quality and numeric assertions: CI reruns this module on a second
#: numeric path (see .ci/run)
pytestmark = pytest.mark.quality

X, Y = load_digits(return_X_y=True)
X, Y = X[:400], Y[:400]


@pytest.fixture(scope="module")
def pca():
    return PCA(n_components=10, random_state=0).fit(X)


@pytest.fixture(scope="module")
def dae():
    return DenoisingAE(n_components=4, hidden_layer_sizes=(16,), max_epochs=2,
                       image_shape=(8, 8), random_state=0).fit(X)


@pytest.fixture(scope="module")
def clf():
    return LogisticRegression(max_iter=500).fit(X, Y)


def test_reconstruction_error(pca, dae):
    rec = pca.inverse_transform(pca.transform(X))
    expected = np.mean((rec.astype(np.float64) - X) ** 2, axis=1)
    np.testing.assert_allclose(reconstruction_error(pca, X, per_sample=True), expected,
                               rtol=1e-5)
    assert reconstruction_error(pca, X) == pytest.approx(expected.mean(), rel=1e-5)
    X_noisy = NoiseInjector("mask", 0.3, random_state=0).transform(X)
    err = reconstruction_error(dae, X_noisy, X_clean=X)
    assert err == pytest.approx(np.mean((dae.denoise(X_noisy).astype(float) - X) ** 2))
    assert reconstruction_error(dae, X) == pytest.approx(-dae.score(X), rel=1e-5)
    with pytest.raises(ValueError, match="X_clean has shape"):
        reconstruction_error(pca, X, X_clean=X[:10])


def test_report_rows_and_values(pca):
    noises = [("gaussian", 0.2), ("flip", 0.1, {"clip": (0, 1)}),
              NoiseInjector("occlusion", 1.0, patch_size=3, image_shape=(8, 8)), "mask"]
    report = robustness_report(pca, X, noises=noises, random_state=3)
    assert isinstance(report, RobustnessReport)
    assert report.columns == ["noise", "kind", "level", "mse_noisy", "mse_denoised"]
    assert report["noise"] == ["clean", "gaussian 0.2", "flip 0.1", "occlusion 3x3",
                               "mask 0.1"]
    assert report["level"] == [0.0, 0.2, 0.1, 1.0, 0.1]
    assert report.rows[0]["mse_noisy"] == 0
    assert report.rows[0]["mse_denoised"] == pytest.approx(reconstruction_error(pca, X))
    X_noisy = NoiseInjector("gaussian", 0.2, random_state=3).transform(X)
    assert report.rows[1]["mse_noisy"] == pytest.approx(np.mean((X_noisy - X) ** 2))
    assert report.rows[1]["mse_denoised"] == pytest.approx(
        reconstruction_error(pca, X_noisy, X_clean=X))
    # reproducible
    again = robustness_report(pca, X, noises=noises, random_state=3)
    assert again.rows == report.rows


def test_report_with_classifier_and_several_estimators(pca, dae, clf):
    report = robustness_report({"pca": pca, "dae": dae}, X,
                               noises=[("gaussian", 0.5), ("occlusion", 0.25)],
                               y=Y, classifier=clf)
    assert report.columns == ["noise", "kind", "level", "mse_noisy", "mse_pca", "mse_dae",
                              "acc_noisy", "acc_pca", "acc_dae"]
    assert report.accuracy_clean == pytest.approx(clf.score(X, Y))
    noisy = NoiseInjector("gaussian", 0.5, random_state=0).transform(X)
    assert report.rows[1]["acc_noisy"] == pytest.approx(clf.score(noisy, Y))
    assert report.rows[1]["acc_dae"] == pytest.approx(clf.score(dae.denoise(noisy), Y))
    assert report.rows[2]["noise"] == "occlusion 4x4"  # image shape from the DAE
    occluded = NoiseInjector("occlusion", 0.25, image_shape=(8, 8), random_state=0)
    assert report.rows[2]["acc_noisy"] == pytest.approx(
        clf.score(occluded.transform(X), Y))
    for row in report.rows:
        assert all(0 <= row[c] <= 1 for c in report.columns if c.startswith("acc_"))


def test_report_occlusion_levels_are_area_fractions_and_lists_work(pca):
    # regression: a list of occlusion levels raised "unsupported format string
    # passed to list.__format__" while labelling the row
    noises = [("occlusion", 0.25, {"image_shape": (8, 8)}),
              ("occlusion", [0.0, 0.25], {"image_shape": (8, 8)}),
              ("occlusion", 0.0, {"image_shape": (8, 8)}),
              ("occlusion", [0.1, 1.0], {"image_shape": (8, 8), "patch_size": 2})]
    report = robustness_report(pca, X, noises=noises, random_state=0)
    assert report["noise"][1:] == ["occlusion 4x4", "occlusion [0, 4x4]",
                                   "occlusion 0", "occlusion [2x2, 2x2]"]
    assert report["level"][1:] == [0.25, [0.0, 0.25], 0.0, [0.1, 1.0]]
    # every image loses 16 of its 64 pixels at 0.25: the noisy error is the
    # mean of the squared pixels removed
    X_noisy = NoiseInjector("occlusion", 0.25, image_shape=(8, 8),
                            random_state=0).transform(X)
    assert np.all((X_noisy != X).sum(axis=1) <= 16)
    assert report.rows[1]["mse_noisy"] == pytest.approx(np.mean((X_noisy - X) ** 2))
    assert report.rows[3]["mse_noisy"] == 0  # level 0: clean
    assert 0 < report.rows[2]["mse_noisy"] < report.rows[1]["mse_noisy"]
    assert "occlusion [0, 4x4]" in str(report) and "[0.0, 0.25]" in str(report)


def test_report_prints_converts_and_plots(pca, clf):
    report = robustness_report(pca, X, y=Y, classifier=clf)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].split() == report.columns
    assert len(lines) == 2 + len(report)
    assert "gaussian 0.5" in text and "salt_and_pepper 0.1" in text
    assert "| noise |" in report.to_markdown()
    pd = pytest.importorskip("pandas")
    frame = report.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == report.columns and len(frame) == len(report)
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = report.plot()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(classifier="clf"), "both a fitted classifier and y"),
    (dict(y=Y), "both a fitted classifier and y"),
    (dict(noises=[3]), "Each noise must be"),
    (dict(noises=[("blur", 0.1)]), "'kind' parameter"),
    (dict(noises=[("gaussian", -1)]), "'level' parameter"),
    (dict(noises=["occlusion"]), "needs image_shape"),
])
def test_report_bad_input(pca, kwargs, match):
    with pytest.raises(ValueError, match=match):
        robustness_report(pca, X, **kwargs)


def test_report_needs_fitted_estimator():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        robustness_report(PCA(), X)


def test_report_records_are_tidy_and_start_each_kind_clean(pca, clf):
    report = robustness_report({"pca": pca}, X, noises=[("gaussian", 0.1), ("mask", 0.3)],
                               y=Y, classifier=clf)
    records = report.records()
    assert [(r["kind"], r["level"], r["input"]) for r in records] == [
        ("gaussian", 0.0, "noisy"), ("gaussian", 0.0, "pca"),
        ("mask", 0.0, "noisy"), ("mask", 0.0, "pca"),
        ("gaussian", 0.1, "noisy"), ("gaussian", 0.1, "pca"),
        ("mask", 0.3, "noisy"), ("mask", 0.3, "pca")]
    clean, gaussian = report.rows[0], report.rows[1]
    assert records[1]["mse"] == clean["mse_pca"] and records[1]["noise"] == "clean"
    assert records[5] == {"noise": "gaussian 0.1", "kind": "gaussian", "level": 0.1,
                          "input": "pca", "mse": gaussian["mse_pca"],
                          "acc": gaussian["acc_pca"]}
    assert set(report.metric_labels) == {"mse", "acc"}


def test_probe_accuracy(pca):
    Z = pca.transform(X)
    acc = probe_accuracy(Z[:300], Y[:300], Z[300:], Y[300:])
    assert isinstance(acc, float) and 0.8 < acc <= 1
    assert probe_accuracy(Z[:300], Y[:300], Z[:300], Y[:300]) >= acc  # training fit


# ----------------------------------------------------------------- compare_reducers
def _split(X, y):
    from sklearn.model_selection import train_test_split

    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                              stratify=y)
    return X_tr, y_tr, X_te, y_te


def test_compare_reducers_reports_what_each_reducer_does_on_held_out_data():
    from sklearn.decomposition import TruncatedSVD
    from sklearn.manifold import trustworthiness

    X, y = load_digits(return_X_y=True)
    reducers = {"PCA": PCA(8, random_state=0), "SVD": TruncatedSVD(8, random_state=0)}
    report = compare_reducers(reducers, X, y, random_state=0)
    assert report.columns == ["model", "mse", "probe_acc", "noisy_mse", "trustworthiness",
                              "epochs", "fit_s", "transform_s"]
    assert report["model"] == ["PCA", "SVD"]
    assert not hasattr(reducers["PCA"], "components_")  # the user's reducers: untouched
    # every figure recomputed by hand on the same stratified split
    X_tr, y_tr, X_te, y_te = _split(X, y)
    noisy = NoiseInjector("gaussian", 0.2, random_state=0).transform(X_te)
    rows = np.sort(np.random.RandomState(0).permutation(len(X_te))[:1000])
    for name, row in zip(report["model"], report.rows):
        est = clone(reducers[name]).fit(X_tr)
        Z_te = est.transform(X_te)
        assert row["mse"] == pytest.approx(reconstruction_error(est, X_te), rel=1e-9)
        assert row["noisy_mse"] == pytest.approx(reconstruction_error(est, noisy, X_te),
                                                 rel=1e-9)
        assert row["probe_acc"] == probe_accuracy(est.transform(X_tr), y_tr, Z_te, y_te)
        assert row["trustworthiness"] == pytest.approx(
            trustworthiness(X_te[rows], Z_te[rows], n_neighbors=5))
        assert row["epochs"] is None and row["fit_s"] > 0 and row["transform_s"] > 0
    # PCA is the optimal linear reconstruction: TruncatedSVD (uncentred) is worse
    assert report["mse"][0] < report["mse"][1]
    assert set(report.estimators_) == {"PCA", "SVD"}
    assert "the noisy input itself" in report.notes


def test_compare_reducers_autoencoder_beats_pca_and_prints_a_table():
    X, y = load_digits(return_X_y=True)
    report = compare_reducers(
        {"PCA": PCA(8), "AE": AutoencoderTransformer(8, max_epochs=30, random_state=0)},
        X, y)
    pca, ae = report.rows
    assert ae["mse"] < 0.8 * pca["mse"], report  # measured: 0.0144 vs 0.0245
    assert isinstance(ae["epochs"], int) and ae["epochs"] >= 1
    text = str(report).splitlines()
    assert text[0].split()[:3] == ["model", "recon", "MSE"]
    assert text[2].startswith("PCA") and text[3].startswith("AE")
    assert text[2].split()[5] == "-"  # PCA has no epochs
    assert report.to_markdown().splitlines()[1] == "|---|---:|---:|---:|---:|---:|---:|---:|"
    frame = report.to_frame()
    assert list(frame.columns) == report.columns and frame.shape == (2, 8)


def test_compare_reducers_with_cv_a_given_test_set_and_no_labels():
    from sklearn.model_selection import KFold

    X, y = load_digits(return_X_y=True)
    report = compare_reducers({"PCA": PCA(4)}, X, cv=KFold(3), noise=None)
    assert report.columns == ["model", "mse", "trustworthiness", "epochs", "fit_s",
                              "transform_s"]
    folds = [reconstruction_error(PCA(4).fit(X[tr]), X[te]) for tr, te in KFold(3).split(X)]
    assert report["mse"][0] == pytest.approx(np.mean(folds), rel=1e-9)
    assert report.estimators_ is None  # one fit per fold: none is the model
    given = compare_reducers({"PCA": PCA(4)}, X[:1000], y[:1000], X_test=X[1000:],
                             y_test=y[1000:])
    assert given["mse"][0] == pytest.approx(
        reconstruction_error(PCA(4).fit(X[:1000]), X[1000:]), rel=1e-9)


def test_compare_reducers_takes_a_reducer_that_cannot_reconstruct():
    from sklearn.manifold import Isomap

    X, y = load_digits(return_X_y=True)
    report = compare_reducers({"Isomap": Isomap(n_neighbors=15, n_components=2)}, X[:600],
                              y[:600])
    assert report["mse"] == [None] and report["noisy_mse"] == [None]
    assert 0.5 < report["trustworthiness"][0] <= 1.0
    assert str(report).splitlines()[2].split()[1] == "-"


@pytest.mark.parametrize("reducers, match", [
    ([("PCA", None)], "non-empty dict"), ({}, "non-empty dict"),
    ({"x": object()}, "needs fit and transform")])
def test_compare_reducers_rejects_bad_reducers(reducers, match):
    with pytest.raises(TypeError, match=match):
        compare_reducers(reducers, np.zeros((10, 3)))


def test_compare_reducers_checks_the_data():
    X = np.random.RandomState(0).rand(40, 5)
    with pytest.raises(ValueError, match="y has 3 labels but X has 40"):
        compare_reducers({"PCA": PCA(2)}, X, [0, 1, 0])
    with pytest.raises(ValueError, match="X_test has 4 features but X has 5"):
        compare_reducers({"PCA": PCA(2)}, X, X_test=X[:, :4])
    with pytest.raises(ValueError, match="both y and y_test"):
        compare_reducers({"PCA": PCA(2)}, X, np.arange(40) % 2, X_test=X)


def test_plot_comparison_draws_a_panel_per_metric():
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.decomposition import TruncatedSVD

    from skae.plotting import plot_comparison

    X, y = load_digits(return_X_y=True)
    report = compare_reducers({"PCA": PCA(4), "SVD": TruncatedSVD(4)}, X, y)
    fig = report.plot()
    assert [a.get_title() for a in fig.axes] == [
        report.metric_labels[m] for m in ("mse", "probe_acc", "noisy_mse",
                                          "trustworthiness", "fit_s", "transform_s")]
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx(report["mse"])
    with pytest.raises(ValueError, match="metrics must be one or more of"):
        plot_comparison(report, "epochs")
    with pytest.raises(TypeError, match="compare_reducers"):
        plot_comparison({"mse": [1.0]})
