"""skae.plotting under the Agg backend: every function returns a drawable Figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from skae import AutoencoderTransformer, VAETransformer  # noqa: E402
from skae.datasets import load_digits  # noqa: E402
from skae.plotting import (  # noqa: E402
    plot_history,
    plot_latent_grid,
    plot_latent_space,
    plot_reconstructions,
    plot_robustness,
    plot_samples,
)

SMALL = dict(hidden_layer_sizes=(32,), max_epochs=4, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400]


@pytest.fixture(scope="module")
def ae(digits):
    return AutoencoderTransformer(n_components=4, **SMALL).fit(digits[0])


@pytest.fixture(scope="module")
def vae(digits):
    return VAETransformer(n_components=2, **SMALL).fit(digits[0])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def save(fig, tmp_path, name):
    assert isinstance(fig, Figure)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 1000
    return path


def test_reconstructions_estimator_with_noise(ae, digits, tmp_path):
    X = digits[0]
    rng = np.random.default_rng(0)
    X_noisy = np.clip(X + 0.3 * rng.standard_normal(X.shape), 0, 1).astype(np.float32)
    fig = plot_reconstructions(ae, X, X_noisy=X_noisy, n_images=7, title="AE")
    assert len(fig.axes) == 3 * 7
    labels = [fig.axes[i * 7].get_ylabel() for i in range(3)]
    assert labels == ["original", "noisy", "reconstructed"]
    # the bottom-left image is the reconstruction of the first noisy input
    shown = fig.axes[14].images[0].get_array()
    np.testing.assert_allclose(shown, ae.reconstruct(X_noisy[:1]).reshape(8, 8), rtol=1e-5)
    save(fig, tmp_path, "reconstructions")


def test_reconstructions_rows_and_pca(ae, digits, tmp_path):
    X = digits[0]
    pca = PCA(4).fit(X)
    fig = plot_reconstructions({"original": X, "PCA": pca.inverse_transform(pca.transform(X)),
                                "AE": ae.reconstruct(X)}, n_images=5)
    assert len(fig.axes) == 15 and fig.axes[5].get_ylabel() == "PCA"
    fig = plot_reconstructions(pca, X[:3], n_images=10)  # fewer images than columns
    assert len(fig.axes) == 6
    save(fig, tmp_path, "pca")


def test_reconstructions_errors(ae, digits):
    X = digits[0]
    with pytest.raises(ValueError, match="X is required"):
        plot_reconstructions(ae)
    with pytest.raises(ValueError, match="X_noisy has shape"):
        plot_reconstructions(ae, X, X_noisy=X[:5])
    with pytest.raises(ValueError, match="perfect square"):
        plot_reconstructions({"a": np.zeros((3, 10))})
    with pytest.raises(ValueError, match="does not match"):
        plot_reconstructions({"a": np.zeros((3, 64))}, image_shape=(4, 4))
    with pytest.raises(ValueError, match="same number of features"):
        plot_reconstructions({"a": np.zeros((3, 64)), "b": np.zeros((3, 16))})


def test_reconstructions_rgb_images(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((4, 3 * 5 * 6))
    fig = plot_reconstructions({"rgb": X}, image_shape=(3, 5, 6))
    assert fig.axes[0].images[0].get_array().shape == (5, 6, 3)


@pytest.mark.parametrize("method", ["auto", "pca", "tsne"])
def test_latent_space(ae, digits, tmp_path, method):
    X, y = digits
    fig = plot_latent_space(ae, X, y, method=method, max_points=300 if method == "tsne"
                            else None)
    ax = fig.axes[0]
    assert len(ax.collections) == 10  # one scatter per digit
    assert len(ax.get_legend().get_texts()) == 10
    assert sum(len(c.get_offsets()) for c in ax.collections) == (300 if method == "tsne"
                                                                  else len(X))
    expected = {"auto": "PC 1", "pca": "PC 1", "tsne": "t-SNE 1"}[method]
    assert ax.get_xlabel() == expected
    save(fig, tmp_path, f"latent_{method}")


def test_latent_space_codes_as_they_are(digits):
    Z = np.random.default_rng(0).standard_normal((50, 2))
    fig = plot_latent_space(Z, y=np.arange(50) % 3, target_names=["a", "b", "c"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "code 1"
    np.testing.assert_allclose(ax.collections[0].get_offsets(), Z[::3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    fig = plot_latent_space(Z[:, :1])  # 1-D codes, no labels
    assert fig.axes[0].get_legend() is None
    with pytest.raises(TypeError, match="only used with an estimator"):
        plot_latent_space(Z, Z)
    with pytest.raises(ValueError, match="method must be"):
        plot_latent_space(Z, method="umap")
    with pytest.raises(ValueError, match="labels for"):
        plot_latent_space(Z, y=[0, 1])


def test_latent_space_names_survive_a_class_dropped_by_the_subset():
    """Regression: the legend named classes by position among those present."""
    Z = np.random.default_rng(0).standard_normal((101, 2))
    y = np.repeat([0, 1, 2], [1, 50, 50])  # class 0: one point, left out by the subset
    keep = np.random.default_rng(0).choice(len(Z), 10, replace=False)
    assert 0 not in keep  # as plot_latent_space draws it
    names = ["zero", "one", "two"]
    for labels in (y, np.array(["a", "b", "c"])[y]):  # integer labels, then strings
        fig = plot_latent_space(Z, y=labels, target_names=names, max_points=10)
        legend = fig.axes[0].get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["one", "two"]
        assert [tuple(h.get_facecolor()[0][:3]) for h in legend.legend_handles] == [
            plt.get_cmap("tab10")(k)[:3] for k in (1, 2)]  # colours stay put too
    # integer labels index target_names, as sklearn's datasets do
    fig = plot_latent_space(Z[:4], y=[3, 8, 3, 8], target_names=[str(i) * 2 for i in range(10)])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["33", "88"]
    with pytest.raises(ValueError, match="2 names for the 3 labels"):
        plot_latent_space(Z, y=np.array(["a", "b", "c"])[y], target_names=["A", "B"])


def test_samples_and_latent_grid(vae, tmp_path):
    fig = plot_samples(vae, n_samples=18, random_state=1)
    mosaic = fig.axes[0].images[0].get_array()
    assert mosaic.shape == (4 * 9 - 1, 5 * 9 - 1)  # 4 rows of 5 (2 blank), 1-pixel gaps
    assert mosaic.mask[8].all() and mosaic.mask[-8:, -8:].all()  # gap, blank cell
    np.testing.assert_allclose(mosaic[:8, :8],
                               vae.sample(18, random_state=1)[0].reshape(8, 8), rtol=1e-5)
    save(fig, tmp_path, "samples")
    fig = plot_latent_grid(vae, n=6)
    mosaic = fig.axes[0].images[0].get_array()
    assert mosaic.shape == (6 * 9 - 1, 6 * 9 - 1)
    # top-left cell decodes (low z0, high z1)
    lo, hi = -1.6448536, 1.6448536
    top_left = vae.inverse_transform(np.array([[lo, hi]], dtype=np.float32))
    np.testing.assert_allclose(mosaic[:8, :8], top_left.reshape(8, 8), rtol=1e-4,
                               atol=1e-6)
    assert fig.axes[0].get_xlabel() == "z[0]"
    save(fig, tmp_path, "latent_grid")


def test_latent_grid_on_wider_codes_and_errors(ae):
    fig = plot_latent_grid(ae, n=3, dims=(1, 3), extent=(-1, 1))
    assert "other dimensions at 0" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="dims must be"):
        plot_latent_grid(ae, dims=(0, 4))
    with pytest.raises(ValueError, match="n must be"):
        plot_latent_grid(ae, n=1)


def test_history(ae, vae, tmp_path):
    fig = plot_history(ae)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["train loss", "valid loss"] and labels[2].startswith("best")
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               [h["train_loss"] for h in ae.history_])
    save(fig, tmp_path, "history")
    fig = plot_history({"AE": ae, "VAE": vae}, log=True, title="training")
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "VAE"
    fig = plot_history([{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.0}])
    assert len(fig.axes[0].lines) == 1
    with pytest.raises(ValueError, match="history_"):
        plot_history(PCA())


def test_history_marks_the_epoch_a_classifier_keeps():
    # a classifier's early stopping keeps the most accurate epoch, which need
    # not be the one with the lowest validation loss
    history = [{"epoch": 1, "train_loss": 1.0, "valid_loss": 0.5, "valid_acc": 0.80},
               {"epoch": 2, "train_loss": 0.8, "valid_loss": 0.4, "valid_acc": 0.85},
               {"epoch": 3, "train_loss": 0.6, "valid_loss": 0.45, "valid_acc": 0.88},
               {"epoch": 4, "train_loss": 0.5, "valid_loss": 0.5, "valid_acc": 0.88}]
    ax = plot_history(history).axes[0]
    star = ax.lines[-1]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (3, 0.45)
    assert ax.get_legend().get_texts()[-1].get_text() == "best valid acc (epoch 3)"
    ax = plot_history([{k: v for k, v in h.items() if k != "valid_acc"}
                       for h in history]).axes[0]
    assert ax.lines[-1].get_xdata()[0] == 2


def robustness_records():
    return [{"kind": kind, "level": level, "input": inp,
             "mse": level * scale * (0.5 if inp == "denoised" else 1.0),
             "accuracy": 1 - level * scale}
            for kind, scale in [("gaussian", 1.0), ("mask", 0.6), ("salt_and_pepper", 1.4)]
            for inp in ("noisy", "denoised") for level in (0.0, 0.1, 0.2, 0.4)]


def test_robustness_records_and_frame(tmp_path):
    records = robustness_records()
    fig = plot_robustness(records, title="robustness")
    assert [ax.get_ylabel() for ax in fig.axes] == ["mse", "accuracy"]
    assert len(fig.axes[0].lines) == 3 * 2
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == ["gaussian", "mask", "salt_and_pepper", "noisy", "denoised"]
    save(fig, tmp_path, "robustness")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(records).set_index(["kind", "level"])
    fig = plot_robustness(frame, "accuracy")
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 6
    ys = fig.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(ys, [1.0, 0.9, 0.8, 0.6])
    columns = {k: [r[k] for r in records if r["input"] == "noisy"] for k in records[0]}
    columns.pop("input")
    fig = plot_robustness(columns, ["mse"])
    assert len(fig.axes[0].lines) == 3


def test_robustness_report_object(tmp_path):
    from skae import DenoisingAE
    from skae.evaluation import robustness_report

    X, y = load_digits(return_X_y=True)
    from sklearn.linear_model import LogisticRegression

    dae = DenoisingAE(n_components=8, **SMALL).fit(X[:300])
    clf = LogisticRegression(max_iter=200).fit(X[:300], y[:300])
    noises = [("gaussian", 0.1), ("gaussian", 0.3), ("mask", 0.2), ("mask", 0.5)]
    report = robustness_report({"DAE": dae}, X[300:500], noises=noises, y=y[300:500],
                               classifier=clf)
    fig = plot_robustness(report)
    assert [ax.get_ylabel() for ax in fig.axes] == ["MSE vs clean X", "accuracy"]
    # 2 kinds x (noisy, DAE) per panel, each starting at the clean row (level 0)
    lines = fig.axes[0].lines
    assert len(lines) == 4 and list(lines[0].get_xdata()) == [0.0, 0.1, 0.3]
    assert lines[0].get_ydata()[0] == report.rows[0]["mse_noisy"] == 0.0
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == ["gaussian", "mask", "noisy", "DAE"]
    save(fig, tmp_path, "robustness_report")
    fig, axes = plt.subplots(1, 2)
    assert report.plot(ax=axes) is fig
    with pytest.raises(ValueError, match="2 panels"):
        plot_robustness(report, ax=axes[0])


def test_robustness_categorical_levels():
    records = [{"kind": "gaussian", "level": [0.0, 0.2], "mse": 0.1},
               {"kind": "gaussian", "level": 0.2, "mse": 0.2}]
    fig = plot_robustness(records)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["[0.0, 0.2]", "0.2"]


def test_robustness_errors():
    with pytest.raises(ValueError, match="empty"):
        plot_robustness([])
    with pytest.raises(ValueError, match="no 'kind' column"):
        plot_robustness([{"noise": "a", "level": 0.1, "mse": 1.0}])
    with pytest.raises(ValueError, match="no metric column"):
        plot_robustness([{"kind": "a", "level": 0.1, "mse": 1.0}], "acc")
