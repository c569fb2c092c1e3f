"""Figures for autoencoders: reconstructions, latent spaces, samples, training
history, robustness curves and outlier scores.

Every function returns a :class:`matplotlib.figure.Figure` made with
:mod:`matplotlib.pyplot` (so notebooks and sphinx-gallery pick it up) and never
calls ``plt.show()``; save it with ``fig.savefig(path)`` and free it with
``plt.close(fig)`` in loops. matplotlib is imported only when this module is.
"""

from collections.abc import Mapping
from numbers import Integral, Real

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from sklearn.utils import check_array

from ._utils import image_shape_of, reconstruct

__all__ = ["plot_reconstructions", "plot_latent_space", "plot_samples",
           "plot_latent_grid", "plot_history", "plot_robustness", "plot_comparison",
           "plot_outlier_scores"]


# ----------------------------------------------------------------- helpers
def _check_count(value, name, min_val=1):
    """An integer ``>= min_val`` (not a bool), or a TypeError/ValueError naming ``name``."""
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer >= {min_val}; got {value!r}.")
    if value < min_val:
        raise ValueError(f"{name} must be an integer >= {min_val}; got {value!r}.")
    return int(value)


def _check_method(estimator, name, methods, what):
    """``estimator`` has every method in ``methods``, or a TypeError saying what is needed."""
    if estimator is None or isinstance(estimator, (np.ndarray, Mapping)) \
            or not all(callable(getattr(estimator, m, None)) for m in methods):
        raise TypeError(f"{name} must be {what} (with {', '.join(methods)}); got "
                        f"{type(estimator).__name__}.")


def _check_images(X, name):
    """``X`` checked as an estimator's input: a non-empty 2-D finite numeric array."""
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[1] == 0:  # check_array's own message names numpy
        raise ValueError(f"{name} has 0 features (shape {X.shape}): there are no "
                         f"pixels to draw.")
    return check_array(X, input_name=name)


def _image_shape(image_shape, n_features, estimator=None):
    """``(H, W)`` or ``(C, H, W)`` for flattened rows of ``n_features``."""
    if image_shape is None and estimator is not None:
        image_shape = getattr(estimator, "image_shape_", None) \
            or getattr(estimator, "image_shape", None)
    try:
        shape = image_shape_of(n_features, image_shape)
    except ValueError:
        raise ValueError(f"image_shape={image_shape!r} does not match {n_features} "
                         f"features per row.") from None
    if shape is None:
        raise ValueError(f"cannot guess the image shape of {n_features} features "
                         f"(not a perfect square); pass image_shape=(H, W) or "
                         f"(C, H, W).")
    if len(shape) == 3 and shape[0] not in (3, 4):
        raise ValueError(f"only 1, 3 or 4 channels can be shown; got image_shape="
                         f"{image_shape!r}.")
    return shape


def _as_images(rows, shape):
    """Flattened rows -> (n, H, W) or (n, H, W, C) for imshow."""
    images = np.asarray(rows, dtype=np.float64).reshape((len(rows),) + tuple(shape))
    if images.ndim == 4:  # (n, C, H, W) -> (n, H, W, C)
        images = images.transpose(0, 2, 3, 1)
    return images


