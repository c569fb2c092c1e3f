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
    {{autoencoder_parameters}}

    Attributes
    ----------
    {{autoencoder_attributes}}

    See Also
    --------
    DenoisingAE : Trains on corrupted input to reconstruct the clean one.
    VAETransformer : Variational autoencoder, also a generator.
    sklearn.decomposition.PCA : The linear counterpart.

    Examples
    --------
    >>> from skae import AutoencoderTransformer
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=10, random_state=0)
    >>> Z = ae.fit(X).transform(X)
    >>> Z.shape
    (1797, 8)
    >>> ae.inverse_transform(Z).shape
    (1797, 64)
    >>> mean_image = -float(((X - X.mean(axis=0)) ** 2).mean())  # predicting the mean
    >>> bool(ae.score(X) > mean_image)  # minus the reconstruction MSE: higher is better
    True
    """
