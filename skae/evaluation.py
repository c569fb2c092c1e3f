"""Evaluation helpers: reconstruction errors, linear probes and robustness to noise.

:func:`reconstruction_error` measures how well an autoencoder reconstructs
(or denoises) data; :func:`probe_accuracy` how much class information its
codes keep; :func:`robustness_report` corrupts X with several kinds
and levels of noise (:class:`~skae.NoiseInjector`) and tabulates, for each,
the error of the noisy input and of the estimator's reconstruction against
the clean X, and optionally a classifier's accuracy on clean, noisy and
denoised input. :func:`compare_reducers` answers "PCA or an autoencoder, and
which one, for my data?": it fits several reducers on the same split (or
cross-validation folds) and tabulates what each one's codes and
reconstructions are worth. :func:`outlier_metrics` and :func:`outlier_report`
judge outlier detectors (AUROC and average precision per scenario, e.g. the
one-class protocol of :func:`one_class_scenarios`).
"""

import sys
import time

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_array, check_is_fitted

from ._noise import KINDS, NoiseInjector, occlusion_side
from ._utils import as_chw, format_table, reconstruct

__all__ = ["reconstruction_error", "probe_accuracy", "robustness_report",
           "RobustnessReport", "compare_reducers", "ReducerComparison", "DEFAULT_NOISES",
           "outlier_metrics", "one_class_scenarios", "outlier_report", "OutlierReport"]

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