def _show_image(ax, image, vmin, vmax, **kwargs):
    """Grey-level or RGB image; NaN pixels (mosaic gaps) are drawn white."""
    if image.ndim == 3:
        rgb = np.clip((image - vmin) / max(vmax - vmin, 1e-12), 0, 1)
        ax.imshow(np.where(np.isnan(rgb), 1.0, rgb), **kwargs)
    else:
        cmap = plt.get_cmap("gray").with_extremes(bad="white")
        ax.imshow(np.ma.masked_invalid(image), cmap=cmap, vmin=vmin, vmax=vmax,
                  interpolation="nearest", **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


def _value_range(*arrays):
    lo = min(float(np.min(a)) for a in arrays)
    hi = max(float(np.max(a)) for a in arrays)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return lo, hi if hi > lo else lo + 1.0


def _mosaic(images, n_rows, n_cols, pad=1):
    """Tile (n, H, W[, C]) images into one array, ``pad`` NaN pixels apart
    (blank cells are NaN too)."""
    h, w = images.shape[1:3]
    tail = images.shape[3:]
    out = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad) + tail, np.nan)
    for k, image in enumerate(images[: n_rows * n_cols]):
        r, c = divmod(k, n_cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = image
    return out


# ----------------------------------------------------------------- reconstructions
def plot_reconstructions(estimator_or_rows, X=None, *, X_noisy=None, n_images=10,
                         image_shape=None, title=None):
    """Rows of images: originals, optional noisy inputs, reconstructions.

    Parameters
    ----------
    estimator_or_rows : fitted estimator or mapping of str to array-like
        A fitted autoencoder (anything with ``denoise``, ``reconstruct`` or
        ``transform``/``inverse_transform``, e.g. PCA): the rows are ``X``,
        ``X_noisy`` when given, and the reconstruction of ``X_noisy`` (or of
        ``X``). Or a mapping ``{row label: (n, n_features) array}`` drawn in
        order, e.g. ``{"original": X, "PCA": ..., "autoencoder": ...}`` to
        compare several models.
    X : array-like of shape (n_samples, n_features), default=None
        Clean images, flattened (needed with an estimator).
    X_noisy : array-like of shape (n_samples, n_features), default=None
        Corrupted versions of ``X``; the estimator then reconstructs these,
        which shows how well it denoises.
    n_images : int, default=10
        Number of columns (the first ``n_images`` rows of each array).
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)``; taken from the estimator's
        ``image_shape_`` or guessed as a square when None.
    title : str, default=None
        Figure title, above the rows of images.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A grid of Axes: one row per array, one column per image.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skae.datasets import load_train_test
    >>> from skae.plotting import plot_reconstructions
    >>> X_train, _, X_test, _, image_shape = load_train_test("digits")
    >>> pca = PCA(n_components=8).fit(X_train)
    >>> fig = plot_reconstructions(pca, X_test, n_images=6, image_shape=image_shape)
    >>> len(fig.axes)  # 2 rows (test images, reconstructions) of 6
    12
    """
    n_images = _check_count(n_images, "n_images")
    estimator = None
    if isinstance(estimator_or_rows, Mapping):
        rows = {str(k): np.asarray(v) for k, v in estimator_or_rows.items()}
        if not rows:
            raise ValueError("rows is empty: give at least one array of images.")
        empty = [k for k, v in rows.items() if v.ndim == 0 or len(v) == 0]
        if empty:
            raise ValueError(f"every row needs at least one image; {empty} are empty.")
    else:
        estimator = estimator_or_rows
        _check_method(estimator, "estimator_or_rows",
                      ("transform",), "a fitted estimator or a mapping of rows")
        if X is None:
            raise ValueError("X is required with an estimator.")
        # the estimator's input: checked whole, as the estimator would
        X = _check_images(X, "X")
        rows = {"original": X}
        source = X
        if X_noisy is not None:
            X_noisy = _check_images(X_noisy, "X_noisy")
            if X_noisy.shape != X.shape:
                raise ValueError(f"X_noisy has shape {X_noisy.shape} but X has {X.shape}.")
            rows["noisy"] = X_noisy
            source = X_noisy
        n = min(n_images, len(source))
        rows["reconstructed"] = np.asarray(reconstruct(estimator, source[:n]))
    n_features = {v.reshape(len(v), -1).shape[1] for v in rows.values()}
    if len(n_features) != 1:
        raise ValueError(f"all rows need the same number of features; got {n_features}.")
    if 0 in n_features:
        raise ValueError(f"the rows have 0 features (shapes "
                         f"{[v.shape for v in rows.values()]}): no pixels to draw.")
    shape = _image_shape(image_shape, n_features.pop(), estimator)
    n = min([n_images] + [len(v) for v in rows.values()])
    images = {k: _as_images(v[:n].reshape(n, -1), shape) for k, v in rows.items()}
    vmin, vmax = _value_range(*images.values())
    fig, axes = plt.subplots(len(images), n, figsize=(1.1 * n + 1.2, 1.15 * len(images)),
                             squeeze=False)
    for r, (label, imgs) in enumerate(images.items()):
        for c in range(n):
            _show_image(axes[r, c], imgs[c], vmin, vmax)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- latent space
def _project(Z, method, random_state):
    n_dims = Z.shape[1]
    if method == "auto":
        method = "identity" if n_dims <= 2 else "pca"
    if method == "identity" or n_dims == 1:
        if n_dims == 1:
            return np.column_stack([Z[:, 0], np.zeros(len(Z))]), "code"
        return Z, "code"
    # PCA and t-SNE run on the codes scaled to at most 1 in magnitude, so that
    # codes of 1e-30 or 1e300 stay in floating-point range (PCA is scaled back:
    # its axes are in the codes' units; t-SNE's result has no scale)
    scale = float(np.abs(Z).max()) or 1.0
    if method == "pca":
        from sklearn.decomposition import PCA

        P = PCA(2, random_state=random_state).fit_transform(Z / scale)
        with np.errstate(over="ignore"):  # beyond the float range: refused by the caller
            return P * scale, "PC"
    from sklearn.manifold import TSNE

    # identical codes (a collapsed model) give t-SNE a zero-variance start, on
    # which sklearn's Barnes-Hut t-SNE crashes the process (segmentation fault)
    if not np.ptp(Z, axis=0).any():
        raise ValueError(f"all {len(Z)} codes are identical (a collapsed model?): "
                         f"t-SNE cannot spread them; use method='pca' to see them.")
    perplexity = float(min(30.0, max(2.0, (len(Z) - 1) / 3.0)))
    tsne = TSNE(2, init="pca", perplexity=perplexity, random_state=random_state)
    return tsne.fit_transform(Z / scale), "t-SNE"


def _legend_names(classes, target_names):
    """The legend name of each of the sorted unique labels ``classes``."""
    if target_names is None:
        return [str(c) for c in classes]
    names = [str(n) for n in target_names]
    if classes.dtype.kind in "iu" and 0 <= classes[0] and classes[-1] < len(names):
        return [names[c] for c in classes]  # indexed by label, as sklearn's target_names
    if len(names) != len(classes):
        raise ValueError(f"target_names has {len(names)} names for the {len(classes)} "
                         f"labels {classes.tolist()}.")
    return names


def plot_latent_space(Z_or_estimator, X=None, y=None, *, method="auto",
                      target_names=None, max_points=2000, random_state=0, ax=None,
                      title=None):
    """Scatter of latent codes in 2-D, coloured by label.

    Parameters
    ----------
    Z_or_estimator : array-like of shape (n_samples, n_components) or estimator
        Latent codes, or a fitted transformer whose ``transform(X)`` gives them.
    X : array-like of shape (n_samples, n_features), default=None
        Data to encode (only with an estimator).
    y : array-like of shape (n_samples,), default=None
        Labels that colour the points (with a legend); one colour when None.
    method : {"auto", "pca", "tsne"}, default="auto"
        ``"auto"`` shows 2-D codes as they are and projects wider codes on
        their first two principal components; ``"pca"`` always uses PCA;
        ``"tsne"`` uses :class:`~sklearn.manifold.TSNE` (slower).
    target_names : sequence of str, default=None
        Legend names. With integer labels from 0 to ``len(target_names) - 1``
        (as in scikit-learn's datasets) label ``i`` is ``target_names[i]``;
        otherwise the names go with the sorted unique labels of ``y``, in
        order. A class that the subset of ``max_points`` leaves out keeps
        its name and colour out of the others'.
    max_points : int or None, default=2000
        A random subset of this size is drawn (and projected) when there are
        more points; None draws all.
    random_state : int, default=0
        Seeds the subset, PCA and t-SNE.
    ax : matplotlib Axes, default=None
        Axes to draw in; a new figure when None.
    title : str, default=None
        Axes title (default: the method used).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure of the Axes drawn in (a new one when ``ax`` is None).

    Examples
    --------
    >>> import numpy as np
    >>> from skae.plotting import plot_latent_space
    >>> Z = np.random.default_rng(0).normal(size=(90, 5))  # e.g. ae.transform(X)
    >>> fig = plot_latent_space(Z, y=np.arange(90) % 3, target_names=["a", "b", "c"])
    >>> fig.axes[0].get_xlabel()  # 5-D codes: their first two principal components
    'PC 1'
    """
    if method not in ("auto", "pca", "tsne"):
        raise ValueError(f"method must be 'auto', 'pca' or 'tsne'; got {method!r}.")
    if max_points is not None:
        max_points = _check_count(max_points, "max_points")
    # an estimator fits and transforms; a DataFrame of codes has transform only
    if hasattr(Z_or_estimator, "fit") and hasattr(Z_or_estimator, "transform"):
        if X is None:
            raise ValueError("X is required with an estimator.")
        Z = np.asarray(Z_or_estimator.transform(X))
    else:
        if X is not None:
            raise TypeError("X is only used with an estimator; pass codes' labels as "
                            "y=... .")
        Z = np.asarray(Z_or_estimator)
    if Z.ndim != 2 or 0 in Z.shape:
        raise ValueError(f"codes must be a non-empty 2-D array with at least one "
                         f"column; got shape {Z.shape}.")
    Z = check_array(Z, input_name="codes", dtype=np.float64)  # numeric and finite
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(Z):
            raise ValueError(f"y has {len(y)} labels for {len(Z)} codes.")
        classes = np.unique(y)  # before the subset, so that names and colours stay put
        names = _legend_names(classes, target_names)
    if max_points is not None and len(Z) > max_points:
        keep = np.sort(np.random.default_rng(random_state).choice(len(Z), max_points,
                                                                  replace=False))
        Z = Z[keep]
        y = None if y is None else y[keep]
    P, axis_name = _project(Z, method, random_state)
    P = np.asarray(P, dtype=np.float64)  # t-SNE gives float32
    if not np.all(np.abs(P) <= _PLOT_MAX):
        raise ValueError(f"the codes are too large to draw (beyond {_PLOT_MAX:g} "
                         f"{'after projection ' if axis_name != 'code' else ''}).")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
    else:
        fig = ax.figure
    if y is None:
        ax.scatter(P[:, 0], P[:, 1], s=6, alpha=0.7)
    else:
        cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        for k, (label, name) in enumerate(zip(classes, names)):
            mask = y == label
            if mask.any():
                ax.scatter(P[mask, 0], P[mask, 1], s=6, alpha=0.7,
                           color=cmap(k % cmap.N), label=name)
        ax.legend(markerscale=3, fontsize=8, loc="best", title="label")
    ax.set_xlabel(f"{axis_name} 1")
    ax.set_ylabel(f"{axis_name} 2" if Z.shape[1] > 1 or axis_name != "code" else "")
    shown = {"code": "latent codes", "PC": "PCA of the latent codes",
             "t-SNE": "t-SNE of the latent codes"}[axis_name]
    ax.set_title(title or f"{shown} ({Z.shape[1]}-D)")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- generative
def plot_samples(vae, n_samples=64, *, image_shape=None, random_state=0, title=None):
    """A square-ish grid of images generated by ``vae.sample``.

    Parameters
    ----------
    vae : fitted estimator with ``sample(n_samples, random_state)``
        E.g. a fitted :class:`skae.VAETransformer`.
    n_samples : int, default=64
        Number of images.
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)``; from ``vae.image_shape_`` or a square
        when None.
    random_state : int, default=0
        Seeds the draws from the prior.
    title : str, default=None
        Title; default ``"<n_samples> samples from the prior"``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One Axes with the samples tiled in a square-ish grid.
    """
    _check_method(vae, "vae", ("sample",), "a fitted VAE")
    n_samples = _check_count(n_samples, "n_samples")
    X_new = np.asarray(vae.sample(n_samples, random_state=random_state))
    shape = _image_shape(image_shape, X_new.shape[1], vae)
    images = _as_images(X_new, shape)
    n_cols = int(np.ceil(np.sqrt(n_samples)))
    n_rows = int(np.ceil(n_samples / n_cols))
    vmin, vmax = _value_range(images)
    fig, ax = plt.subplots(figsize=(0.6 * n_cols + 0.6, 0.6 * n_rows + 0.8))
    _show_image(ax, _mosaic(images, n_rows, n_cols), vmin, vmax)
    ax.set_title(title or f"{n_samples} samples from the prior")
    fig.tight_layout()
    return fig


def plot_latent_grid(vae, n=15, *, dims=(0, 1), extent=None, image_shape=None,
                     title=None):
    """Decode a regular n x n grid over two latent dimensions.

    The other latent dimensions are held at 0 (the prior's mean), so for a
    VAE with ``n_components=2`` this is the whole latent manifold.

    Parameters
    ----------
    vae : fitted estimator with ``inverse_transform`` and ``n_components``
        E.g. a fitted :class:`skae.VAETransformer`.
    n : int, default=15
        Grid points per axis.
    dims : tuple of two int, default=(0, 1)
        The latent dimensions that vary (x axis, y axis).
    extent : tuple (low, high), default=None
        Range of the grid; None spans the 5% to 95% quantiles of the
        standard normal prior (about -1.64 to 1.64).
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)``; from ``vae.image_shape_`` or a square
        when None.
    title : str, default=None
        Title; default ``"decoded latent grid"``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One Axes with the decoded images at the grid points; its ticks are
        latent coordinates.
    """
    _check_method(vae, "vae", ("inverse_transform",), "a fitted autoencoder or VAE")
    n_components = getattr(vae, "n_components", None)
    if not isinstance(n_components, Integral) or isinstance(n_components, bool):
        raise TypeError(f"vae must have an integer n_components (the width of the "
                        f"codes it decodes); {type(vae).__name__} has "
                        f"n_components={n_components!r}.")
    n = _check_count(n, "n", min_val=2)
    dims_ok = (isinstance(dims, (tuple, list, np.ndarray)) and np.ndim(dims) == 1
               and len(dims) == 2
               and all(isinstance(d, Integral) and not isinstance(d, bool) for d in dims))
    if not dims_ok or dims[0] == dims[1] or not all(0 <= d < n_components for d in dims):
        raise ValueError(f"dims must be two distinct latent dimensions in "
                         f"[0, {n_components}); got {dims!r}.")
    dims = tuple(int(d) for d in dims)
    if extent is None:
        from scipy.stats import norm

        values = norm.ppf(np.linspace(0.05, 0.95, n))
    else:
        big = float(np.finfo(np.float32).max) / 2  # the codes are float32
        ok = (isinstance(extent, (tuple, list, np.ndarray)) and np.ndim(extent) == 1
              and len(extent) == 2
              and all(isinstance(e, Real) and not isinstance(e, bool) for e in extent)
              and all(np.isfinite(e) and abs(e) <= big for e in extent)
              and extent[0] != extent[1])
        if not ok:
            raise ValueError(f"extent must be two different finite numbers (low, high) "
                             f"within float32's range; got {extent!r}.")
        values = np.linspace(float(extent[0]), float(extent[1]), n)
    # Row r (top to bottom) has decreasing y; column c increasing x.
    Z = np.zeros((n * n, n_components), dtype=np.float32)
    for r, y_val in enumerate(values[::-1]):
        for c, x_val in enumerate(values):
            Z[r * n + c, dims[0]] = x_val
            Z[r * n + c, dims[1]] = y_val
    decoded = np.asarray(vae.inverse_transform(Z))
    shape = _image_shape(image_shape, decoded.shape[1], vae)
    images = _as_images(decoded, shape)
    vmin, vmax = _value_range(images)
    fig, ax = plt.subplots(figsize=(7, 7))
    mosaic = _mosaic(images, n, n)
    lo, hi = values[0], values[-1]
    step = (hi - lo) / (n - 1)
    ext = (lo - step / 2, hi + step / 2, lo - step / 2, hi + step / 2)
    _show_image(ax, mosaic, vmin, vmax, extent=ext)
    ticks = np.linspace(lo, hi, 5)
    labels = [f"{t:.2f}" if abs(t) > 1e-9 else "0" for t in ticks]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set_xlabel(f"z[{dims[0]}]")
    ax.set_ylabel(f"z[{dims[1]}]")
    rest = "" if n_components == 2 else " (other dimensions at 0)"
    ax.set_title(title or f"decoded latent grid{rest}")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- history
def _history(obj):
    history = getattr(obj, "history_", obj)
    history = list(history) if isinstance(history, (list, tuple)) else []
    if not history or not all(isinstance(h, Mapping) for h in history):
        raise ValueError("expected a fitted estimator with history_ or a list of "
                         "per-epoch dicts.")
    return history


#: the largest magnitude drawn: matplotlib cannot lay out ticks for a range
#: near the largest float (history values beyond it are gaps, codes an error)
_PLOT_MAX = 1e300


def _history_column(history, key):
    """``key``'s value per epoch as floats (NaN where missing, infinite or
    beyond ``_PLOT_MAX``); None if no epoch has it."""
    values = [h.get(key) for h in history]
    if all(v is None for v in values):
        return None
    values = np.array([np.nan if v is None else float(v) for v in values])
    values[~(np.abs(values) <= _PLOT_MAX)] = np.nan
    return values.tolist()


def _draw_history(ax, history, name, log):
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    for key, style in (("train_loss", "-"), ("valid_loss", "--")):
        values = _history_column(history, key)
        if values is None:
            continue
        ax.plot(epochs, values, style, marker="o", ms=3, label=key.replace("_", " "))
        if key == "valid_loss":
            # the epoch early stopping keeps: a classifier's watches accuracy
            accs = _history_column(history, "valid_acc")
            if accs is not None:
                best = int(np.nanargmax(accs))
                what = "best valid acc"
            else:
                best, what = int(np.nanargmin(values)), "best"
            ax.plot(epochs[best], values[best], "*", ms=12, color="C1",
                    label=f"{what} (epoch {epochs[best]})")
    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(name)
    ax.legend(fontsize=8)


def plot_history(estimator, *, log=False, ax=None, title=None):
    """Training and validation loss per epoch.

    Parameters
    ----------
    estimator : fitted estimator, list of dict, or mapping of str to those
        Anything with ``history_`` (one dict per epoch with ``train_loss``
        and, with early stopping, ``valid_loss``; the star marks the epoch
        early stopping keeps: the lowest ``valid_loss``, or the highest
        ``valid_acc`` when the history has it), the list itself, or a
        mapping ``{name: estimator}`` drawn as one panel per model (losses
        of different models need not share a scale). A loss that is NaN,
        infinite or beyond 1e300 (a diverged epoch) leaves a gap in its curve.
    log : bool, default=False
        Logarithmic loss axis.
    ax : matplotlib Axes, default=None
        Axes to draw in (single history only); a new figure when None.
    title : str, default=None
        Panel title (single history) or figure title (mapping).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn in: one panel per history (that of ``ax`` when given).
    """
    if isinstance(estimator, Mapping):
        items = [(str(k), _history(v)) for k, v in estimator.items()]
        if not items:
            raise ValueError("no history to plot.")
        if ax is not None:
            raise ValueError("ax can only be given with a single history.")
        fig, axes = plt.subplots(1, len(items), figsize=(4.2 * len(items), 3.4),
                                 squeeze=False)
        for panel, (name, history) in zip(axes[0], items):
            _draw_history(panel, history, name, log)
        if title:
            fig.suptitle(title)
    else:
        history = _history(estimator)
        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 3.8))
        else:
            fig = ax.figure
        _draw_history(ax, history, title or f"{type(estimator).__name__} training", log)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- robustness
