"""Evaluation helpers: reconstruction errors and robustness to noise.

:func:`reconstruction_error` measures how well an autoencoder reconstructs
(or denoises) data; :func:`robustness_report` corrupts X with several kinds
and levels of noise (:class:`~skae.NoiseInjector`) and tabulates, for each,
the error of the noisy input and of the estimator's reconstruction against
the clean X, and optionally a classifier's accuracy on clean, noisy and
denoised input.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import as_chw
from ._noise import KINDS, NoiseInjector, occlusion_side

__all__ = ["reconstruction_error", "robustness_report", "RobustnessReport",
           "DEFAULT_NOISES"]

#: noises used by :func:`robustness_report` when none are given
DEFAULT_NOISES = (
    ("gaussian", 0.1), ("gaussian", 0.2), ("gaussian", 0.3), ("gaussian", 0.5),
    ("uniform", 0.3), ("salt_and_pepper", 0.1), ("flip", 0.1), ("mask", 0.3),
)


def reconstruct(estimator, X):
    """The estimator's reconstruction (denoised version) of X.

    Uses ``denoise``, else ``reconstruct``, else
    ``inverse_transform(transform(X))``, so any sklearn transformer with an
    inverse (e.g. PCA) works too.
    """
    for name in ("denoise", "reconstruct"):
        method = getattr(estimator, name, None)
        if method is not None:
            return method(X)
    return estimator.inverse_transform(estimator.transform(X))


def reconstruction_error(estimator, X, X_clean=None, *, per_sample=False):
    """Mean squared error of the estimator's reconstruction of X.

    Parameters
    ----------
    estimator : fitted autoencoder, or a transformer with inverse_transform
        Its reconstruction is taken as in :func:`reconstruct`.
    X : array-like of shape (n_samples, n_features)
        Input to reconstruct (e.g. noisy data).
    X_clean : array-like of shape (n_samples, n_features), default=None
        What the reconstruction is compared with; default X itself. Pass the
        clean data to measure denoising.
    per_sample : bool, default=False
        Return one error per sample instead of the mean.

    Returns
    -------
    error : float or ndarray of shape (n_samples,)
        Computed in float64.

    Examples
    --------
    >>> from skae import DenoisingAE, NoiseInjector
    >>> from skae.datasets import load_digits
    >>> from skae.evaluation import reconstruction_error
    >>> X, _ = load_digits(return_X_y=True)
    >>> dae = DenoisingAE(n_components=8, max_epochs=3, random_state=0).fit(X)
    >>> X_noisy = NoiseInjector("gaussian", 0.2, clip=(0, 1), random_state=0).transform(X)
    >>> err = reconstruction_error(dae, X_noisy, X_clean=X)
    >>> bool(0 < err < 1)
    True
    """
    check_is_fitted(estimator)
    X = check_array(X, dtype=[np.float64, np.float32])
    target = X if X_clean is None else check_array(X_clean, dtype=[np.float64, np.float32])
    if target.shape != X.shape:
        raise ValueError(f"X_clean has shape {target.shape} but X has shape {X.shape}.")
    rec = np.asarray(reconstruct(estimator, X), dtype=np.float64)
    return mse(rec, target, per_sample=per_sample)


def mse(a, b, per_sample=False):
    """Mean squared difference in float64 (per row with ``per_sample``)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    errors = np.mean(diff * diff, axis=1)
    return errors if per_sample else float(np.mean(errors))


def _noise_label(noise, n_features):
    """``"gaussian 0.2"``, ``"mask [0.0, 0.3]"``; occlusion by its patch side(s):
    ``"occlusion 14x14"``, ``"occlusion [0, 4x4]"`` (0: a clean sample)."""
    level = noise.level
    if noise.kind == "occlusion":
        height, width = as_chw(noise.image_shape, n_features)[1:]

        def patch(lev):
            side = occlusion_side(float(lev), height, width, noise.patch_size)
            return f"{side}x{side}" if side else "0"

        if np.ndim(level):
            return f"occlusion [{', '.join(patch(v) for v in level)}]"
        return f"occlusion {patch(level)}"
    if np.ndim(level):
        return f"{noise.kind} {list(level)}"
    return f"{noise.kind} {level:g}"


