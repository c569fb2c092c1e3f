"""AutoencoderTransformer: a neural, PCA-like transformer."""

from ._base import BaseAutoencoder


class AutoencoderTransformer(BaseAutoencoder):
    """Autoencoder as a scikit-learn transformer (dense or convolutional).

    ``transform`` maps X to ``n_components`` latent codes, ``inverse_transform``
    decodes codes back to data space, like :class:`~sklearn.decomposition.PCA`
    but non-linear. Training minimises the reconstruction loss of X (``y`` is
    never used) with a skorch training loop; ``score`` is minus the mean
    squared reconstruction error, so ``GridSearchCV`` works without a scorer.

    Parameters
    ----------
    n_components : int, default=32
        Size of the latent code (as in PCA).
    architecture : {"dense", "conv"}, default="dense"
        ``"dense"``: a multilayer perceptron and its mirror. ``"conv"``:
        stride-2 convolution blocks (any image size) and transposed
        convolutions back.
    hidden_layer_sizes : tuple of int, default=None
        Dense: widths of the encoder's hidden layers (the decoder mirrors
        them); default ``(512, 256)``. Conv: channels of each stride-2 block;
        default ``(32, 64)``.
    image_shape : tuple, default=None
        ``(C, H, W)`` or ``(H, W)`` of the flattened images in X. Conv infers a
        square single-channel image when None; dense ignores it.
    activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "tanh", \
"sigmoid"}, default="relu"
        Hidden-layer activation.
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden activation.
    output_activation : {"auto", "sigmoid", "identity"}, default="auto"
        ``"auto"``: sigmoid when the training X lies in [0, 1], else identity.
    loss : {"auto", "mse", "bce"}, default="auto"
        ``"auto"``: binary cross-entropy when the training X lies in [0, 1]
        (it implies a sigmoid output), else mean squared error.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
default="adam"
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    batch_size : int, default=128
    max_epochs : int, default=30
        Maximum number of passes over the training data.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of X, stop when the validation loss has
        not improved by a relative ``tol`` for ``patience`` epochs, and restore
        the best weights.
    validation_fraction : float in (0, 1), default=0.1
    patience : int, default=5
    tol : float, default=1e-4
        Relative improvement of the validation loss that counts as progress.
    device : {"auto", "cpu", "cuda"}, default="auto"
        ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Drives all randomness: weights, shuffling, the validation split (and
        dropout). The same int gives the same model on CPU.
    verbose : int, default=0
        ``1`` prints skorch's per-epoch table.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (copied at fit, so the list is never modified).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net.
    encoder_, decoder_ : torch.nn.Module
        The trained halves of the network.
    history_ : list of dict
        One dict per epoch with ``epoch``, ``train_loss``, ``valid_loss`` (with
        early stopping) and ``dur`` (seconds).
    n_iter_ : int
        Number of epochs trained.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Feature names, when X was a DataFrame with string column names.
    loss_, output_activation_ : str
        The resolved loss and output activation.
    image_shape_ : tuple or None
        ``(C, H, W)`` used by the conv architecture.

    See Also
    --------
    DenoisingAE : trains on corrupted input to reconstruct the clean one.
    VAETransformer : variational autoencoder, also a generator.
    sklearn.decomposition.PCA : the linear counterpart.

    Examples
    --------
    >>> from skae import AutoencoderTransformer
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=5, random_state=0)
    >>> Z = ae.fit(X).transform(X)
    >>> Z.shape
    (1797, 8)
    >>> ae.inverse_transform(Z).shape
    (1797, 64)
    >>> bool(ae.score(X) < 0)
    True
    """

    def __init__(self, n_components=32, *, architecture="dense", hidden_layer_sizes=None,
                 image_shape=None, activation="relu", dropout=0.0, output_activation="auto",
                 loss="auto", optimizer="adam", lr=1e-3, weight_decay=0.0, batch_size=128,
                 max_epochs=30, early_stopping=True, validation_fraction=0.1, patience=5,
                 tol=1e-4, device="auto", random_state=None, verbose=0, callbacks=None):
        self.n_components = n_components
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.activation = activation
        self.dropout = dropout
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