def _panel_axes(ax, metrics, size):
    """``(fig, axes)``: one Axes per metric, side by side (``size`` each), or
    the given ``ax`` when it has one per metric."""
    if ax is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(size[0] * len(metrics), size[1]),
                                 squeeze=False)
        return fig, list(axes[0])
    axes = list(np.atleast_1d(ax))
    if len(axes) != len(metrics):
        raise ValueError(f"ax has {len(axes)} Axes for {len(metrics)} panels ({metrics}).")
    return axes[0].figure, axes


def _records(report):
    """Records (list of dict) and metric axis labels from any accepted form."""
    if callable(getattr(report, "records", None)):  # RobustnessReport
        return report.records(), dict(getattr(report, "metric_labels", {}))
    if hasattr(report, "to_dict") and hasattr(report, "columns"):  # pandas DataFrame
        if any(name is not None for name in report.index.names):
            report = report.reset_index()  # e.g. indexed by (kind, level)
        return report.to_dict("records"), {}
    if isinstance(report, Mapping):  # dict of columns
        lengths = {k: len(v) if hasattr(v, "__len__") and not isinstance(v, str) else None
                   for k, v in report.items()}
        if None in lengths.values() or len(set(lengths.values())) > 1:
            raise ValueError(f"a report given as a dict needs columns (lists) of equal "
                             f"length; got lengths {lengths}.")
        n = next(iter(lengths.values()), 0)
        return [{k: v[i] for k, v in report.items()} for i in range(n)], {}
    if isinstance(report, (str, bytes)) or not hasattr(report, "__iter__"):
        raise TypeError(f"report must be a RobustnessReport, a DataFrame, a list of "
                        f"dict or a dict of lists; got {type(report).__name__}.")
    records = list(report)
    bad = [i for i, r in enumerate(records) if not isinstance(r, Mapping)]
    if bad:
        raise TypeError(f"every record of the report must be a dict; record {bad[0]} "
                        f"is {records[bad[0]]!r}.")
    return [dict(r) for r in records], {}


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) \
        and not isinstance(value, bool)