def _as_injector(spec, image_shape, random_state):
    """A NoiseInjector from a spec: injector, kind, (kind, level[, params])."""
    if isinstance(spec, NoiseInjector):
        noise = clone(spec)
    elif isinstance(spec, str):
        noise = NoiseInjector(spec)
    elif isinstance(spec, (tuple, list)) and 1 <= len(spec) <= 3 and isinstance(spec[0], str):
        params = dict(spec[2]) if len(spec) == 3 else {}
        noise = NoiseInjector(spec[0], spec[1] if len(spec) > 1 else 0.1, **params)
    else:
        raise ValueError(f"Each noise must be a NoiseInjector, a kind name among "
                         f"{list(KINDS)}, or a (kind, level[, params]) tuple; got {spec!r}.")
    if noise.kind == "occlusion" and noise.image_shape is None and image_shape is not None:
        noise.set_params(image_shape=tuple(image_shape))
    if random_state is not None:
        noise.set_params(random_state=random_state)
    return noise


class RobustnessReport:
    """Result of :func:`robustness_report`: one row per noise.

    Attributes
    ----------
    rows : list of dict
        One dict per row: ``noise`` (a label), ``kind``, ``level``,
        ``mse_noisy`` (noisy input vs clean X), ``mse_<name>`` (each
        estimator's reconstruction of the noisy input vs clean X), and with a
        classifier ``acc_noisy`` and ``acc_<name>``. The first row, ``clean``,
        is the uncorrupted X (its ``acc_noisy`` is the clean accuracy).
    columns : list of str
        Column order.
    names : list of str
        The estimators' names (``["denoised"]`` for a single estimator).
    accuracy_clean : float or None
        The classifier's accuracy on the clean X (None without classifier).
    """

    def __init__(self, rows, columns, names):
        self.rows = rows
        self.columns = columns
        self.names = names
        self.accuracy_clean = rows[0].get("acc_noisy") if rows else None

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, column):
        """All values of one column, as a list."""
        if column not in self.columns:
            raise KeyError(f"{column!r}; columns are {self.columns}")
        return [row[column] for row in self.rows]

    def _cells(self, fmt=".4f"):
        cells = []
        for row in self.rows:
            out = []
            for col in self.columns:
                value = row[col]
                if isinstance(value, float) and col != "level":
                    out.append(format(value, fmt))
                else:
                    out.append("" if value is None else str(value))
            cells.append(out)
        return cells

    def __str__(self):
        cells = self._cells()
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(self.columns)]
        left = [c in ("noise", "kind") for c in self.columns]

        def line(values):
            return "  ".join(v.ljust(w) if lft else v.rjust(w)
                             for v, w, lft in zip(values, widths, left)).rstrip()

        lines = [line(self.columns), "  ".join("-" * w for w in widths)]
        lines += [line(r) for r in cells]
        return "\n".join(lines)

    def __repr__(self):
        return f"RobustnessReport({len(self.rows)} rows)\n{self}"

    def to_markdown(self, fmt=".4f"):
        """The table as GitHub markdown."""
        lines = ["| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" if c in ("noise", "kind") else "---:"
                                for c in self.columns) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self._cells(fmt)]
        return "\n".join(lines)

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is optional
            raise ImportError("RobustnessReport.to_frame needs pandas.") from exc
        return pd.DataFrame(self.rows, columns=self.columns)

    def plot(self, metrics=None, **kwargs):
        """Errors (and accuracies) against the noise level, one line per kind.

        Thin wrapper of :func:`skae.plotting.plot_robustness` (matplotlib is
        imported only here).

        Parameters
        ----------
        metrics : str or list, default=None
            Columns to draw; None draws the ``mse_*`` columns in one panel
            and the ``acc_*`` columns in another.
        **kwargs
            Passed to :func:`~skae.plotting.plot_robustness` (``ax``,
            ``title``...).

        Returns
        -------
        fig : matplotlib.figure.Figure
        """
        from .plotting import plot_robustness

        return plot_robustness(self, metrics, **kwargs)


