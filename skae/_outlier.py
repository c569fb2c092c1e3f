"""AutoencoderOutlierDetector: novelty and outlier detection with an autoencoder."""

import math
from numbers import Real

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.frozen import FrozenEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._classifier import pretrained_autoencoder
from ._docs import fill_doc
from ._validation import validate_X

#: the per-sample scores the detector offers (higher = more normal)
SCORES = ("reconstruction", "standardized", "mse", "denoising", "elbo", "latent",
          "combined")

#: marks, in a saved state, that ``autoencoder_`` is the ``autoencoder`` parameter
_SAME_AS_PARAM = "__autoencoder_param__"

#: noisy copies of each sample that the "denoising" score reconstructs
N_NOISE_DRAWS = 4

#: the default autoencoder (``autoencoder=None``); see the class docstring
DEFAULT_AUTOENCODER = dict(n_components=16, hidden_layer_sizes=(256, 64))

_LOG_2PI = math.log(2.0 * math.pi)


def _entropy(x):
    """Per-feature Bernoulli entropy ``-x log x - (1 - x) log(1 - x)`` (0 at 0 and 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(x * np.log(x) + (1.0 - x) * np.log1p(-x))
    return np.nan_to_num(h, nan=0.0)


def _robust_scale(values):
    """``(median, scale)`` of training scores; scale = IQR / 1.349 (the standard
    deviation for Gaussian values), never 0."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    scale = (q3 - q1) / 1.349
    if not scale > 0:
        scale = float(np.std(values))
    return float(median), float(scale) if scale > 0 else 1.0


def _gaussian(Z):
    """``(location, precision, log_det)`` of a Ledoit-Wolf Gaussian fit of Z.

    Eigenvalues of the shrunk covariance are floored (at ``1e-6`` of the
    largest, and ``1e-12``) so that a degenerate Z (one sample, constant
    codes) still gives a finite density.
    """
    from sklearn.covariance import ledoit_wolf

    Z = np.asarray(Z, dtype=np.float64)
    location = Z.mean(axis=0)
    if len(Z) > 1:
        cov = ledoit_wolf(Z - location, assume_centered=True)[0]
    else:
        cov = np.zeros((Z.shape[1], Z.shape[1]))
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.maximum(eigval, max(float(eigval.max()) * 1e-6, 1e-12))
    precision = (eigvec / eigval) @ eigvec.T
    return location, precision, float(np.sum(np.log(eigval)))