_STYLES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), (0, (1, 4)),
           (0, (3, 2, 1, 2, 1, 2))]


def plot_robustness(report, metrics=None, *, x="level", by="kind", style="input",
                    ax=None, title=None):
    """Error or accuracy against noise level, one colour per noise kind.

    Draws tidy records, one per point: a curve for each value of ``by``
    (colour) and of ``style`` (line style), in one panel per metric.

    Parameters
    ----------
    report : RobustnessReport, DataFrame, list of dict, or dict of lists
        One record per point with columns ``x`` (default ``"level"``),
        ``by`` (default ``"kind"``), optionally ``style`` (default
        ``"input"``), and numeric metric columns (e.g. ``"mse"``,
        ``"accuracy"``); other columns are ignored. A
        :class:`skae.evaluation.RobustnessReport` is drawn from its
        :meth:`~skae.evaluation.RobustnessReport.records` (the noisy input
        and each estimator as line styles, the clean data as every kind's
        level 0).
    metrics : str or list of str, default=None
        Metric columns, one panel each; None draws every numeric column
        other than ``x``.
    x : str, default="level"
        Column on the x axis. Non-numeric values (e.g. lists of levels) are
        placed at equal steps and labelled.
    by : str, default="kind"
        Column whose values get one colour each.
    style : str or None, default="input"
        Column whose values get one line style each (e.g. the noisy input
        and the reconstructions); ignored when the records do not have it.
    ax : matplotlib Axes or sequence of Axes, default=None
        One Axes per panel; a new figure when None.
    title : str, default=None
        Figure title, above the panels.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per metric (the figure of ``ax`` when given).

    Examples
    --------
    Any records with a ``kind``, a ``level`` and a metric column:

    >>> from skae.plotting import plot_robustness
    >>> report = [{"kind": k, "level": l, "mse": l * s}
    ...           for k, s in [("gaussian", 1.0), ("mask", 0.5)]
    ...           for l in (0.0, 0.1, 0.2)]
    >>> fig = plot_robustness(report)
    >>> fig.axes[0].get_ylabel()
    'mse'
    """
    records, labels = _records(report)
    if not records:
        raise ValueError("the robustness report is empty.")
    columns = list(dict.fromkeys(c for r in records for c in r))
    for col in (x, by):
        missing = [i for i, r in enumerate(records) if col not in r]
        if missing:
            raise ValueError(f"the report has no {col!r} column in record "
                             f"{missing[0]} (which has {list(records[missing[0]])}); "
                             f"columns: {columns}.")
    if metrics is not None and not isinstance(metrics, str) and not (
            isinstance(metrics, (list, tuple)) and all(isinstance(m, str) for m in metrics)):
        raise TypeError(f"metrics must be a column name or a list of column names; "
                        f"got {metrics!r}.")
    numeric = [c for c in columns if c not in (x, by, style)
               and any(_is_number(r.get(c)) for r in records)
               and all(_is_number(r.get(c)) or r.get(c) is None for r in records)]
    metrics = numeric if metrics is None else [metrics] if isinstance(metrics, str) \
        else list(metrics)
    if not metrics or any(m not in numeric for m in metrics):
        raise ValueError(f"no metric column to plot (asked {metrics}); numeric "
                         f"columns: {numeric}.")
    colours = list(dict.fromkeys(r[by] for r in records))
    styles = list(dict.fromkeys(r.get(style) for r in records))
    categorical = not all(_is_number(r[x]) for r in records)
    positions = {label: i for i, label in enumerate(dict.fromkeys(str(r[x]) for r in records))}

    fig, axes = _panel_axes(ax, metrics, (5.2, 3.9))
    for panel, metric in zip(axes, metrics):
        for k, colour in enumerate(colours):
            for s, line_style in enumerate(styles):
                points = sorted((positions[str(r[x])] if categorical else float(r[x]),
                                 float(r[metric])) for r in records
                                if r[by] == colour and r.get(style) == line_style
                                and _is_number(r.get(metric)))
                if points:
                    panel.plot(*zip(*points), ls=_STYLES[s % len(_STYLES)], marker="o",
                               ms=3, color=f"C{k % 10}")
        if categorical:
            panel.set_xticks(list(positions.values()), list(positions), rotation=30,
                             fontsize=7)
        panel.set_xlabel(x.replace("_", " "))
        panel.set_ylabel(labels.get(metric, metric))
        panel.grid(alpha=0.3)
    handles = [Line2D([], [], color=f"C{k % 10}", marker="o", label=str(colour))
               for k, colour in enumerate(colours)]
    if len(styles) > 1:
        handles += [Line2D([], [], color="k", ls=_STYLES[s % len(_STYLES)],
                           label=str(line_style)) for s, line_style in enumerate(styles)]
    axes[-1].legend(handles=handles, fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_comparison(report, metrics=None, *, ax=None, title=None):
    """One bar chart per metric of a reducer comparison, a bar per reducer.

    Parameters
    ----------
    report : ReducerComparison
        From :func:`skae.evaluation.compare_reducers`.
    metrics : str or list of str, default=None
        Columns to draw (``mse``, ``probe_acc``, ``noisy_mse``,
        ``trustworthiness``, ``fit_s``, ``transform_s``); None draws each of
        them the report has values for.
    ax : matplotlib Axes or sequence of Axes, default=None
        One Axes per metric; a new figure when None.
    title : str, default=None
        Figure title, above the panels.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per metric (the figure of ``ax`` when given).

    Examples
    --------
    >>> from sklearn.decomposition import PCA, TruncatedSVD
    >>> from skae.datasets import load_digits
    >>> from skae.evaluation import compare_reducers
    >>> from skae.plotting import plot_comparison
    >>> X, y = load_digits(return_X_y=True)
    >>> report = compare_reducers({"PCA": PCA(8), "SVD": TruncatedSVD(8)}, X, y)
    >>> fig = plot_comparison(report, ["mse", "probe_acc"])
    >>> [a.get_title() for a in fig.axes]
    ['reconstruction MSE (test)', 'probe accuracy']
    """
    if not (hasattr(report, "rows") and hasattr(report, "metric_labels")):
        raise TypeError(f"report must come from skae.evaluation.compare_reducers; got "
                        f"{type(report).__name__}.")
    available = [c for c in report.metric_labels if c in report.columns
                 and all(_is_number(r[c]) for r in report.rows)]
    if metrics is None:
        metrics = available
    elif isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)) or not metrics or \
            any(m not in available for m in metrics):
        raise ValueError(f"metrics must be one or more of {available}; got {metrics!r}.")
    names = [r["model"] for r in report.rows]
    fig, axes = _panel_axes(ax, metrics, (3.4, 3.4))
    for panel, metric in zip(axes, metrics):
        panel.bar(range(len(names)), [float(r[metric]) for r in report.rows],
                  color=[f"C{i % 10}" for i in range(len(names))])
        panel.set_xticks(range(len(names)), names, rotation=30, fontsize=8)
        panel.set_title(report.metric_labels[metric], fontsize=9)
        panel.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- outliers
