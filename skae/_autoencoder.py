"""AutoencoderTransformer: a neural, PCA-like transformer."""

from ._base import BaseAutoencoder
from ._docs import fill_doc


@fill_doc
class AutoencoderTransformer(BaseAutoencoder):
    """Autoencoder as a scikit-learn transformer (dense or convolutional).

    ``transform`` maps X to ``n_components`` latent codes, ``inverse_transform``
    decodes codes back to data space, like :class:`~sklearn.decomposition.PCA`
    but non-linear. Training minimises the reconstruction loss of X (``y`` is
    never used) with a skorch training loop; ``score`` is minus the mean
    squared reconstruction error, so ``GridSearchCV`` works without a scorer.

    Parameters
    ----------
    {{n_components}}
    {{architecture}}
    {{hidden_layer_sizes}}
    image_shape : tuple, default=None
        ``(C, H, W)`` or ``(H, W)`` of the flattened images in X. Conv infers a
        square single-channel image when None; dense ignores it.
    {{activation}}
    {{dropout}}
    {{output_activation}}
    {{loss}}
    {{optimizer}}
    {{lr}}
    {{weight_decay}}
    {{batch_size}}
    {{max_epochs}}
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of X, stop when the validation loss has
        not improved by a relative ``tol`` for ``patience`` epochs, and restore
        the best weights.
    {{validation_fraction}}
    {{patience}}
    {{tol}}
    {{device}}
    random_state : int, RandomState instance or None, default=None
        Drives all randomness: weights, shuffling, the validation split (and
        dropout). The same int gives the same model on CPU.
    {{verbose}}
    {{callbacks}}
    {{checkpoint}}

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
