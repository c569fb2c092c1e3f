"""EncoderClassifier: a classifier on top of an autoencoder's encoder."""

import copy
import functools
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._autoencoder import AutoencoderTransformer
from ._base import TRAINING_CONSTRAINTS, BaseAutoencoder, BaseTrainer, init_args
from ._docs import fill_doc
from ._modules import ACTIVATIONS, DenseEncoder
from ._training import (
    FitRandom,
    build_module,
    make_net,
    predict_batches,
    rebuild_net,
    resolve_device,
    train,
)
from ._validation import is_fitted, validate_X_y

#: marks, in a saved state, that ``autoencoder_`` is the ``autoencoder`` parameter
_SAME_AS_PARAM = "__autoencoder_param__"


def pretrained_autoencoder(ae, X, seed):
    """The fitted autoencoder an ``autoencoder`` parameter stands for.

    A fitted skae autoencoder (or a ``FrozenEstimator`` of one) is returned as
    is, after checking that it takes X's width; None gives a default
    :class:`AutoencoderTransformer`, and that or an unfitted one is cloned,
    seeded with ``seed`` when its ``random_state`` is None, and fitted on X.
    Shared by the estimators built on an autoencoder (the classifier, the
    outlier detector).
    """
    if isinstance(ae, FrozenEstimator):
        if not isinstance(ae.estimator, BaseAutoencoder) or not is_fitted(ae.estimator):
            raise ValueError(f"a FrozenEstimator passed as autoencoder must wrap a "
                             f"fitted skae autoencoder; got {ae.estimator!r}.")
        ae = ae.estimator
    if ae is not None and is_fitted(ae):
        if ae.n_features_in_ != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features, but the fitted autoencoder "
                f"({type(ae).__name__}) was trained on {ae.n_features_in_} features; "
                f"pass data of the autoencoder's input size, or an unfitted "
                f"autoencoder to pretrain on X.")
        return ae
    ae = AutoencoderTransformer() if ae is None else clone(ae)
    if ae.random_state is None:
        ae.set_params(random_state=seed)
    return ae.fit(X)


class EncoderHead(nn.Module):
    """A (pretrained) encoder followed by a classification head.

    ``forward`` returns class logits. With ``frozen=True`` the encoder's
    parameters do not require gradients and the encoder stays in eval mode
    (dropout off) even when the module is put in training mode.
    """

    def __init__(self, encoder, head, frozen=False):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.frozen = frozen
        if frozen:
            self.encoder.requires_grad_(False)
            self.encoder.eval()

    def train(self, mode=True):
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    def forward(self, x):
        return self.head(self.encoder(x))


class AccuracyCrossEntropy(nn.CrossEntropyLoss):
    """Cross-entropy on logits that also reports each batch's accuracy.

    The accuracy is left in ``self.terms`` so that the history gets
    ``train_acc`` and ``valid_acc`` per epoch; early stopping watches
    ``valid_acc``.
    """

    term_names = ("acc",)

    def __init__(self):
        super().__init__()
        self.terms = {}

    def forward(self, logits, target):
        self.terms = {"acc": (logits.detach().argmax(1) == target).float().mean()}
        return super().forward(logits, target)


