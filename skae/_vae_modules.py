"""Torch pieces of the variational autoencoder (top level, so they pickle).

* :class:`GaussianEncoder` wraps an encoder body with ``2 * n_components``
  outputs (mean and log-variance). Its ``forward`` returns the posterior mean
  only, so ``VAETransformer.encoder_`` is a drop-in deterministic encoder
  (``transform``, a classifier on top); :meth:`GaussianEncoder.stats` gives
  both halves.
* :class:`VAEModule` samples ``z`` with the reparameterization trick in
  training mode and uses the posterior mean in eval mode.
* :class:`VAELoss` is the negative ELBO per sample, averaged over the batch.
* :class:`KLWarmup` is the skorch callback that ramps the KL weight.

The same formulas, in float64 numpy, give ``VAETransformer.score_samples``
(:func:`elbo_per_sample`).
"""

import math

import numpy as np
import torch
from scipy.special import expit
from skorch.callbacks import Callback
from torch import nn
from torch.nn import functional as F

from ._modules import apply_output_activation

#: log-variance is clamped to this range so that exp() never overflows
LOGVAR_RANGE = (-30.0, 20.0)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class GaussianEncoder(nn.Module):
    """Encoder of ``q(z | x) = N(mean, diag(exp(logvar)))``.

    ``body`` maps x to ``2 * n_components`` values: the mean, then the
    log-variance. ``forward`` returns the mean (deterministic codes).
    """

    def __init__(self, body, n_components):
        super().__init__()
        self.body = body
        self.n_components = n_components

    def stats(self, x):
        """``(mean, logvar)`` of the approximate posterior."""
        out = self.body(x)
        k = self.n_components
        return out[:, :k], out[:, k:].clamp(*LOGVAR_RANGE)

    def forward(self, x):
        return self.body(x)[:, :self.n_components]


class VAEModule(nn.Module):
    """Gaussian encoder + decoder.

    ``forward`` returns ``(decoder logits, mean, logvar)``. In training mode
    ``z = mean + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` drawn from
    ``generator`` (the fit's own RNG, set by the training core; torch's global
    RNG when None); in eval mode ``z = mean``, so validation is deterministic.
    """

    uses_generator = True
    generator = None

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        mean, logvar = self.encoder.stats(x)
        z = mean
        if self.training:
            eps = torch.randn(mean.shape, generator=self.generator, device=mean.device,
                              dtype=mean.dtype)
            z = mean + torch.exp(0.5 * logvar) * eps
        return self.decoder(z), mean, logvar


def recon_nll(logits, target, kind, output_activation):
    """Per-sample negative log-likelihood, summed over features (torch)."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)
    diff = apply_output_activation(logits, output_activation) - target
    return 0.5 * (diff * diff).sum(1) + HALF_LOG_2PI * target.shape[1]


def kl_to_prior(mean, logvar):
    """Per-sample ``KL(N(mean, exp(logvar)) || N(0, I))`` (torch)."""
    return 0.5 * (mean * mean + torch.exp(logvar) - 1.0 - logvar).sum(1)


class VAELoss(nn.Module):
    """Negative ELBO, ``recon + weight * KL`` per sample, mean over the batch.

    ``recon`` is the negative log-likelihood summed over features: Bernoulli
    with logits for ``kind="bce"``, unit-variance Gaussian around the output
    for ``kind="mse"`` (``0.5 * sum((x - x_hat) ** 2) + 0.5 * d * log(2 pi)``).
    In training mode the KL weight is ``beta * warmup`` (``warmup`` set each
    epoch by :class:`KLWarmup`); in eval mode (validation) it is ``beta``, so
    the validation loss is comparable across epochs. Each batch's mean
    ``recon`` and ``kl`` are left in ``self.terms`` for the history.
    """

    term_names = ("recon", "kl")

    def __init__(self, kind="bce", output_activation="sigmoid", beta=1.0):
        super().__init__()
        self.kind = kind
        self.output_activation = output_activation
        self.beta = beta
        self.warmup = 1.0
        self.terms = {}

    def forward(self, output, target):
        logits, mean, logvar = output
        recon = recon_nll(logits, target, self.kind, self.output_activation).mean()
        kl = kl_to_prior(mean, logvar).mean()
        weight = self.beta * (self.warmup if self.training else 1.0)
        self.terms = {"recon": recon.detach(), "kl": kl.detach()}
        return recon + weight * kl


def warmup_factor(epoch, n_warmup):
    """KL weight factor of a 1-based ``epoch``: ``0, 1/n, ..., (n-1)/n, 1, 1, ...``."""
    if n_warmup <= 0:
        return 1.0
    return min(1.0, (epoch - 1) / n_warmup)


class KLWarmup(Callback):
    """Set the criterion's KL warm-up factor at the start of each epoch.

    The epoch count is the net's history length, so ``partial_fit`` carries on
    the ramp; the weight used (``beta * factor``) is recorded as ``kl_weight``.
    """

    def __init__(self, n_epochs=0):
        self.n_epochs = n_epochs

    def on_epoch_begin(self, net, **kwargs):
        factor = warmup_factor(len(net.history), self.n_epochs)
        net.criterion_.warmup = factor
        net.history.record("kl_weight", float(net.criterion_.beta * factor))


def elbo_per_sample(outputs, X, n_features, kind, output_activation):
    """Per-sample ELBO in nats (float64) from ``[logits, mean, logvar]`` rows.

    The reconstruction term is evaluated at the posterior mean (no sampling)
    and the KL is analytic, always with weight 1.
    """
    out = np.asarray(outputs, dtype=np.float64)
    x = np.asarray(X, dtype=np.float64)
    logits = out[:, :n_features]
    mean, logvar = np.split(out[:, n_features:], 2, axis=1)
    if kind == "bce":
        loglik = -np.sum(np.logaddexp(0.0, logits) - x * logits, axis=1)
    else:
        x_hat = expit(logits) if output_activation == "sigmoid" else logits
        loglik = -0.5 * np.sum((x - x_hat) ** 2, axis=1) - HALF_LOG_2PI * n_features
    kl = 0.5 * np.sum(mean * mean + np.exp(logvar) - 1.0 - logvar, axis=1)
    return loglik - kl
