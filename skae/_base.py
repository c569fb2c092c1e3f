"""Shared bases of every skae estimator that trains a network.

:class:`BaseTrainer` declares the training parameters (and their constraints)
once, for every estimator that trains a net, with the class-level hooks the
training core (:mod:`skae._training`) calls: ``_training_callbacks``,
``_user_callbacks`` and ``_early_stopping_monitor``.

:class:`BaseAutoencoder` owns everything the plain, denoising and variational
autoencoders have in common: the network parameters, input validation, the
resolution of ``"auto"`` settings, ``fit``/``partial_fit`` through the
training core, batched ``transform`` / ``inverse_transform``, ``score`` /
``score_samples`` and sklearn tags. Subclasses only say how to build their
module and loss (``_build``), how to encode (``_encode_tensor``) and, for
denoising, how to corrupt batches (``_corruptions``).
"""

import copy
import functools
import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._data import check_source, is_dask, is_streamed, map_dask, output_dtype, value_range
from ._docs import fill_doc
from ._modules import (
    ACTIVATIONS,
    AutoencoderModule,
    ReconstructionLoss,
    apply_output_activation,
    build_encoder_decoder,
)
from ._training import (
    OPTIMIZERS,
    PRECISIONS,
    build_module,
    derive_seed,
    history_records,
    predict_batches,
    rebuild_net,
    resolve_device,
    train,
    train_more,
)
from ._utils import check_image_shape
from ._validation import check_callbacks, check_has_columns, positive_strides, validate_X

DEFAULT_HIDDEN = {"dense": (512, 256), "conv": (32, 64)}

#: parameters shared by every estimator that trains a network
TRAINING_CONSTRAINTS = {
    "optimizer": [StrOptions(set(OPTIMIZERS)), callable],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "device": [StrOptions({"auto", "cpu", "cuda"})],
    "precision": [StrOptions(set(PRECISIONS))],
    "distributed": ["boolean"],
    "lr_schedule": [StrOptions({"constant", "cosine"})],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [list, None],
    "checkpoint": [str, os.PathLike, None],
}

#: parameters that describe the network of an autoencoder
NETWORK_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "architecture": [StrOptions({"dense", "conv"})],
    "hidden_layer_sizes": ["array-like", None],
    "image_shape": [tuple, list, None],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "output_activation": [StrOptions({"auto", "sigmoid", "identity"})],
    "loss": [StrOptions({"auto", "mse", "bce"})],
}


def check_hidden(hidden_layer_sizes, architecture):
    """Validated tuple of positive ints (the architecture's default for None)."""
    if hidden_layer_sizes is None:
        return DEFAULT_HIDDEN[architecture]
    hidden = tuple(np.atleast_1d(np.asarray(hidden_layer_sizes)).tolist())
    if not all(isinstance(h, Integral) and h >= 1 for h in hidden):
        raise ValueError(f"hidden_layer_sizes must be positive integers; got "
                         f"{hidden_layer_sizes!r}.")
    if architecture == "conv" and not hidden:
        raise ValueError("architecture='conv' needs at least one conv block in "
                         "hidden_layer_sizes.")
    return hidden


def init_args(parent, args):
    """The arguments of ``parent.__init__`` picked from ``args``.

    ``args`` is a subclass ``__init__``'s ``locals()``: a subclass lists every
    parameter in its own signature (scikit-learn reads it) and hands its
    parent's on with ``super().__init__(**init_args(Parent, locals()))``,
    without naming each one again.
    """
    return {name: args[name] for name in parent._get_param_names()}


def in_unit_interval(X):
    """Whether all values of X (an array or a source) lie in [0, 1]."""
    if X.shape[0] * X.shape[1] == 0:
        return False
    lo, hi = value_range(X)
    return lo >= 0.0 and hi <= 1.0