def robustness_report(estimator, X, noises=None, y=None, classifier=None,
                      random_state=0):
    """Errors (and accuracies) of an estimator on noisy versions of X.

    For each noise, X is corrupted with a :class:`~skae.NoiseInjector`; the
    report gives the MSE of the noisy input against the clean X, the MSE of
    the estimator's reconstruction of the noisy input against the clean X
    and, with a fitted ``classifier`` and labels ``y``, the classifier's
    accuracy on the noisy and on the reconstructed (denoised) input. A first
    ``clean`` row does the same with X itself.

    Parameters
    ----------
    estimator : fitted estimator, dict of them, or None
        An autoencoder (its ``denoise``/``reconstruct`` is used) or any
        transformer with ``inverse_transform``. A dict ``{name: estimator}``
        compares several (columns ``mse_<name>``, ``acc_<name>``); a single
        estimator is named ``"denoised"``; None gives only the noisy columns.
    X : array-like of shape (n_samples, n_features)
        Clean data (e.g. a test set).
    noises : list, default=None
        Each a :class:`~skae.NoiseInjector`, a kind name, or a
        ``(kind, level)`` / ``(kind, level, {params})`` tuple; default
        :data:`DEFAULT_NOISES`. Occlusion without an image shape takes the
        estimator's ``image_shape_``; its ``level`` is the fraction of the
        image area covered by one patch on every image (its row is labelled
        by the patch side, e.g. ``"occlusion 14x14"`` for 0.25 on 28x28).
    y : array-like of shape (n_samples,), default=None
        Labels of X, for the accuracy columns.
    classifier : fitted classifier, default=None
        Scored with ``predict`` on noisy and denoised input; needs ``y``.
    random_state : int or None, default=0
        Seeds every injector (so the report is reproducible and every
        estimator sees the same noisy X); None keeps the injectors' own.

    Returns
    -------
    report : RobustnessReport
        Prints as a table; ``to_frame()``, ``to_markdown()``, ``plot()``.

    Examples
    --------
    >>> from skae import DenoisingAE
    >>> from skae.datasets import load_digits
    >>> from skae.evaluation import robustness_report
    >>> X, y = load_digits(return_X_y=True)
    >>> dae = DenoisingAE(n_components=8, max_epochs=3, random_state=0).fit(X)
    >>> report = robustness_report(dae, X, noises=[("gaussian", 0.2), ("mask", 0.3)])
    >>> report.columns
    ['noise', 'kind', 'level', 'mse_noisy', 'mse_denoised']
    >>> report["noise"]
    ['clean', 'gaussian 0.2', 'mask 0.3']
    """
    X = check_array(X, dtype=[np.float64, np.float32])
    if estimator is None:
        estimators = {}
    elif isinstance(estimator, dict):
        estimators = dict(estimator)
    else:
        estimators = {"denoised": estimator}
    for est in estimators.values():
        check_is_fitted(est)
    if (classifier is None) != (y is None):
        raise ValueError("robustness_report needs both a fitted classifier and y for "
                         "the accuracy columns (or neither).")
    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} labels but X has {X.shape[0]} samples.")
        check_is_fitted(classifier)
    image_shape = next((getattr(e, "image_shape_", None) for e in estimators.values()
                        if getattr(e, "image_shape_", None) is not None), None)
    injectors = [_as_injector(s, image_shape, random_state)
                 for s in (DEFAULT_NOISES if noises is None else noises)]

    columns = ["noise", "kind", "level", "mse_noisy"] + [f"mse_{n}" for n in estimators]
    if classifier is not None:
        columns += ["acc_noisy"] + [f"acc_{n}" for n in estimators]

    def row(label, kind, level, X_noisy):
        out = {"noise": label, "kind": kind, "level": level, "mse_noisy": mse(X_noisy, X)}
        recs = {}
        for name, est in estimators.items():
            recs[name] = reconstruct(est, X_noisy)
            out[f"mse_{name}"] = mse(recs[name], X)
        if classifier is not None:
            out["acc_noisy"] = float(np.mean(classifier.predict(X_noisy) == y))
            for name, rec in recs.items():
                out[f"acc_{name}"] = float(np.mean(classifier.predict(rec) == y))
        return out

    rows = [row("clean", "clean", 0.0, X)]
    for noise in injectors:
        X_noisy = noise.fit_transform(X)  # validates the injector before labelling
        level = noise.level if not np.ndim(noise.level) else list(noise.level)
        rows.append(row(_noise_label(noise, X.shape[1]), noise.kind,
                        float(level) if not np.ndim(level) else level, X_noisy))
    return RobustnessReport(rows, columns, list(estimators))