def plot_outlier_scores(scores, is_inlier, *, bins=40, ax=None, title=None):
    """Score histograms of inliers vs outliers, and ROC curves, of outlier detectors.

    Parameters
    ----------
    scores : array-like of shape (n_samples,) or dict of str to array-like
        Normality scores (higher = more normal, e.g. ``score_samples`` or
        ``decision_function``) of one detector, or ``{name: scores}`` of
        several on the same samples.
    is_inlier : array-like of shape (n_samples,)
        True (1, +1) for the inliers, False (0, -1) for the outliers.
    bins : int, default=40
        Histogram bins (shared by the inliers and the outliers of a panel).
    ax : sequence of matplotlib Axes, default=None
        One Axes per detector (its histogram) and one more for the ROC
        curves; a new figure when None.
    title : str, default=None
        Figure title, above the panels.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A histogram panel per detector (AUROC in its title) and a panel of
        ROC curves (outliers as the positive class: the false-alarm rate on
        the x axis, the fraction of outliers caught on the y axis).

    Examples
    --------
    >>> import numpy as np
    >>> from skae.plotting import plot_outlier_scores
    >>> rng = np.random.RandomState(0)
    >>> is_inlier = np.r_[np.ones(200, bool), np.zeros(50, bool)]
    >>> scores = np.where(is_inlier, 1.0, -1.0) + rng.normal(size=250)
    >>> fig = plot_outlier_scores({"detector": scores}, is_inlier)
    >>> [a.get_title().split(" (")[0] for a in fig.axes]  # AUROC in the titles
    ['detector', 'ROC']
    """
    from sklearn.metrics import roc_curve

    from .evaluation import _inlier_mask, outlier_metrics

    inlier = _inlier_mask(is_inlier)
    if not isinstance(scores, Mapping):
        scores = {"scores": scores}
    if not scores:
        raise ValueError("scores is empty: give one detector's scores or a dict of them.")
    bins = _check_count(bins, "bins")
    names = list(scores)
    fig, axes = _panel_axes(ax, names + ["ROC"], (3.6, 3.2))
    roc_ax = axes[-1]
    for k, (panel, name) in enumerate(zip(axes, names)):
        values = check_array(scores[name], ensure_2d=False, input_name=f"scores[{name!r}]")
        if values.ndim != 1 or len(values) != len(inlier):
            raise ValueError(f"scores[{name!r}] must be 1-D with one value per sample; "
                             f"got shape {values.shape} for {len(inlier)} samples.")
        edges = np.histogram_bin_edges(values, bins=bins)
        panel.hist(values[inlier], bins=edges, alpha=0.6, density=True, label="inliers",
                   color="C0")
        panel.hist(values[~inlier], bins=edges, alpha=0.6, density=True, label="outliers",
                   color="C3")
        auroc = outlier_metrics(inlier, values)["auroc"]
        panel.set_title(f"{name} (AUROC {auroc:.3f})", fontsize=9)
        panel.set_xlabel("score (higher = more normal)")
        panel.legend(fontsize=7)
        fpr, tpr, _ = roc_curve(~inlier, -values)
        roc_ax.plot(fpr, tpr, color=f"C{k % 10}", label=f"{name} ({auroc:.3f})")
    roc_ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    roc_ax.set_title("ROC (outliers positive)", fontsize=9)
    roc_ax.set_xlabel("inliers flagged (false alarms)")
    roc_ax.set_ylabel("outliers caught")
    roc_ax.legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