class BaseTrainer(BaseEstimator):
    """The training parameters and fitted state of every skae estimator that trains.

    Not for direct use. Subclasses list these parameters in their own
    ``__init__`` signature (scikit-learn reads it) and pass them here, where
    they are stored once.
    """

    _parameter_constraints = dict(TRAINING_CONSTRAINTS)

    #: what early stopping watches, on top of ``VALID_LOSS_MONITOR`` (the
    #: validation loss); the classifier watches its validation accuracy
    _early_stopping_monitor = {}

    def __init__(self, *, optimizer, lr, lr_schedule, weight_decay, batch_size, max_epochs,
                 early_stopping, validation_fraction, patience, tol, device, precision,
                 distributed, random_state, verbose, callbacks, checkpoint):
        self.optimizer = optimizer
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.device = device
        self.precision = precision
        self.distributed = distributed
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint = checkpoint

    def _training_callbacks(self):
        """``(name, callback)`` pairs the estimator needs for itself."""
        return []

    def _user_callbacks(self):
        """A copy of the ``callbacks`` parameter (never modified)."""
        check_callbacks(self.callbacks, self)
        return copy.deepcopy(self.callbacks) or []

    def _validate(self, X, *, reset):
        """X checked for this estimator: :func:`validate_X` (subclasses that
        stream data return sources for out-of-core and sparse input)."""
        return validate_X(self, X, reset=reset)

    def _predict(self, fn, X, n_out=None, *, out_dtype=None, reduce=None):
        """``fn`` (tensor -> tensor) applied to ``X`` in inference batches.

        Checks that the estimator is fitted, then X as in ``fit``. The output
        has ``n_out`` columns (None: as many as X) and X's float dtype unless
        ``out_dtype`` is given; ``reduce`` is :func:`predict_batches`'. A dask
        array gives a lazy dask array, computed block by block where the
        blocks live.
        """
        check_is_fitted(self)
        if is_dask(X):
            check_source(self, X, reset=False)
            predict = functools.partial(self._predict, fn, n_out=n_out, out_dtype=out_dtype,
                                        reduce=reduce)
            width = None if reduce is not None else (X.shape[1] if n_out is None else n_out)
            return map_dask(predict, X, width, out_dtype or output_dtype(X.dtype))
        X = self._validate(X, reset=False)
        return self._infer(fn, X, X.shape[1] if n_out is None else n_out,
                           out_dtype or X.dtype, reduce=reduce)

    def _infer(self, fn, A, n_out, out_dtype, reduce=None):
        """:func:`predict_batches` of ``fn`` over the checked array (or source)
        ``A``, with the network in eval mode, on the device of its weights."""
        return predict_batches(fn, A, n_out, self.net_.prepare_inference(), out_dtype,
                               reduce=reduce)

    @property
    def encoder_(self):
        """The trained encoder (``net_.module_.encoder``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_.encoder

    def _set_fitted(self, net):
        self.net_ = net
        self.history_ = history_records(net.history)
        self.n_iter_ = len(self.history_)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


@fill_doc
class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseTrainer):
    """Common machinery of skae's autoencoders; not for direct use."""

    _parameter_constraints = {**NETWORK_CONSTRAINTS, **TRAINING_CONSTRAINTS}

    def __init__(self, n_components=32, *, architecture="dense", hidden_layer_sizes=None,
                 image_shape=None, activation="relu", dropout=0.0, output_activation="auto",
                 loss="auto", optimizer="adam", lr=1e-3, lr_schedule="constant",
                 weight_decay=0.0, batch_size=128, max_epochs=30, early_stopping=True,
                 validation_fraction=0.1, patience=5, tol=1e-4, device="auto",
                 precision="float32", distributed=False,
                 random_state=None, verbose=0, callbacks=None,
                 checkpoint=None):
        self.n_components = n_components
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.activation = activation
        self.dropout = dropout
        self.output_activation = output_activation
        self.loss = loss
        super().__init__(**init_args(BaseTrainer, locals()))

    # ------------------------------------------------------------ hooks
    def _build(self, n_features):
        """Return ``(builder, criterion)``: ``builder()`` makes the untrained module."""
        return (functools.partial(_autoencoder_module, self.architecture, n_features,
                                  self.n_components, self.hidden_layer_sizes_,
                                  self.image_shape_, self.activation, self.dropout),
                ReconstructionLoss(self.loss_, self.output_activation_))

    def _corruptions(self):
        """``(train_corruption, valid_corruption)``: ``f(x, generator)`` or Nones."""
        return None, None

    def _encode_tensor(self, x):
        return self.encoder_(x)

    def _decode_tensor(self, z):
        return apply_output_activation(self.decoder_(z), self.output_activation_)

    # ------------------------------------------------------------ validation
    def _validate(self, X, *, reset):
        """:func:`validate_X`; an out-of-core array (memmap, h5py, zarr, dask) or
        a sparse matrix (dense architecture) becomes a source of
        :mod:`skae._data`, read a block at a time."""
        if is_streamed(X):
            return check_source(self, X, reset=reset, sparse=self.architecture == "dense")
        return validate_X(self, X, reset=reset)

    def _resolve_settings(self, X):
        """Set the data-dependent fitted settings from the first training X."""
        unit = in_unit_interval(X)
        loss = self.loss
        if loss == "auto":  # bce needs a sigmoid output: not when identity was asked for
            loss = "bce" if unit and self.output_activation != "identity" else "mse"
        if loss == "bce" and not unit:
            lo, hi = value_range(X)
            raise ValueError("loss='bce' needs X in [0, 1]; got values in "
                             f"[{lo:.4g}, {hi:.4g}]. Scale X (e.g. "
                             "MinMaxScaler) or use loss='mse'.")
        out = self.output_activation
        if loss == "bce":
            if out == "identity":
                raise ValueError("loss='bce' implies a sigmoid output; "
                                 "output_activation='identity' contradicts it.")
            out = "sigmoid"
        elif out == "auto":
            out = "sigmoid" if unit else "identity"
        self.loss_ = loss
        self.output_activation_ = out
        self.hidden_layer_sizes_ = check_hidden(self.hidden_layer_sizes, self.architecture)
        self.image_shape_ = check_image_shape(self.image_shape, X.shape[1], self.architecture)
        self.device_ = resolve_device(self.device)

    def _check_chunk(self, X):
        if self.loss_ == "bce" and not in_unit_interval(X):
            raise ValueError("this estimator was fitted with loss='bce', which needs "
                             "X in [0, 1].")

    # ------------------------------------------------------------ fitting
    def _new_net(self, X, *, early_stopping, n_epochs=None, checkpoint=None):
        """Resolve settings, build the module and train it on X."""
        self._resolve_settings(X)
        self._seed_ = derive_seed(self.random_state)
        builder, criterion = self._build(X.shape[1])
        train_corruption, valid_corruption = self._corruptions()
        return train(self, builder, criterion, X, seed=self._seed_, device=self.device_,
                     early_stopping=early_stopping, corruption=train_corruption,
                     valid_corruption=valid_corruption, epochs=n_epochs,
                     checkpoint=checkpoint)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on X (``y`` is ignored).

        {{parameters_X_y}}

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = self._validate(X, reset=True)
        return self._set_fitted(self._new_net(X, early_stopping=self.early_stopping,
                                              checkpoint=self.checkpoint))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One more epoch over X, without validation split or early stopping.

        The first call sets the network up from X, later calls continue
        training it, so that data too large for memory can be streamed in
        chunks.

        {{parameters_X_y}}

        Returns
        -------
        self : object
            The estimator, trained for one more epoch.
        """
        if not hasattr(self, "net_"):
            X = self._validate(X, reset=True)
            # one epoch, no validation split: a local decision, the
            # ``early_stopping`` parameter is left as the user set it
            return self._set_fitted(self._new_net(X, early_stopping=False, n_epochs=1))
        X = self._validate(X, reset=False)
        self._check_chunk(X)
        train_more(self.net_, X, seed=self._seed_ + self.n_iter_,
                   device=self.net_.weights_device, corruption=self._corruptions()[0])
        return self._set_fitted(self.net_)

    @property
    def decoder_(self):
        """The trained decoder (``net_.module_.decoder``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_.decoder

    # ------------------------------------------------------------ persistence
    _FITTED_KEYS = ("n_features_in_", "loss_", "output_activation_", "hidden_layer_sizes_",
                    "image_shape_", "history_", "n_iter_", "_seed_")

    def _get_fitted_state(self):
        """JSON-able fitted metadata and the weights, for :func:`skae.save`."""
        state = {k: getattr(self, k) for k in self._FITTED_KEYS}
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        return state, self.net_.module_.state_dict()

    def _set_fitted_state(self, state, tensors):
        """Rebuild a fitted estimator on CPU from :meth:`_get_fitted_state`."""
        for key, value in state.items():
            if key == "feature_names_in_":
                value = np.asarray(value, dtype=object)
            elif isinstance(value, list) and key != "history_":
                value = tuple(value)
            setattr(self, key, value)
        self.device_ = "cpu"
        builder, criterion = self._build(self.n_features_in_)
        module = build_module(builder, torch.Generator(), "cpu")
        module.load_state_dict(tensors)
        self._set_fitted(rebuild_net(self, module, criterion, self.history_))

    # ------------------------------------------------------------ inference
    def transform(self, X):
        """Encode X into latent codes.

        {{parameters_X}}

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Latent codes, of X's float dtype.
        """
        return self._predict(self._encode_tensor, X, self.n_components)

    def inverse_transform(self, X):
        """Decode latent codes back to data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes (e.g. the output of :meth:`transform`).

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
            Reconstructions, of the codes' float dtype.
        """
        check_is_fitted(self)
        if is_dask(X):
            if X.ndim != 2 or X.shape[1] != self.n_components:
                raise ValueError(f"X has shape {X.shape}, but inverse_transform of "
                                 f"{type(self).__name__} expects {self.n_components} "
                                 f"(n_components) latent features.")
            return map_dask(self.inverse_transform, X, self.n_features_in_,
                            output_dtype(X.dtype))
        check_has_columns(self, X)
        Z = positive_strides(check_array(X, dtype=[np.float64, np.float32]))
        if Z.shape[1] != self.n_components:
            raise ValueError(f"X has {Z.shape[1]} features, but inverse_transform of "
                             f"{type(self).__name__} expects {self.n_components} "
                             f"(n_components) latent features.")
        return self._infer(self._decode_tensor, Z, self.n_features_in_, Z.dtype)

    def _reconstruct_tensor(self, x):
        return self._decode_tensor(self._encode_tensor(x))

    def reconstruct(self, X):
        """Encode then decode X: ``inverse_transform(transform(X))`` in one pass.

        For a :class:`~skae.DenoisingAE` this is the denoised X; its ``denoise``
        is this same method.

        {{parameters_X}}

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
            Reconstructions, of X's float dtype.
        """
        return self._predict(self._reconstruct_tensor, X)

    def score_samples(self, X):
        """Minus each sample's mean squared reconstruction error.

        Higher is better, so it is usable as an anomaly score (low = unusual).

        {{parameters_X}}

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((X - reconstruct(X)) ** 2, axis=1)``, computed in float64.
        """
        def neg_mse(rec, X_batch):
            diff = rec.astype(np.float64) - np.asarray(X_batch, dtype=np.float64)
            return -np.mean(diff * diff, axis=1)

        return self._predict(self._reconstruct_tensor, X, out_dtype=np.float64,
                             reduce=neg_mse)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over X (higher is better).

        Minus the mean squared reconstruction error for
        :class:`~skae.AutoencoderTransformer` and :class:`~skae.DenoisingAE`,
        the mean ELBO per sample in nats (with beta = 1) for
        :class:`~skae.VAETransformer`. This is what ``GridSearchCV`` maximises
        when no scorer is given.

        {{parameters_X_y}}

        Returns
        -------
        score : float
            ``mean(score_samples(X))``, computed in float64.
        """
        return float(np.mean(self.score_samples(X)))

    def get_feature_names_out(self, input_features=None):
        """Output feature names: the class name in lower case and the code index.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against ``feature_names_in_``: the codes have names
            of their own (``autoencodertransformer0``, ...).

        Returns
        -------
        feature_names_out : ndarray of str
            One name per latent component.
        """
        check_is_fitted(self)  # n_components alone would name an unfitted model's codes
        return super().get_feature_names_out(input_features)

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = self.architecture == "dense"
        return tags


def _autoencoder_module(architecture, n_features, n_components, hidden, image_shape,
                        activation, dropout):
    return AutoencoderModule(*build_encoder_decoder(
        architecture, n_features, n_components, hidden, image_shape, activation, dropout))
