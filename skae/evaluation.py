"""Evaluation helpers: reconstruction errors, linear probes and robustness to noise.

:func:`reconstruction_error` measures how well an autoencoder reconstructs
(or denoises) data; :func:`probe_accuracy` how much class information its
codes keep; :func:`robustness_report` corrupts X with several kinds
and levels of noise (:class:`~skae.NoiseInjector`) and tabulates, for each,
the error of the noisy input and of the estimator's reconstruction against
the clean X, and optionally a classifier's accuracy on clean, noisy and
denoised input.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_array, check_is_fitted

from ._noise import KINDS, NoiseInjector, occlusion_side
from ._utils import as_chw, format_table, reconstruct

__all__ = ["reconstruction_error", "probe_accuracy", "robustness_report",
           "RobustnessReport", "DEFAULT_NOISES"]

#: noises used by :func:`robustness_report` when none are given
DEFAULT_NOISES = (
    ("gaussian", 0.1), ("gaussian", 0.2), ("gaussian", 0.3), ("gaussian", 0.5),
    ("uniform", 0.3), ("salt_and_pepper", 0.1), ("flip", 0.1), ("mask", 0.3),
)


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
    >>> dae = DenoisingAE(n_components=16, max_epochs=20, lr=3e-3, random_state=0).fit(X)
    >>> X_noisy = NoiseInjector("gaussian", 0.2, clip=(0, 1), random_state=0).transform(X)
    >>> err = reconstruction_error(dae, X_noisy, X_clean=X)
    >>> bool(err < float(((X_noisy - X) ** 2).mean()))  # closer to X than the noisy input
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


def probe_accuracy(Z_train, y_train, Z_test, y_test, *, max_iter=2000):
    """Test accuracy of a linear probe: how much class information codes keep.

    A :class:`~sklearn.linear_model.LogisticRegression` on standardized codes
    is fitted on ``(Z_train, y_train)`` and scored on ``(Z_test, y_test)``.
    The codes come from an unsupervised model (``transform``), so the labels
    are used only here, to measure the codes.

    Parameters
    ----------
    Z_train : array-like of shape (n_train, n_components)
        Codes of the training samples.
    y_train : array-like of shape (n_train,)
        Their labels.
    Z_test : array-like of shape (n_test, n_components)
        Codes of held-out samples.
    y_test : array-like of shape (n_test,)
        Their labels.
    max_iter : int, default=2000
        Iteration limit of the logistic regression's solver.

    Returns
    -------
    accuracy : float
        Fraction of the test samples classified correctly.

    Examples
    --------
    The pixels themselves make the baseline that codes are compared with:

    >>> from skae.datasets import load_train_test
    >>> from skae.evaluation import probe_accuracy
    >>> X_train, y_train, X_test, y_test, _ = load_train_test("digits")
    >>> bool(probe_accuracy(X_train, y_train, X_test, y_test) > 0.9)
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    return float(probe.fit(Z_train, y_train).score(Z_test, y_test))


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

    Built by :func:`robustness_report`; the parameters are kept as the
    attributes of the same name.

    Parameters
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

    Attributes
    ----------
    accuracy_clean : float or None
        The classifier's accuracy on the clean X (None without classifier).
    metric_labels : dict
        Axis labels of the metric columns of :meth:`records`.
    """

    metric_labels = {"mse": "MSE vs clean X", "acc": "accuracy"}

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
        return format_table(self.columns, self._cells(), n_left=2)  # noise, kind

    def __repr__(self):
        return f"RobustnessReport({len(self.rows)} rows)\n{self}"

    def records(self):
        """The report in long form, ready to plot: one record per noise and input.

        Each record has ``noise``, ``kind``, ``level``, ``input`` (``"noisy"``
        for the noisy input itself, else an estimator's name), ``mse`` (that
        input, or the estimator's reconstruction of it, against the clean X)
        and, with a classifier, ``acc``. The clean row stands at the start of
        every kind, as its level 0, so that each kind's curve starts from the
        clean data.

        Returns
        -------
        records : list of dict
            One dict per noise and input, with the keys above.

        Examples
        --------
        >>> from sklearn.decomposition import PCA
        >>> from skae.datasets import load_digits
        >>> from skae.evaluation import robustness_report
        >>> X = load_digits().data
        >>> report = robustness_report(PCA(8).fit(X), X, noises=[("mask", 0.3)])
        >>> [(r["kind"], r["level"], r["input"]) for r in report.records()[1:3]]
        [('mask', 0.0, 'denoised'), ('mask', 0.3, 'noisy')]
        """
        clean, noisy = self.rows[0], self.rows[1:]
        kinds = dict.fromkeys(row["kind"] for row in noisy)
        metrics = [m for m in self.metric_labels if f"{m}_noisy" in self.columns]
        return [{"noise": row["noise"], "kind": row["kind"], "level": row["level"],
                 "input": name, **{m: row[f"{m}_{name}"] for m in metrics}}
                for row in [dict(clean, kind=kind) for kind in kinds] + noisy
                for name in ["noisy", *self.names]]

    def to_markdown(self, fmt=".4f"):
        """The table as GitHub markdown.

        Parameters
        ----------
        fmt : str, default=".4f"
            Format specification of the metric values.

        Returns
        -------
        table : str
            A header row, an alignment row and one row per noise.
        """
        lines = ["| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" if c in ("noise", "kind") else "---:"
                                for c in self.columns) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self._cells(fmt)]
        return "\n".join(lines)

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            One row per noise, the report's ``columns`` as columns.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is optional
            raise ImportError("RobustnessReport.to_frame needs pandas.") from exc
        return pd.DataFrame(self.rows, columns=self.columns)

    def plot(self, metrics=None, **kwargs):
        """Errors (and accuracies) against the noise level, one colour per kind.

        Thin wrapper of :func:`skae.plotting.plot_robustness`, which draws
        :meth:`records` (matplotlib is imported only here).

        Parameters
        ----------
        metrics : str or list of str, default=None
            ``"mse"`` and/or ``"acc"``, one panel each; None draws both (the
            accuracy only with a classifier). The noisy input and each
            estimator get a line style.
        **kwargs
            Passed to :func:`~skae.plotting.plot_robustness` (``ax``,
            ``title``...).

        Returns
        -------
        fig : matplotlib.figure.Figure
            The figure, one panel per metric.
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