@fill_doc
class EncoderClassifier(ClassifierMixin, BaseTrainer):
    """Classifier on a pretrained autoencoder's encoder (transfer learning).

    The encoder of ``autoencoder`` maps X to latent codes and a small dense
    head maps the codes to class scores, trained with cross-entropy. An
    unfitted ``autoencoder`` is first pretrained on X (without ``y``), so
    ``fit`` does both steps; a fitted one is reused as is (never refit or
    modified: its encoder is copied). With ``freeze_encoder=True`` only the
    head is trained; otherwise the whole network is fine-tuned.

    Parameters
    ----------
    autoencoder : skae autoencoder or None, default=None
        Any skae autoencoder (:class:`AutoencoderTransformer`,
        :class:`DenoisingAE`, :class:`VAETransformer`; a VAE contributes its
        posterior-mean encoder). Unfitted: cloned and pretrained on X inside
        ``fit`` (when its ``random_state`` is None it gets one derived from
        this classifier's ``random_state``). Fitted: its encoder is copied and
        used as is. None: a default ``AutoencoderTransformer()`` seeded from
        ``random_state``. Tune it through ``autoencoder__<param>`` (e.g.
        ``autoencoder__n_components`` in ``GridSearchCV``). Note that
        ``clone`` (and so ``GridSearchCV`` and ``cross_val_score``) returns
        an unfitted copy of a fitted autoencoder, which is then pretrained
        again in each fit; to share one pretrained autoencoder across a search
        or cross-validation, wrap it in :class:`sklearn.frozen.FrozenEstimator`
        (pickle works then, :func:`skae.save` does not).
    freeze_encoder : bool, default=True
        True: the encoder's weights are not trained (no gradients, kept in
        eval mode so its dropout is off); the codes are computed once and only
        the head is trained, which is fast. False: fine-tune the encoder and
        the head together (usually more accurate when labels are plentiful).
    hidden_layer_sizes : tuple of int, default=(128,)
        Widths of the head's hidden layers; ``()`` gives a linear
        (multinomial logistic) head on the codes.
    activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "tanh", \
"sigmoid"}, default="relu"
        Activation of the head's hidden layers.
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden activation of the head.
    {{optimizer}}
    {{lr}}
    {{lr_schedule}}
    {{weight_decay}}
    {{batch_size}}
    max_epochs : int, default=30
        Maximum number of passes over the training data (classifier training
        only; pretraining uses the autoencoder's own settings).
    early_stopping : bool, default=True
        Hold out a stratified ``validation_fraction`` of X, stop when the
        validation accuracy has not risen by more than ``tol`` for
        ``patience`` epochs, and restore the weights of the most accurate
        epoch. Like :class:`~sklearn.neural_network.MLPClassifier`, this
        watches accuracy, not the validation cross-entropy: the latter turns
        up (over-confident probabilities) while accuracy still improves.
    {{validation_fraction}}
    patience : int, default=10
        Epochs without progress before stopping. Longer than the
        autoencoders' 5 because accuracy moves in steps and is noisier than a
        loss (``MLPClassifier``'s ``n_iter_no_change`` is 10 too).
    tol : float, default=1e-4
        Rise of the validation accuracy (absolute) that counts as progress.
    {{device}}
    {{precision}}
    {{distributed}}
    random_state : int, RandomState instance or None, default=None
        Drives all randomness of the classifier (head weights, shuffling, the
        validation split, dropout) and seeds a default or unseeded
        autoencoder's pretraining. The same int gives the same model on CPU.
    {{verbose}}
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks for the classifier's training (copied at fit).
    {{checkpoint}}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    autoencoder_ : skae autoencoder
        The fitted autoencoder whose encoder was used: the ``autoencoder``
        parameter itself when it was passed fitted (the wrapped estimator for
        a ``FrozenEstimator``), else the clone pretrained in ``fit``. The
        classifier never changes it (it trains a copy of the encoder).
    net_ : skorch.NeuralNet
        skorch net whose ``module_`` is the whole network (encoder + head);
        with ``freeze_encoder=True`` the head was trained on precomputed codes.
    encoder_, head_ : torch.nn.Module
        The classifier's encoder (a copy of the autoencoder's) and head.
    history_ : list of dict
        One dict per epoch of classifier training with ``epoch``,
        ``train_loss`` and ``train_acc`` (cross-entropy and accuracy on the
        training batches, dropout on), ``valid_loss`` and ``valid_acc`` (with
        early stopping) and ``dur`` (seconds).
    n_iter_ : int
        Number of epochs of classifier training.
    {{n_features_in_}}
    {{feature_names_in_}}

    See Also
    --------
    AutoencoderTransformer : The default autoencoder.
    sklearn.neural_network.MLPClassifier : The same head without pretraining.

    Examples
    --------
    >>> from skae import AutoencoderTransformer, EncoderClassifier
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=16, max_epochs=10, random_state=0)
    >>> clf = EncoderClassifier(ae, lr=1e-2, batch_size=32, max_epochs=10, random_state=0)
    >>> clf.fit(X[:1500], y[:1500]).predict_proba(X[1500:]).shape
    (297, 10)
    >>> bool(clf.score(X[1500:], y[1500:]) > 0.75)  # accuracy (chance: 0.1)
    True

    A fitted autoencoder is reused as is; fine-tuning trains a copy of its encoder:

    >>> fine = EncoderClassifier(clf.autoencoder_, freeze_encoder=False, lr=1e-2,
    ...                          batch_size=32, max_epochs=3, random_state=0)
    >>> bool(fine.fit(X[:1500], y[:1500]).score(X[1500:], y[1500:]) > 0.8)
    True
    >>> fine.autoencoder_ is clf.autoencoder_
    True
    """

    _parameter_constraints = {
        "autoencoder": [BaseAutoencoder, FrozenEstimator, None],
        "freeze_encoder": ["boolean"],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(self, autoencoder=None, *, freeze_encoder=True, hidden_layer_sizes=(128,),
                 activation="relu", dropout=0.0, optimizer="adam", lr=1e-3,
                 lr_schedule="constant", weight_decay=0.0, batch_size=128, max_epochs=30,
                 early_stopping=True, validation_fraction=0.1, patience=10, tol=1e-4,
                 device="auto", precision="float32", distributed=False,
                 random_state=None, verbose=0,
                 callbacks=None, checkpoint=None):
        self.autoencoder = autoencoder
        self.freeze_encoder = freeze_encoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        super().__init__(**init_args(BaseTrainer, locals()))

    # ------------------------------------------------------------ building
    def _head_sizes(self):
        sizes = tuple(np.atleast_1d(np.asarray(self.hidden_layer_sizes, dtype=object)).tolist())
        if not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1
                   for h in sizes):
            raise ValueError(f"hidden_layer_sizes must be a tuple of positive integers "
                             f"(or () for a linear head); got {self.hidden_layer_sizes!r}.")
        return sizes

    def _fitted_autoencoder(self, X, seed):
        """The autoencoder to take the encoder from, pretrained on X if needed."""
        return pretrained_autoencoder(self.autoencoder, X, seed)

    def _build_module(self, autoencoder, n_classes, device, generator):
        """``EncoderHead``: a copy of the autoencoder's encoder and a new head."""
        encoder = copy.deepcopy(autoencoder.encoder_).to(device)
        n_codes = autoencoder.n_components
        with torch.inference_mode():  # a dry run: the encoder must give the codes
            was_training = encoder.training
            encoder.eval()
            width = encoder(torch.zeros(1, autoencoder.n_features_in_, device=device)).shape[1]
            encoder.train(was_training)
        if width != n_codes:
            raise ValueError(f"the encoder of {type(autoencoder).__name__} gives {width} "
                             f"outputs, not its n_components={n_codes} codes.")
        head = build_module(functools.partial(DenseEncoder, n_codes, self._head_sizes(),
                                              n_classes, self.activation, self.dropout),
                            generator, device)
        return EncoderHead(encoder, head, frozen=self.freeze_encoder)

    # ------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Pretrain the autoencoder if needed, then train the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (images flattened), on the autoencoder's scale.
        y : array-like of shape (n_samples,)
            Class labels of any type (ints, strings, ...).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X, y = validate_X_y(self, X, y)
        check_classification_targets(y)
        self._head_sizes()
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        y_encoded = encoder.transform(y).astype(np.int64)
        rng = check_random_state(self.random_state)
        ae_seed, self._seed_ = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
        device = resolve_device(self.device)

        self.autoencoder_ = self._fitted_autoencoder(X, ae_seed)
        module = self._build_module(self.autoencoder_, len(self.classes_), device,
                                    FitRandom(self._seed_, device)["init"])
        criterion = AccuracyCrossEntropy()
        fit = functools.partial(train, self, seed=self._seed_, device=device,
                                early_stopping=self.early_stopping, stratify=y_encoded,
                                checkpoint=self.checkpoint)
        if self.freeze_encoder:
            # The frozen encoder is deterministic (eval mode): encode X once
            # and train the head on the codes, instead of running the encoder
            # on every batch of every epoch.
            codes = predict_batches(module.encoder, X, self.autoencoder_.n_components,
                                    device, np.float32)
            head_net = fit(module.head, criterion, codes, y_encoded)
            net = make_net(self, module, criterion, device)
            net.history = head_net.history
        else:
            net = fit(module, criterion, X, y_encoded)
        return self._set_fitted(net)

    @property
    def head_(self):
        """The classification head (``net_.module_.head``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_.head

    # ------------------------------------------------------------ inference
    def predict_proba(self, X):
        """Class probabilities (softmax of the network's outputs).

        {{parameters_X}}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``, of X's float dtype.
        """
        check_is_fitted(self)  # before classes_ is read
        return self._predict(self._proba_tensor, X, len(self.classes_))

    def _proba_tensor(self, x):
        return torch.softmax(self.net_.module_(x).double(), dim=1)

    def predict(self, X):
        """Predict class labels.

        {{parameters_X}}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    # ------------------------------------------------------------ persistence
    _FITTED_KEYS = ("n_features_in_", "history_", "n_iter_", "_seed_")

    def _get_fitted_state(self):
        """JSON-able fitted metadata and the weights, for :func:`skae.save`."""
        state = {k: getattr(self, k) for k in self._FITTED_KEYS}
        state["classes_"] = {"values": self.classes_.tolist(),
                             "dtype": self.classes_.dtype.str
                             if self.classes_.dtype.kind != "O" else "object"}
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        state["autoencoder_"] = (_SAME_AS_PARAM if self.autoencoder_ is self.autoencoder
                                 else self.autoencoder_)
        return state, self.net_.module_.state_dict()

    def _set_fitted_state(self, state, tensors):
        """Rebuild a fitted classifier on CPU from :meth:`_get_fitted_state`."""
        state = dict(state)
        classes = state.pop("classes_")
        self.classes_ = np.asarray(classes["values"], dtype=classes["dtype"])
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state.pop("feature_names_in_"), dtype=object)
        ae = state.pop("autoencoder_")
        self.autoencoder_ = self.autoencoder if ae == _SAME_AS_PARAM else ae
        for key, value in state.items():
            setattr(self, key, value)
        module = self._build_module(self.autoencoder_, len(self.classes_), "cpu",
                                    torch.Generator())
        module.load_state_dict(tensors)
        self._set_fitted(rebuild_net(self, module, AccuracyCrossEntropy(), self.history_))

    #: early stopping watches the validation accuracy (see ``early_stopping``)
    _early_stopping_monitor = dict(monitor="valid_acc", lower_is_better=False,
                                   threshold_mode="abs")
