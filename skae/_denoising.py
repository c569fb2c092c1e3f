"""DenoisingAE: an autoencoder trained to reconstruct clean X from corrupted X."""

from numbers import Real

from sklearn.base import clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._base import BaseAutoencoder, init_args
from ._data import value_range
from ._docs import fill_doc
from ._noise import KINDS, NoiseInjector, check_levels, check_occlusion_shape
from ._validation import validate_X


@fill_doc
class DenoisingAE(BaseAutoencoder):
    """Denoising autoencoder: learns to map corrupted X back to clean X.

    Every training batch of every epoch is corrupted with fresh noise (the
    :class:`NoiseInjector` code) while the loss compares the reconstruction
    with the clean batch. ``transform`` encodes X as given (no noise added);
    with ``output="reconstruction"`` it returns the denoised X instead, so the
    estimator can be the denoising step in front of a classifier in a
    :class:`~sklearn.pipeline.Pipeline`. ``denoise`` always returns the
    denoised X.

    Early stopping validates on a copy of the validation inputs corrupted
    once (fixed noise), compared with their clean version. The
    ``train_loss`` of ``history_`` is measured on noisy input, so it is
    higher than a plain autoencoder's.

    Parameters
    ----------
    {{autoencoder_parameters}}
    noise : {"gaussian", "uniform", "salt_and_pepper", "occlusion", "flip", \
"mask"} or NoiseInjector, default="gaussian"
        The corruption applied to training batches. A kind name is corrupted
        at ``noise_level`` and clipped to the range of the training X (for
        images in [0, 1]: to [0, 1]). A :class:`NoiseInjector` is used with
        its own ``kind``, ``level``, ``clip``, ``patch_size`` and
        ``image_shape`` (it is cloned, never modified; its ``random_state`` is
        not used: this estimator's ``random_state`` drives the noise), and
        ``noise_level`` is then ignored. Occlusion puts one square patch on
        every training image, covering the fraction ``noise_level`` (or the
        injector's ``level``) of its area, e.g. 0.25 for half the image side
        (a level of 0 leaves the image clean); it takes its image shape from
        the injector, else from ``image_shape`` (or the square image that
        conv infers).
    noise_level : float or list of float, default=0.2
        Strength of a noise given by name (see :class:`NoiseInjector`'s
        ``level``). A list gives each training sample one of its levels drawn
        at random, 0 meaning clean: ``[0.0, 0.1, 0.3]`` trains on clean input
        and two noise levels at once, which keeps clean inputs well
        reconstructed and widens the range of noise the model undoes. The
        default 0.2 is a moderate Gaussian noise for data in [0, 1].
    output : {"latent", "reconstruction"}, default="latent"
        What ``transform`` returns: the latent codes of X, or the denoised X
        (then ``get_feature_names_out`` gives the input feature names and
        ``inverse_transform`` is the identity).

    Attributes
    ----------
    {{autoencoder_attributes}}
    noise_ : NoiseInjector
        The corruption used in training (levels, clip and shape resolved).

    See Also
    --------
    AutoencoderTransformer : The plain autoencoder.
    NoiseInjector : The corruption, as a transformer.
    skae.evaluation.robustness_report : Errors and accuracies under noise.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skae import DenoisingAE, NoiseInjector
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> dae = DenoisingAE(n_components=16, noise_level=[0.0, 0.2], max_epochs=5,
    ...                   random_state=0).fit(X)
    >>> dae.transform(X).shape
    (1797, 16)
    >>> X_noisy = NoiseInjector("gaussian", 0.2, clip=(0, 1), random_state=0).transform(X)
    >>> dae.denoise(X_noisy).shape
    (1797, 64)
    >>> pipe = make_pipeline(DenoisingAE(output="reconstruction", max_epochs=2,
    ...                                  random_state=0),
    ...                      LogisticRegression(max_iter=200)).fit(X, y)
    >>> pipe.predict(X_noisy[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "noise": [StrOptions(set(KINDS)), NoiseInjector],
        "noise_level": [Interval(Real, 0, None, closed="left"), "array-like"],
        "output": [StrOptions({"latent", "reconstruction"})],
    }

    def __init__(self, n_components=32, *, architecture="dense", hidden_layer_sizes=None,
                 image_shape=None, activation="relu", dropout=0.0, output_activation="auto",
                 loss="auto", optimizer="adam", lr=1e-3, lr_schedule="constant",
                 weight_decay=0.0, batch_size=128, max_epochs=30, early_stopping=True,
                 validation_fraction=0.1, patience=5, tol=1e-4, device="auto",
                 precision="float32", distributed=False,
                 random_state=None, verbose=0, callbacks=None,
                 checkpoint=None, noise="gaussian", noise_level=0.2, output="latent"):
        super().__init__(**init_args(BaseAutoencoder, locals()))
        self.noise = noise
        self.noise_level = noise_level
        self.output = output

    # ------------------------------------------------------------ noise
    def _resolve_settings(self, X):
        super()._resolve_settings(X)
        low, high = value_range(X)
        if isinstance(self.noise, NoiseInjector):
            noise = clone(self.noise)
            noise.set_params(random_state=None)
        else:
            noise = NoiseInjector(self.noise, self.noise_level, clip=(low, high))
        noise._validate_params()
        check_levels(noise.level, noise.kind)
        if noise.kind == "occlusion":
            if noise.image_shape is None:
                noise.set_params(image_shape=self.image_shape_)
            check_occlusion_shape(noise.image_shape, noise.patch_size, X.shape[1])
        self.noise_ = noise
        self._value_range_ = (low, high)

    def _corruptions(self):
        """Fresh noise for each training batch; one fixed noisy validation copy.

        Both are ``f(x, generator)``: the training core hands each its own
        generator of the fit.
        """
        noise, value_range = self.noise_, getattr(self, "_value_range_", None)

        def corrupt(x, generator):
            return noise.corrupt_tensor(x, generator, value_range=value_range)

        return corrupt, corrupt

    # ------------------------------------------------------------ persistence
    _FITTED_KEYS = BaseAutoencoder._FITTED_KEYS + ("noise_", "_value_range_")

    # ------------------------------------------------------------ outputs
    # the denoised X is the reconstruction of X: the same method, under the
    # name that says what it is for here
    denoise = BaseAutoencoder.reconstruct

    def transform(self, X):
        """Latent codes of X, or the denoised X with ``output="reconstruction"``.

        No noise is added.

        {{parameters_X}}

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_components) or (n_samples, n_features)
            Codes or denoised data, of X's float dtype.
        """
        if self.output == "reconstruction":
            return self.reconstruct(X)
        return super().transform(X)

    def inverse_transform(self, X):
        """Decode latent codes; the identity with ``output="reconstruction"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components) or (n_samples, n_features)
            The output of :meth:`transform`.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
            Data-space values, of X's float dtype.
        """
        if self.output == "reconstruction":
            check_is_fitted(self)
            return validate_X(self, X, reset=False).copy()
        return super().inverse_transform(X)

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``denoisingae0...`` codes, or X's own names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names (checked against ``feature_names_in_``).

        Returns
        -------
        feature_names_out : ndarray of str
            The names of the codes, or of X's features with
            ``output="reconstruction"``.
        """
        if self.output == "reconstruction":
            check_is_fitted(self)
            return _check_feature_names_in(self, input_features)
        return super().get_feature_names_out(input_features)

    @property
    def _n_features_out(self):
        return self.n_features_in_ if self.output == "reconstruction" else self.n_components
