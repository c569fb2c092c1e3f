"""Torch modules built from estimator parameters.

Everything here is a plain ``torch.nn.Module`` defined at module top level so
that fitted estimators pickle. The estimators never build layers themselves:
they call :func:`build_encoder_decoder` with their parameters.
"""

import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class Dropout(nn.Dropout):
    """``nn.Dropout`` that draws its mask from ``generator`` when one is set.

    The training core sets ``generator`` (a fit's own RNG) for the duration of
    training, so concurrent fits never share torch's global RNG; without one
    it behaves exactly as ``nn.Dropout``.
    """

    uses_generator = True
    generator = None

    def forward(self, x):
        if not self.training or self.p == 0 or self.generator is None:
            return super().forward(x)
        keep = torch.rand(x.shape, generator=self.generator, device=x.device,
                          dtype=x.dtype) >= self.p
        return x * keep / (1.0 - self.p)


def _dense_stack(sizes, activation, dropout, last_activation):
    """Linear layers ``sizes[0] -> ... -> sizes[-1]`` with activations."""
    layers = []
    n_layers = len(sizes) - 1
    for i in range(n_layers):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < n_layers - 1 or last_activation:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(Dropout(dropout))
    return nn.Sequential(*layers)


class DenseEncoder(nn.Module):
    """``n_features -> hidden... -> n_out`` multilayer perceptron."""

    def __init__(self, n_features, hidden, n_out, activation="relu", dropout=0.0):
        super().__init__()
        self.net = _dense_stack([n_features, *hidden, n_out], activation, dropout, False)

    def forward(self, x):
        return self.net(x)


class DenseDecoder(nn.Module):
    """Mirror of :class:`DenseEncoder`: ``n_components -> ...hidden -> n_features``.

    Returns pre-activation values (logits when the output is a sigmoid).
    """

    def __init__(self, n_components, hidden, n_features, activation="relu", dropout=0.0):
        super().__init__()
        sizes = [n_components, *reversed(hidden), n_features]
        self.net = _dense_stack(sizes, activation, dropout, False)

    def forward(self, z):
        return self.net(z)


def conv_sizes(height, width, n_blocks):
    """Spatial sizes after each stride-2 block (kernel 3, padding 1)."""
    sizes = [(height, width)]
    for _ in range(n_blocks):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    return sizes


class ConvEncoder(nn.Module):
    """Stride-2 convolution blocks, then a linear layer to ``n_out``.

    Works for any image size: each block maps ``s`` to ``ceil(s / 2)``.
    """

    def __init__(self, image_shape, channels, n_out, activation="relu", dropout=0.0):
        super().__init__()
        c, h, w = image_shape
        self.image_shape = tuple(image_shape)
        layers = []
        in_ch = c
        for out_ch in channels:
            layers += [nn.Conv2d(in_ch, out_ch, 3, stride=2, padding=1),
                       ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(Dropout(dropout))
            in_ch = out_ch
        self.conv = nn.Sequential(*layers)
        fh, fw = conv_sizes(h, w, len(channels))[-1]
        self.fc = nn.Linear(in_ch * fh * fw, n_out)

    def forward(self, x):
        x = x.reshape(x.shape[0], *self.image_shape)
        return self.fc(self.conv(x).flatten(1))


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder` with transposed convolutions.

    The output padding of each block is chosen so that the exact input size is
    recovered (odd sizes included); the last block outputs the image channels
    directly. Returns flattened pre-activation values.
    """

    def __init__(self, n_components, channels, image_shape, activation="relu", dropout=0.0):
        super().__init__()
        c, h, w = image_shape
        sizes = conv_sizes(h, w, len(channels))
        self.start_shape = (channels[-1], *sizes[-1])
        self.fc = nn.Linear(n_components, channels[-1] * sizes[-1][0] * sizes[-1][1])
        self.act = ACTIVATIONS[activation]()
        layers = []
        outs = [c, *channels[:-1]]  # block i maps channels[i] -> outs[i]
        for i in reversed(range(len(channels))):
            (th, tw), (sh, sw) = sizes[i], sizes[i + 1]
            layers.append(nn.ConvTranspose2d(channels[i], outs[i], 3, stride=2, padding=1,
                                             output_padding=(th - 2 * sh + 1, tw - 2 * sw + 1)))
            if i > 0:
                layers.append(ACTIVATIONS[activation]())
                if dropout > 0:
                    layers.append(Dropout(dropout))
        self.deconv = nn.Sequential(*layers)

    def forward(self, z):
        x = self.act(self.fc(z)).reshape(z.shape[0], *self.start_shape)
        return self.deconv(x).flatten(1)


def build_encoder_decoder(architecture, n_features, n_components, hidden, image_shape,
                          activation, dropout, encoder_out=None):
    """Return ``(encoder, decoder)`` for the given architecture.

    ``encoder_out`` defaults to ``n_components``; a VAE asks for twice as many
    outputs (mean and log-variance).
    """
    encoder_out = n_components if encoder_out is None else encoder_out
    if architecture == "dense":
        return (DenseEncoder(n_features, hidden, encoder_out, activation, dropout),
                DenseDecoder(n_components, hidden, n_features, activation, dropout))
    return (ConvEncoder(image_shape, hidden, encoder_out, activation, dropout),
            ConvDecoder(n_components, hidden, image_shape, activation, dropout))


def apply_output_activation(logits, output_activation):
    """Map decoder outputs to data space."""
    return torch.sigmoid(logits) if output_activation == "sigmoid" else logits


class AutoencoderModule(nn.Module):
    """Encoder + decoder; ``forward`` returns decoder pre-activations."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


class ReconstructionLoss(nn.Module):
    """Mean reconstruction loss over all elements of the batch.

    ``kind="bce"`` uses binary cross-entropy on logits (numerically stable,
    implies a sigmoid output); ``kind="mse"`` applies the output activation and
    takes the mean squared error.
    """

    #: no per-batch terms to report beside the loss
    term_names = ()

    def __init__(self, kind="mse", output_activation="identity"):
        super().__init__()
        self.kind = kind
        self.output_activation = output_activation

    def forward(self, logits, target):
        if self.kind == "bce":
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(apply_output_activation(logits, self.output_activation), target)