@fill_doc
class AutoencoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier and novelty detection with an autoencoder.

    An autoencoder is fitted on (mostly) normal data; a new sample is scored
    by how well the autoencoder models it: its reconstruction error, its
    ELBO (a VAE), the density of its latent code, or a combination. The
    interface is that of :class:`~sklearn.ensemble.IsolationForest` and
    :class:`~sklearn.neighbors.LocalOutlierFactor` with ``novelty=True``:
    :meth:`score_samples` (higher = more normal), :meth:`decision_function`
    (``score_samples - offset_``, negative for outliers), :meth:`predict`
    (+1 inlier, -1 outlier) and ``fit_predict``.

    Parameters
    ----------
    autoencoder : skae autoencoder or None, default=None
        Any skae autoencoder (:class:`AutoencoderTransformer`,
        :class:`DenoisingAE`, :class:`VAETransformer`). Unfitted: cloned and
        trained on X inside ``fit`` (when its ``random_state`` is None it
        gets one derived from this detector's ``random_state``). Fitted:
        reused as is (never refit), only the score's statistics are computed
        on X; so several scores of one trained model can be compared cheaply.
        A :class:`sklearn.frozen.FrozenEstimator` of a fitted one keeps it
        fitted through ``clone`` (``GridSearchCV``). None: a default
        ``AutoencoderTransformer(n_components=16, hidden_layer_sizes=(256,
        64))`` (dense, trained with binary cross-entropy on data in [0, 1])
        seeded from ``random_state``: the best of the outlier benchmark of
        the documentation's benchmarks page (one-class Fashion-MNIST), and
        three times faster to train than the default (512, 256) network.
    anomaly_score : {"standardized", "reconstruction", "mse", "denoising", "elbo", \
"latent", "combined"}, default="standardized"
        The per-sample score, higher for more normal samples:

        - ``"reconstruction"``: minus the mean per-feature loss the
          autoencoder was trained with (its ``loss_``): the squared error, or
          for binary cross-entropy the cross-entropy minus its minimum (the
          entropy of x), i.e. the Bernoulli KL divergence, which is 0 for a
          perfect reconstruction of grey levels too (the raw cross-entropy
          mostly measures how grey an image is, a poor anomaly score);
        - ``"standardized"``: the ``"reconstruction"`` loss of each feature
          divided by its mean over the training set (plus 1% of the overall
          mean, so that features always reconstructed perfectly do not divide
          by 0), then averaged: an error where normal samples are always
          reconstructed well (e.g. ink on an image's empty border) weighs
          more than one where they vary;
        - ``"mse"``: minus the mean squared reconstruction error (the
          autoencoder's own ``score_samples`` for a plain or denoising one);
        - ``"denoising"``: minus the mean squared error between X and the
          reconstruction of X corrupted with Gaussian noise of standard
          deviation ``noise_level`` times X's standard deviation (averaged
          over 4 noise patterns drawn once in ``fit``, the same for every
          sample, so scores do not depend on the other rows);
        - ``"elbo"``: the ELBO in nats (needs a :class:`VAETransformer`, whose
          ``score_samples`` it is), for a bce VAE plus the entropy of x (the
          ELBO relative to its ceiling for grey levels, for the reason given
          under ``"reconstruction"``);
        - ``"latent"``: the log-density of the code (``transform``) under a
          Gaussian fitted (Ledoit-Wolf shrinkage) to the training codes;
        - ``"combined"``: the sum of the standardized ``"latent"`` score and
          the standardized log of the reconstruction loss (each centred by
          its training median and scaled by its training interquartile
          range): outliers far from the training codes and badly
          reconstructed ones are both caught.
    contamination : "auto" or float in (0, 0.5], default="auto"
        Sets the threshold ``offset_`` on the training scores. A fraction:
        that quantile, so this fraction of the training samples is flagged.
        ``"auto"``: Tukey's lower fence of the training scores, ``Q1 - 1.5 *
        IQR`` (quartiles of the training scores), which flags the samples
        that score unusually low for the training set without assuming a
        contamination rate.
    noise_level : float > 0, default=0.2
        Noise of the ``"denoising"`` score, relative to X's standard
        deviation (ignored by the other scores).
    random_state : int, RandomState instance or None, default=None
        Seeds a default or unseeded autoencoder's training and the noise of
        the ``"denoising"`` score. The same int gives the same model on CPU.

    Attributes
    ----------
    autoencoder_ : skae autoencoder
        The fitted autoencoder: the ``autoencoder`` parameter itself when it
        was passed fitted (the wrapped estimator for a ``FrozenEstimator``),
        else the clone trained in ``fit``.
    offset_ : float
        The threshold: ``decision_function = score_samples - offset_``.
    location_, precision_ : ndarray
        Mean and precision matrix of the Gaussian fitted to the training
        codes (``"latent"`` and ``"combined"`` only).
    feature_weights_ : ndarray of shape (n_features,)
        The weight of each feature's loss (``"standardized"`` only).
    {{n_features_in_}}
    {{feature_names_in_}}

    See Also
    --------
    sklearn.ensemble.IsolationForest : A tree-based outlier detector.
    sklearn.neighbors.LocalOutlierFactor : Density-based; ``novelty=True`` for
        new data.
    skae.evaluation.outlier_report : AUROC and average precision of detectors.

    Notes
    -----
    The training scores that set ``offset_`` and standardize the
    ``"combined"`` parts are those of the training samples themselves, which
    the autoencoder has seen: new normal samples score slightly lower, so a
    fraction ``contamination`` of new inliers is a lower bound of the
    inliers flagged.

    To tune the detector with labelled validation data, use a scorer that
    reads :meth:`decision_function`, e.g. ``scoring="roc_auc"`` in
    ``GridSearchCV``, with ``y = 1`` for inliers and ``0`` (or ``-1``) for
    outliers; ``y`` is ignored by ``fit``.

    Examples
    --------
    >>> from sklearn.metrics import roc_auc_score
    >>> from skae import AutoencoderOutlierDetector, AutoencoderTransformer
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=20, random_state=0)
    >>> detector = AutoencoderOutlierDetector(ae, random_state=0).fit(X[y == 0])
    >>> detector.predict(X[:5])  # the first five digits are 0, 1, 2, 3, 4
    array([ 1, -1, -1, -1, -1])
    >>> inlier = (y == 0).astype(int)  # 1 for the inliers, 0 for the outliers
    >>> bool(roc_auc_score(inlier, detector.decision_function(X)) > 0.95)
    True
    """

    _parameter_constraints = {
        "autoencoder": [BaseAutoencoder, FrozenEstimator, None],
        "anomaly_score": [StrOptions(set(SCORES))],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "noise_level": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, autoencoder=None, *, anomaly_score="standardized", contamination="auto",
                 noise_level=0.2, random_state=None):
        self.autoencoder = autoencoder
        self.anomaly_score = anomaly_score
        self.contamination = contamination
        self.noise_level = noise_level
        self.random_state = random_state

    # ------------------------------------------------------------ fitting
    def _check_autoencoder_kind(self):
        if self.anomaly_score != "elbo":
            return
        from ._vae import VAETransformer

        ae = self.autoencoder
        ae = ae.estimator if isinstance(ae, FrozenEstimator) else ae
        if not isinstance(ae, VAETransformer):
            raise ValueError(f"anomaly_score='elbo' needs a VAETransformer as autoencoder; "
                             f"got {type(ae).__name__}.")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the autoencoder if needed, then the score's statistics on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, mostly normal samples (images flattened).
        y : None
            Ignored; accepted for API consistency (``GridSearchCV`` passes
            the validation labels of a scorer here).

        Returns
        -------
        self : object
            The fitted detector.
        """
        X = validate_X(self, X, reset=True)
        self._check_autoencoder_kind()
        rng = check_random_state(self.random_state)
        ae_seed, noise_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
        ae = self.autoencoder
        if ae is None:
            from ._autoencoder import AutoencoderTransformer

            ae = AutoencoderTransformer(**DEFAULT_AUTOENCODER)
        self.autoencoder_ = pretrained_autoencoder(ae, X, ae_seed)

        if self.anomaly_score == "denoising":
            generator = np.random.RandomState(noise_seed)
            sigma = self.noise_level * float(np.std(X))
            self.noise_ = (sigma * generator.standard_normal(
                (N_NOISE_DRAWS, X.shape[1]))).astype(np.float32)
            self.clip_ = (float(np.min(X)), float(np.max(X)))
        if self.anomaly_score == "standardized":
            self.feature_weights_ = self._feature_weights(X)
        if self.anomaly_score in ("latent", "combined"):
            codes = self._codes(X)
            self.location_, self.precision_, self._log_det_ = _gaussian(codes)
        if self.anomaly_score == "combined":
            self._standardize_ = [_robust_scale(part) for part in self._combined_parts(X)]
        scores = self._score(X)
        if self.contamination == "auto":
            q1, q3 = np.percentile(scores, [25, 75])
            self.offset_ = float(q1 - 1.5 * (q3 - q1))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        return self

    # ------------------------------------------------------------ the scores
    def _infer(self, fn, X, reduce=None, n_out=None):
        ae = self.autoencoder_
        return ae._infer(fn, X, n_out, np.float64, reduce=reduce)

    def _codes(self, X):
        ae = self.autoencoder_
        return self._infer(ae._encode_tensor, X, n_out=ae.n_components)

    def _logits(self, x):
        ae = self.autoencoder_
        return ae.decoder_(ae._encode_tensor(x))

    def _feature_losses(self, kind):
        """``f(logits, X_batch) -> (n, n_features)`` losses of each feature."""
        sigmoid = self.autoencoder_.output_activation_ == "sigmoid"

        def losses(logits, X_batch):
            logits = logits.astype(np.float64)
            x = np.asarray(X_batch, dtype=np.float64)
            if kind == "bce":  # cross-entropy minus its minimum, the entropy of x
                return np.logaddexp(0.0, logits) - x * logits - _entropy(x)
            diff = (expit(logits) if sigmoid else logits) - x
            return diff * diff

        return losses

    def _recon_loss(self, X, kind, weights=None):
        """Mean per-feature loss of the reconstruction (``"bce"`` or ``"mse"``),
        each feature's loss multiplied by ``weights`` when given."""
        losses = self._feature_losses(kind)

        def loss(logits, X_batch):
            per_feature = losses(logits, X_batch)
            if weights is not None:
                per_feature = per_feature * weights
            return np.mean(per_feature, axis=1)

        return self._infer(self._logits, X, reduce=loss)

    def _feature_weights(self, X, chunk=4096):
        """``1 / (mean training loss of each feature + 1% of the overall mean)``."""
        losses = self._feature_losses(self.autoencoder_.loss_)
        total = np.zeros(X.shape[1])
        for start in range(0, len(X), chunk):
            part = X[start:start + chunk]
            logits = self._infer(self._logits, part, n_out=X.shape[1])
            total += losses(logits, part).sum(axis=0)
        mean = total / len(X)
        return 1.0 / (mean + 0.01 * float(np.mean(mean)) + 1e-12)

    def _denoising_loss(self, X):
        ae = self.autoencoder_
        noise = torch.from_numpy(self.noise_)
        low, high = self.clip_

        def noisy_mse(x):
            errors = 0.0
            for pattern in noise.to(x.device):
                rec = ae._reconstruct_tensor((x + pattern).clamp(low, high)).double()
                errors = errors + ((rec - x.double()) ** 2).mean(1)
            return (errors / len(noise)).unsqueeze(1)

        return self._infer(noisy_mse, X, n_out=1).ravel()

    def _elbo(self, X):
        from ._vae_modules import elbo_per_sample

        ae = self.autoencoder_

        def elbo(outputs, X_batch):
            value = elbo_per_sample(outputs, X_batch, ae.n_features_in_, ae.loss_,
                                    ae.output_activation_)
            if ae.loss_ == "bce":  # relative to the cross-entropy floor of x
                value = value + np.sum(_entropy(np.asarray(X_batch, dtype=np.float64)),
                                       axis=1)
            return value

        return self._infer(ae._elbo_outputs, X, reduce=elbo)

    def _latent_log_density(self, X):
        diff = self._codes(X) - self.location_
        maha = np.einsum("ij,jk,ik->i", diff, self.precision_, diff)
        return -0.5 * (maha + self._log_det_ + len(self.location_) * _LOG_2PI)

    def _combined_parts(self, X):
        """Minus the log reconstruction loss, and the latent log-density."""
        loss = self._recon_loss(X, self.autoencoder_.loss_)
        return [-np.log(loss + 1e-12), self._latent_log_density(X)]

    def _score(self, X):
        kind = self.anomaly_score
        if kind == "reconstruction":
            return -self._recon_loss(X, self.autoencoder_.loss_)
        if kind == "standardized":
            return -self._recon_loss(X, self.autoencoder_.loss_, self.feature_weights_)
        if kind == "mse":
            return -self._recon_loss(X, "mse")
        if kind == "denoising":
            return -self._denoising_loss(X)
        if kind == "elbo":
            return self._elbo(X)
        if kind == "latent":
            return self._latent_log_density(X)
        return sum((part - median) / scale for part, (median, scale)
                   in zip(self._combined_parts(X), self._standardize_))

    # ------------------------------------------------------------ public scores
    def score_samples(self, X):
        """Per-sample normality score: higher means more normal.

        The score chosen by ``anomaly_score``.

        {{parameters_X}}

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            The lower, the more abnormal.
        """
        check_is_fitted(self)
        X = validate_X(self, X, reset=False)
        return np.asarray(self._score(X), dtype=np.float64)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        {{parameters_X}}

        Returns
        -------
        decision : ndarray of shape (n_samples,), dtype float64
            Shifted scores; ``predict`` is -1 where this is negative.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Whether each sample is an inlier (+1) or an outlier (-1).

        {{parameters_X}}

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
            +1 where ``decision_function(X) >= 0``, else -1.
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)

    # ------------------------------------------------------------ persistence
    _ARRAYS = ("location_", "precision_", "noise_", "feature_weights_")

    def _get_fitted_state(self):
        """JSON-able fitted metadata and the arrays as tensors, for :func:`skae.save`."""
        state = {k: v for k, v in vars(self).items()
                 if k.endswith("_") and not k.startswith("__") and k not in self._ARRAYS
                 and k != "autoencoder_"}
        if "feature_names_in_" in state:
            state["feature_names_in_"] = [str(n) for n in state["feature_names_in_"]]
        for key in ("_standardize_", "clip_"):
            if key in state:
                state[key] = np.asarray(state[key]).tolist()
        state["autoencoder_"] = (_SAME_AS_PARAM if self.autoencoder_ is self.autoencoder
                                 else self.autoencoder_)
        tensors = {k: torch.from_numpy(np.ascontiguousarray(getattr(self, k)))
                   for k in self._ARRAYS if hasattr(self, k)}
        return state, tensors

    def _set_fitted_state(self, state, tensors):
        """Rebuild a fitted detector from :meth:`_get_fitted_state`."""
        state = dict(state)
        ae = state.pop("autoencoder_")
        self.autoencoder_ = self.autoencoder if ae == _SAME_AS_PARAM else ae
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state.pop("feature_names_in_"), dtype=object)
        for key in ("_standardize_", "clip_"):
            if key in state:
                state[key] = [tuple(v) for v in state[key]] if key == "_standardize_" \
                    else tuple(state[key])
        for key, value in state.items():
            setattr(self, key, value)
        for key, tensor in tensors.items():
            setattr(self, key, tensor.numpy())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
