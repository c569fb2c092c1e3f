"""VAETransformer: a variational autoencoder that is a transformer and a generator."""

import functools
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder, init_args
from ._docs import fill_doc
from ._modules import build_encoder_decoder
from ._training import derive_seed
from ._vae_modules import GaussianEncoder, KLWarmup, VAELoss, VAEModule, elbo_per_sample


@fill_doc
class VAETransformer(BaseAutoencoder):
    """Variational autoencoder as a scikit-learn transformer (dense or conv).

    The encoder gives the mean and log-variance of a diagonal Gaussian
    posterior ``q(z | x)``; training samples ``z`` with the reparameterization
    trick and minimises the negative ELBO, ``recon + beta * KL(q(z | x) ||
    N(0, I))`` per sample (reconstruction summed over features, mean over the
    batch). ``transform`` returns the posterior mean (deterministic), so the
    estimator slots into a ``Pipeline`` like :class:`~sklearn.decomposition.PCA`;
    :meth:`sample` generates new data from the prior; :meth:`score` is the mean
    ELBO in nats, so ``GridSearchCV`` works without a scorer.

    Parameters
    ----------
    {{autoencoder_parameters}}
    beta : float >= 0, default=1.0
        Weight of the KL term in the training loss (``beta > 1``: a beta-VAE
        with a more regular latent space, ``beta < 1``: sharper
        reconstructions). :meth:`score` always uses weight 1.
    kl_warmup_epochs : int >= 0, default=0
        KL warm-up: in epoch ``e`` (1-based, counted over ``fit`` and later
        ``partial_fit`` calls) the KL weight is ``beta * min(1, (e - 1) /
        kl_warmup_epochs)``, a linear ramp from 0 that reaches ``beta`` at
        epoch ``kl_warmup_epochs + 1``. 0 disables it.

    Attributes
    ----------
    {{autoencoder_attributes}}

    See Also
    --------
    AutoencoderTransformer : Deterministic autoencoder.
    DenoisingAE : Trains on corrupted input to reconstruct the clean one.
    sklearn.decomposition.PCA : The linear counterpart.

    Notes
    -----
    The reconstruction likelihood follows ``loss``. ``"bce"``: independent
    Bernoulli per feature, ``log p(x | z) = sum(x * log x_hat + (1 - x) *
    log(1 - x_hat))`` with ``x_hat = sigmoid(logits)`` (a proper likelihood
    for binary data; for grey levels in [0, 1] it is the usual
    cross-entropy, not a normalised density). ``"mse"``: unit-variance
    Gaussian around the output, ``log p(x | z) = -0.5 * sum((x - x_hat) **
    2) - 0.5 * d * log(2 pi)`` (suits standardised features; for data in
    [0, 1] its KL term dominates, prefer bce there).

    The validation loss that early stopping watches is the negative ELBO at
    the full ``beta`` (warm-up does not apply to it), computed as
    :meth:`score_samples` does: decoder at the posterior mean, analytic KL.

    ``encoder_`` returns the posterior mean; its ``stats(x)`` method returns
    the mean and the log-variance. ``decoder_`` returns logits when the
    output is a sigmoid. Besides the keys every autoencoder records, each
    ``history_`` dict holds the per-sample means of the two loss terms,
    ``train_recon``, ``train_kl``, ``valid_recon`` and ``valid_kl`` (nats),
    and ``kl_weight``, the KL weight of that epoch.

    Examples
    --------
    >>> from skae import VAETransformer
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> vae = VAETransformer(n_components=4, max_epochs=15, random_state=0).fit(X)
    >>> vae.transform(X).shape
    (1797, 4)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    >>> sorted(k for k in vae.history_[-1] if k.endswith(("recon", "kl")))
    ['train_kl', 'train_recon', 'valid_kl', 'valid_recon']
    >>> import numpy as np
    >>> p = X.mean(axis=0).clip(1e-6, 1 - 1e-6)  # the mean image: a VAE that ignores z
    >>> baseline = float(np.mean(X @ np.log(p) + (1 - X) @ np.log(1 - p)))
    >>> bool(vae.score(X) > baseline)  # mean ELBO in nats (higher is better)
    True
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_components=32, *, architecture="dense", hidden_layer_sizes=None,
                 image_shape=None, activation="relu", dropout=0.0, output_activation="auto",
                 loss="auto", optimizer="adam", lr=1e-3, lr_schedule="constant",
                 weight_decay=0.0, batch_size=128, max_epochs=30, early_stopping=True,
                 validation_fraction=0.1, patience=5, tol=1e-4, device="auto",
                 precision="float32", distributed=False,
                 random_state=None, verbose=0, callbacks=None,
                 checkpoint=None, beta=1.0, kl_warmup_epochs=0):
        super().__init__(**init_args(BaseAutoencoder, locals()))
        self.beta = beta
        self.kl_warmup_epochs = kl_warmup_epochs

    # ------------------------------------------------------------ hooks
    def _build(self, n_features):
        return (functools.partial(_vae_module, self.architecture, n_features,
                                  self.n_components, self.hidden_layer_sizes_,
                                  self.image_shape_, self.activation, self.dropout),
                VAELoss(self.loss_, self.output_activation_, float(self.beta)))

    def _training_callbacks(self):
        return [("kl_warmup", KLWarmup(self.kl_warmup_epochs))]

    # ------------------------------------------------------------ generation
    def sample(self, n_samples=1, random_state=None):
        """Generate new data: decode ``z ~ N(0, I)`` drawn from the prior.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds a private torch generator (the global RNGs are left
            untouched); the same int gives the same samples.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features), dtype float32
            Decoded samples (the decoder's output, e.g. pixel intensities in
            [0, 1] with a sigmoid output), in the network's float32 precision.
            These are the means of ``p(x | z)``, not draws from it.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) \
                or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        generator = torch.Generator().manual_seed(derive_seed(random_state))
        z = torch.randn(int(n_samples), self.n_components, generator=generator).numpy()
        return self._infer(self._decode_tensor, z, self.n_features_in_, np.float32)

    # ------------------------------------------------------------ scoring
    def _elbo_outputs(self, x):
        mean, logvar = self.encoder_.stats(x)
        return torch.cat([self.decoder_(mean), mean, logvar], dim=1)

    def score_samples(self, X):
        """Per-sample evidence lower bound (ELBO), in nats; higher is better.

        ``log p(x | z = mean) - KL(q(z | x) || N(0, I))``: the reconstruction
        log-likelihood of the ``loss_`` model (Bernoulli for bce, unit-variance
        Gaussian for mse; see the class Notes) at the posterior mean, plus the
        analytic KL, always with weight 1 whatever ``beta`` (so models trained
        with different ``beta`` are compared on the same quantity).
        Deterministic; computed batch by batch, reductions in float64.

        {{parameters_X}}

        Returns
        -------
        elbo : ndarray of shape (n_samples,), dtype float64
            ELBO of each sample in nats (low values flag unusual samples).
        """
        def elbo(outputs, X_batch):
            return elbo_per_sample(outputs, X_batch, self.n_features_in_, self.loss_,
                                   self.output_activation_)

        return self._predict(self._elbo_outputs, X, out_dtype=np.float64, reduce=elbo)


def _vae_module(architecture, n_features, n_components, hidden, image_shape, activation,
                dropout):
    body, decoder = build_encoder_decoder(architecture, n_features, n_components, hidden,
                                          image_shape, activation, dropout,
                                          encoder_out=2 * n_components)
    return VAEModule(GaussianEncoder(body, n_components), decoder)