class _Report:
    """A table of rows (dicts) in ``columns`` order: printing, markdown, pandas.

    Subclasses set ``labels`` (the printed header of a column, default its
    key), ``formats`` (a column's format, default the ``fmt`` argument) and
    ``n_left`` (how many leading label columns are left-aligned).
    """

    labels = {}
    formats = {}
    n_left = 1
    missing = ""  # how a None cell prints

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
                    out.append(format(value, self.formats.get(col, fmt)))
                else:
                    out.append(self.missing if value is None else str(value))
            cells.append(out)
        return cells

    def __str__(self):
        return format_table([self.labels.get(c, c) for c in self.columns], self._cells(),
                            n_left=self.n_left)

    def __repr__(self):
        return f"{type(self).__name__}({len(self.rows)} rows)\n{self}"

    def to_markdown(self, fmt=".4f"):
        """The table as GitHub markdown.

        Parameters
        ----------
        fmt : str, default=".4f"
            Format specification of the metric values.

        Returns
        -------
        table : str
            A header row, an alignment row and one row per table row.
        """
        lines = ["| " + " | ".join(self.labels.get(c, c) for c in self.columns) + " |",
                 "|" + "|".join("---" if i < self.n_left else "---:"
                                for i in range(len(self.columns))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self._cells(fmt)]
        return "\n".join(lines)

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            One row per table row, the report's ``columns`` as columns.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is optional
            raise ImportError(f"{type(self).__name__}.to_frame needs pandas.") from exc
        return pd.DataFrame(self.rows, columns=self.columns)


class RobustnessReport(_Report):
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
    n_left = 2  # noise, kind

    def __init__(self, rows, columns, names):
        self.rows = rows
        self.columns = columns
        self.names = names
        self.accuracy_clean = rows[0].get("acc_noisy") if rows else None

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


class ReducerComparison(_Report):
    """Result of :func:`compare_reducers`: one row per reducer.

    Built by :func:`compare_reducers`; the parameters are kept as the
    attributes of the same name.

    Parameters
    ----------
    rows : list of dict
        One dict per reducer: ``model`` (its name), ``mse`` (reconstruction
        error of the test data), ``probe_acc`` (a linear probe's test
        accuracy on the codes; with labels only), ``noisy_mse`` (the
        reconstruction of noisy test data against the clean test data; with a
        noise only), ``trustworthiness`` (of the test codes, scikit-learn's
        :func:`~sklearn.manifold.trustworthiness`), ``epochs`` (``n_iter_``,
        None for a reducer without it), ``fit_s`` and ``transform_s``
        (seconds). ``mse`` and ``noisy_mse`` are None for a reducer that
        cannot reconstruct. With cross-validation each value is the mean over
        the folds.
    columns : list of str
        Column order.
    estimators : dict or None
        The fitted reducers, by name (None after cross-validation, which
        fits one per fold).
    notes : str
        What the columns mean, with the noisy input's own error as the
        baseline of the ``noisy MSE`` column.

    Attributes
    ----------
    estimators_ : dict or None
        Same as ``estimators``.
    metric_labels : dict
        Panel titles of the metric columns (used by :meth:`plot`).
    """

    labels = {"mse": "recon MSE", "probe_acc": "probe acc", "noisy_mse": "noisy MSE",
              "trustworthiness": "trust", "fit_s": "fit time (s)",
              "transform_s": "transform (s)"}
    formats = {"probe_acc": ".3f", "trustworthiness": ".3f", "fit_s": ".1f",
               "transform_s": ".2f"}
    missing = "-"
    metric_labels = {"mse": "reconstruction MSE (test)", "probe_acc": "probe accuracy",
                     "noisy_mse": "MSE of the noisy input's reconstruction",
                     "trustworthiness": "trustworthiness of the codes",
                     "fit_s": "fit time (s)", "transform_s": "transform time (s)"}

    def __init__(self, rows, columns, estimators=None, notes=""):
        self.rows = rows
        self.columns = columns
        self.estimators = self.estimators_ = estimators
        self.notes = notes

    def plot(self, metrics=None, *, ax=None, title=None):
        """One bar chart per metric, a bar per reducer.

        Parameters
        ----------
        metrics : str or list of str, default=None
            Columns to draw (of ``mse``, ``probe_acc``, ``noisy_mse``,
            ``trustworthiness``, ``fit_s``, ``transform_s``); None draws
            every one the report has values for.
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes per metric; a new figure when None.
        title : str, default=None
            Title of the figure.

        Returns
        -------
        fig : matplotlib.figure.Figure
            The figure, one panel per metric.
        """
        from .plotting import plot_comparison

        return plot_comparison(self, metrics, ax=ax, title=title)


def _splits(X, y, X_test, y_test, test_size, cv, random_state):
    """``(X_train, y_train, X_test, y_test)`` per split."""
    from sklearn.model_selection import check_cv, train_test_split

    if X_test is not None:
        X_test = check_array(X_test, dtype=[np.float64, np.float32])
        if X_test.shape[1] != X.shape[1]:
            raise ValueError(f"X_test has {X_test.shape[1]} features but X has "
                             f"{X.shape[1]}.")
        if (y is None) != (y_test is None):
            raise ValueError("pass both y and y_test (for the probe) or neither.")
        return [(X, y, X_test, None if y_test is None else np.asarray(y_test))]
    if cv is None:
        stratify = y if y is not None and np.unique(y).size < len(y) * test_size else None
        try:
            parts = train_test_split(X, *([] if y is None else [y]), test_size=test_size,
                                     random_state=random_state, stratify=stratify)
        except ValueError:  # a class too small to stratify
            parts = train_test_split(X, *([] if y is None else [y]), test_size=test_size,
                                     random_state=random_state)
        if y is None:
            return [(parts[0], None, parts[1], None)]
        return [(parts[0], parts[2], parts[1], parts[3])]
    splitter = check_cv(cv, y, classifier=y is not None)
    return [(X[tr], None if y is None else y[tr], X[te], None if y is None else y[te])
            for tr, te in splitter.split(X, y)]


def _measure(reducer, X_train, y_train, X_test, y_test, X_noisy, n_neighbors,
             trust_rows):
    """One row of :func:`compare_reducers` for one fitted-here reducer."""
    from sklearn.manifold import trustworthiness

    start = time.perf_counter()
    reducer.fit(X_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    Z_test = np.asarray(reducer.transform(X_test))
    transform_s = time.perf_counter() - start
    can_reconstruct = any(hasattr(reducer, m) for m in
                          ("denoise", "reconstruct", "inverse_transform"))
    row = {
        "mse": mse(reconstruct(reducer, X_test), X_test) if can_reconstruct else None,
        "probe_acc": None if y_train is None else probe_accuracy(
            np.asarray(reducer.transform(X_train)), y_train, Z_test, y_test),
        "noisy_mse": (mse(reconstruct(reducer, X_noisy), X_test)
                      if can_reconstruct and X_noisy is not None else None),
        "trustworthiness": float(trustworthiness(
            X_test[trust_rows], Z_test[trust_rows],
            n_neighbors=min(n_neighbors, (len(trust_rows) - 1) // 2))),
        "epochs": getattr(reducer, "n_iter_", None),
        "fit_s": fit_s,
        "transform_s": transform_s,
    }
    return row


def compare_reducers(reducers, X, y=None, *, X_test=None, y_test=None, test_size=0.25,
                     cv=None, noise=("gaussian", 0.2), n_neighbors=5,
                     max_trust_samples=1000, random_state=0, verbose=0):
    """Fit several dimensionality reducers on the same data and compare them.

    Each reducer is cloned, fitted on the training part (without labels) and
    measured on held-out data: how well it reconstructs it, how well it
    reconstructs a noisy copy, how faithfully its codes keep each sample's
    neighbours (trustworthiness) and, given labels, how much class
    information the codes keep (a linear probe), with fit and transform
    times. Any transformer works; the reconstruction columns need
    ``inverse_transform`` (PCA, TruncatedSVD, every skae autoencoder) and are
    left empty otherwise.

    Parameters
    ----------
    reducers : dict of str to estimator
        Unfitted transformers by name, e.g. ``{"PCA": PCA(8),
        "AE": AutoencoderTransformer(8)}``; each is cloned.
    X : array-like of shape (n_samples, n_features)
        The data (the training part when ``X_test`` is given).
    y : array-like of shape (n_samples,), default=None
        Labels, used only by the probe (and to stratify the split).
    X_test, y_test : array-like, default=None
        Held-out data; when None, X is split (``test_size``) or
        cross-validated (``cv``).
    test_size : float, default=0.25
        Fraction of X held out when neither ``X_test`` nor ``cv`` is given.
    cv : int, cross-validation generator or iterable, default=None
        Cross-validate instead of one split (as in
        :func:`~sklearn.model_selection.cross_validate`); each value is then
        the mean over the folds.
    noise : NoiseInjector, str, tuple or None, default=("gaussian", 0.2)
        The corruption of the ``noisy MSE`` column, as
        :func:`robustness_report` takes it; None leaves the column out.
    n_neighbors : int, default=5
        Neighbourhood size of the trustworthiness.
    max_trust_samples : int, default=1000
        Trustworthiness compares all pairwise distances: it is computed on at
        most this many test samples (a fixed random subset).
    random_state : int or None, default=0
        Seeds the split, the noise and the trustworthiness subset (the
        reducers keep their own ``random_state``).
    verbose : int, default=0
        ``1`` prints a line to standard error as each reducer is fitted and
        measured (standard error, so that a printed report stays clean).

    Returns
    -------
    report : ReducerComparison
        Prints as a table (``notes`` says what the columns mean);
        ``to_frame()``, ``to_markdown()``, ``plot()``; ``estimators_`` holds
        the fitted reducers of a single split.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skae import AutoencoderTransformer
    >>> from skae.datasets import load_digits
    >>> from skae.evaluation import compare_reducers
    >>> X, y = load_digits(return_X_y=True)
    >>> report = compare_reducers(
    ...     {"PCA": PCA(8), "AE": AutoencoderTransformer(8, max_epochs=30, random_state=0)},
    ...     X, y, random_state=0)
    >>> report.columns
    ['model', 'mse', 'probe_acc', 'noisy_mse', 'trustworthiness', 'epochs', 'fit_s', 'transform_s']
    >>> pca, ae = report["mse"]
    >>> bool(ae < pca)  # the autoencoder reconstructs held-out digits better
    True
    """
    if not isinstance(reducers, dict) or not reducers:
        raise TypeError("reducers must be a non-empty dict {name: estimator}; got "
                        f"{type(reducers).__name__}.")
    for name, reducer in reducers.items():
        if not (hasattr(reducer, "fit") and hasattr(reducer, "transform")):
            raise TypeError(f"reducer {name!r} needs fit and transform; got "
                            f"{type(reducer).__name__}.")
    X = check_array(X, dtype=[np.float64, np.float32])
    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} labels but X has {X.shape[0]} samples.")
    splits = _splits(X, y, X_test, y_test, test_size, cv, random_state)
    image_shape = next((getattr(r, "image_shape", None) for r in reducers.values()
                        if getattr(r, "image_shape", None) is not None), None)
    injector = None if noise is None else _as_injector(noise, image_shape, random_state)
    rng = np.random.RandomState(random_state)

    per_fold, fitted, noisy_input = [], {}, []
    for X_tr, y_tr, X_te, y_te in splits:
        X_noisy = None if injector is None else injector.fit_transform(X_te)
        if X_noisy is not None:
            noisy_input.append(mse(X_noisy, X_te))  # the noisy column's baseline
        trust_rows = np.sort(rng.permutation(len(X_te))[:max_trust_samples])
        rows = {}
        for name, reducer in reducers.items():
            fitted[name] = clone(reducer)
            if verbose:
                print(f"  fitting {name} ({type(reducer).__name__}) ...", file=sys.stderr,
                      flush=True)
            rows[name] = row = _measure(fitted[name], X_tr, y_tr, X_te, y_te, X_noisy,
                                        n_neighbors, trust_rows)
            if verbose:
                done = ", ".join(f"{ReducerComparison.labels.get(k, k)} {v:.4g}"
                                 for k, v in row.items() if isinstance(v, float))
                print(f"  {name}: {done}", file=sys.stderr, flush=True)
        per_fold.append(rows)

    columns = ["model", "mse", "probe_acc", "noisy_mse", "trustworthiness", "epochs",
               "fit_s", "transform_s"]
    if y is None:
        columns.remove("probe_acc")
    if injector is None:
        columns.remove("noisy_mse")
    rows = []
    for name in reducers:
        row = {"model": name}
        for col in columns[1:]:
            values = [fold[name][col] for fold in per_fold]
            row[col] = (None if any(v is None for v in values) else
                        values[0] if col == "epochs" and len(values) == 1 else
                        float(np.mean(values)))
        rows.append(row)
    X_te0 = splits[0][2]
    notes = [f"{len(splits)} fold(s), {len(X_te0)} held-out samples"
             + (" (per fold)" if len(splits) > 1 else "")
             + "; recon MSE = mean squared error of the reconstruction"]
    if injector is not None:
        notes.append(f"noisy MSE = reconstruction of the held-out data with "
                     f"{_noise_label(injector, X.shape[1])} noise vs the clean data (the "
                     f"noisy input itself: {np.mean(noisy_input):.4f})")
    notes.append(f"trust = trustworthiness of the codes ({n_neighbors} neighbours)")
    if y is not None:
        notes.append("probe acc = LogisticRegression on the standardized codes")
    return ReducerComparison(rows, columns, fitted if len(splits) == 1 else None,
                             notes="; ".join(notes) + ".")


# ----------------------------------------------------------------- outliers
def outlier_metrics(is_inlier, scores):
    """AUROC and average precision of an outlier detector's scores.

    Parameters
    ----------
    is_inlier : array-like of shape (n_samples,)
        True (or 1, or +1) for the inliers, False (0 or -1) for the outliers;
        both must occur.
    scores : array-like of shape (n_samples,)
        Normality scores, higher for more normal samples (``score_samples``
        or ``decision_function`` of an sklearn outlier detector).

    Returns
    -------
    metrics : dict
        ``auroc``: the probability that a random inlier scores higher than a
        random outlier (0.5 is chance, 1 perfect); ``average_precision``: the
        average precision of finding the *outliers* by ranking the samples
        from the lowest score up (its chance level is the fraction of
        outliers, so it is the metric to read when outliers are rare).

    Examples
    --------
    >>> from skae.evaluation import outlier_metrics
    >>> outlier_metrics([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    {'auroc': 0.75, 'average_precision': 0.8333333333333333}
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    inlier = _inlier_mask(is_inlier)
    scores = check_array(scores, ensure_2d=False, dtype=np.float64, input_name="scores")
    if scores.ndim != 1 or len(scores) != len(inlier):
        raise ValueError(f"scores must be 1-D with one value per sample; got shape "
                         f"{scores.shape} for {len(inlier)} labels.")
    return {"auroc": float(roc_auc_score(inlier, scores)),
            "average_precision": float(average_precision_score(~inlier, -scores))}


def _inlier_mask(is_inlier):
    values = np.asarray(is_inlier)
    if values.ndim != 1:
        raise ValueError(f"is_inlier must be 1-D; got shape {values.shape}.")
    if values.dtype.kind not in "biuf" or not np.all(np.isin(values, (-1, 0, 1))):
        raise ValueError("is_inlier must hold booleans, 1/0 or +1/-1 (1 = inlier).")
    mask = values == 1
    if mask.all() or not mask.any():
        raise ValueError("is_inlier needs both inliers and outliers.")
    return mask


def one_class_scenarios(X_train, y_train, X_test, y_test, *, classes=None,
                        contamination=0.0, random_state=0):
    """The one-class protocol: per class, train on that class, test on all.

    Parameters
    ----------
    X_train, y_train : array-like
        Labelled training data.
    X_test, y_test : array-like
        Labelled test data; the class of a scenario is its inliers.
    classes : list, default=None
        The classes to make scenarios for; default every class of
        ``y_train``.
    contamination : float in [0, 1), default=0.0
        Fraction of each training set made of other classes' training
        samples (drawn at random), to measure robustness to a contaminated
        training set.
    random_state : int or None, default=0
        Seeds the contaminating draw.

    Returns
    -------
    scenarios : dict
        ``{name: (X_fit, X_test, is_inlier)}``, one per class, named
        ``"class <c>"``; the input to :func:`outlier_report`.
    """
    X_train = check_array(X_train, dtype=[np.float64, np.float32])
    X_test = check_array(X_test, dtype=[np.float64, np.float32])
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if not 0 <= contamination < 1:
        raise ValueError(f"contamination must be in [0, 1); got {contamination!r}.")
    rng = np.random.RandomState(random_state)
    scenarios = {}
    for c in (np.unique(y_train) if classes is None else classes):
        X_c = X_train[y_train == c]
        if contamination:
            n_other = int(round(len(X_c) * contamination / (1 - contamination)))
            others = np.flatnonzero(y_train != c)
            X_c = np.concatenate([X_c, X_train[rng.choice(others, n_other, replace=False)]])
        scenarios[f"class {c}"] = (X_c, X_test, y_test == c)
    return scenarios


class OutlierReport(_Report):
    """Result of :func:`outlier_report`: one row per scenario and detector.

    Built by :func:`outlier_report`; the parameters are kept as the
    attributes of the same name.

    Parameters
    ----------
    rows : list of dict
        ``scenario``, ``detector``, ``auroc``, ``average_precision`` (of the
        outliers, see :func:`outlier_metrics`) and ``fit_s`` (seconds).
    columns : list of str
        Column order.
    scores : dict
        ``{scenario: {detector: test scores}}`` and ``{scenario:
        {"is_inlier": mask}}``, for :meth:`plot`.
    """

    labels = {"average_precision": "AP (outliers)", "fit_s": "fit (s)"}
    formats = {"auroc": ".4f", "average_precision": ".4f", "fit_s": ".1f"}
    n_left = 2

    def __init__(self, rows, columns, scores):
        self.rows = rows
        self.columns = columns
        self.scores = scores

    def mean(self):
        """Mean AUROC, average precision and fit time of each detector over the scenarios.

        Returns
        -------
        means : dict
            ``{detector: {"auroc": ..., "average_precision": ..., "fit_s": ...}}``.
        """
        out = {}
        for name in dict.fromkeys(r["detector"] for r in self.rows):
            rows = [r for r in self.rows if r["detector"] == name]
            out[name] = {k: float(np.mean([r[k] for r in rows]))
                         for k in ("auroc", "average_precision", "fit_s")}
        return out

    def plot(self, scenario=None, **kwargs):
        """Score histograms (inliers vs outliers) and ROC curves of one scenario.

        Thin wrapper of :func:`skae.plotting.plot_outlier_scores`.

        Parameters
        ----------
        scenario : str, default=None
            The scenario to draw; default the first.
        **kwargs
            Passed to :func:`~skae.plotting.plot_outlier_scores`.

        Returns
        -------
        fig : matplotlib.figure.Figure
            One histogram panel per detector and a ROC panel.
        """
        from .plotting import plot_outlier_scores

        name = next(iter(self.scores)) if scenario is None else scenario
        if name not in self.scores:
            raise KeyError(f"{name!r}; scenarios are {list(self.scores)}")
        scores = dict(self.scores[name])
        is_inlier = scores.pop("is_inlier")
        kwargs.setdefault("title", name)
        return plot_outlier_scores(scores, is_inlier, **kwargs)


def outlier_report(detectors, scenarios, *, verbose=0):
    """Fit outlier detectors on each scenario and tabulate AUROC and average precision.

    Parameters
    ----------
    detectors : dict of str to estimator
        Unfitted outlier detectors by name (anything with ``fit`` and
        ``score_samples``, higher = more normal: skae's
        :class:`~skae.AutoencoderOutlierDetector`, IsolationForest,
        OneClassSVM, LocalOutlierFactor(novelty=True), ...); each is cloned
        and fitted per scenario.
    scenarios : dict
        ``{name: (X_fit, X_test, is_inlier)}``: the detectors are fitted on
        ``X_fit`` and score ``X_test``, whose inliers ``is_inlier`` marks
        (see :func:`one_class_scenarios`).
    verbose : int, default=0
        ``1`` prints a line per fit to standard error.

    Returns
    -------
    report : OutlierReport
        Prints as a table; ``mean()``, ``to_frame()``, ``to_markdown()``,
        ``plot()``.

    Examples
    --------
    >>> from sklearn.ensemble import IsolationForest
    >>> from skae.datasets import load_digits
    >>> from skae.evaluation import one_class_scenarios, outlier_report
    >>> X, y = load_digits(return_X_y=True)
    >>> scenarios = one_class_scenarios(X[:1000], y[:1000], X[1000:], y[1000:],
    ...                                 classes=[0, 1])
    >>> report = outlier_report({"IF": IsolationForest(random_state=0)}, scenarios)
    >>> report.columns
    ['scenario', 'detector', 'auroc', 'average_precision', 'fit_s']
    >>> report["scenario"]
    ['class 0', 'class 1']
    >>> bool(report.mean()["IF"]["auroc"] > 0.8)
    True
    """
    if not isinstance(detectors, dict) or not detectors:
        raise TypeError("detectors must be a non-empty dict {name: detector}; got "
                        f"{type(detectors).__name__}.")
    for name, det in detectors.items():
        if not (hasattr(det, "fit") and hasattr(det, "score_samples")):
            raise TypeError(f"detector {name!r} needs fit and score_samples; got "
                            f"{type(det).__name__}.")
    if not isinstance(scenarios, dict) or not scenarios:
        raise TypeError("scenarios must be a non-empty dict {name: (X_fit, X_test, "
                        "is_inlier)}.")
    rows, scores = [], {}
    for scenario, (X_fit, X_test, is_inlier) in scenarios.items():
        inlier = _inlier_mask(is_inlier)
        scores[scenario] = {"is_inlier": inlier}
        for name, det in detectors.items():
            det = clone(det)
            start = time.perf_counter()
            det.fit(X_fit)
            fit_s = time.perf_counter() - start
            s = np.asarray(det.score_samples(X_test), dtype=np.float64)
            scores[scenario][name] = s
            rows.append({"scenario": scenario, "detector": name,
                         **outlier_metrics(inlier, s), "fit_s": fit_s})
            if verbose:
                print(f"  {scenario} {name}: AUROC {rows[-1]['auroc']:.4f}",
                      file=sys.stderr, flush=True)
    return OutlierReport(rows, ["scenario", "detector", "auroc", "average_precision",
                                "fit_s"], scores)
