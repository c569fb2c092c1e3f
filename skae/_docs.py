"""Parameter documentation written once, shared by the estimators' docstrings.

A docstring names a shared entry as ``{{name}}`` on a line of its own, indented
as the ``Parameters`` section; :func:`fill_doc` puts the entry's text there.
"""

import re
import textwrap

DOCS = {
    "n_components": """
n_components : int, default=32
    Size of the latent code (as in PCA).""",
    "architecture": """
architecture : {"dense", "conv"}, default="dense"
    ``"dense"``: a multilayer perceptron and its mirror. ``"conv"``:
    stride-2 convolution blocks (any image size) and transposed
    convolutions back.""",
    "hidden_layer_sizes": """
hidden_layer_sizes : tuple of int, default=None
    Dense: widths of the encoder's hidden layers (the decoder mirrors
    them); default ``(512, 256)``. Conv: channels of each stride-2 block;
    default ``(32, 64)``.""",
    "activation": """
activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "sigmoid"}, \
default="relu"
    Hidden-layer activation.""",
    "dropout": """
dropout : float in [0, 1), default=0.0
    Dropout after each hidden activation.""",
    "output_activation": """
output_activation : {"auto", "sigmoid", "identity"}, default="auto"
    ``"auto"``: sigmoid when the training X lies in [0, 1], else identity.""",
    "loss": """
loss : {"auto", "mse", "bce"}, default="auto"
    ``"auto"``: binary cross-entropy when the training X lies in [0, 1]
    (it implies a sigmoid output), else mean squared error.""",
    "optimizer": """
optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
default="adam"
    The optimizer: a name, or a ``torch.optim.Optimizer`` subclass (built
    with ``lr`` and ``weight_decay``).""",
    "lr": """
lr : float, default=1e-3
    Learning rate.""",
    "weight_decay": """
weight_decay : float, default=0.0
    L2 penalty passed to the optimizer.""",
    "batch_size": """
batch_size : int, default=128
    Samples per training batch (the last batch of an epoch may be smaller).""",
    "max_epochs": """
max_epochs : int, default=30
    Maximum number of passes over the training data.""",
    "validation_fraction": """
validation_fraction : float in (0, 1), default=0.1
    Fraction of X held out for early stopping (rounded up; unused when
    ``early_stopping=False``).""",
    "patience": """
patience : int, default=5
    Epochs without progress on the validation set before training stops.""",
    "tol": """
tol : float, default=1e-4
    Relative improvement of the validation loss that counts as progress.""",
    "device": """
device : {"auto", "cpu", "cuda"}, default="auto"
    ``"auto"`` uses CUDA when available.""",
    "verbose": """
verbose : int, default=0
    ``1`` prints skorch's per-epoch table.""",
    "callbacks": """
callbacks : list of skorch callbacks or (name, callback) tuples, default=None
    Extra skorch callbacks (copied at fit, so the list is never modified).""",
    "checkpoint": """
checkpoint : str or path-like, default=None
    A file to which ``fit`` writes the whole training state (weights,
    optimizer, history, early-stopping state, random generators) after each
    epoch, atomically. A ``fit`` that finds this file left by an interrupted
    fit with the same parameters and data resumes from its last completed
    epoch (on CPU the result is bitwise that of an uninterrupted fit); the
    file is removed when the fit completes. A file from another fit is
    ignored with a warning.""",
}


def fill_doc(obj):
    """Replace the ``{{name}}`` lines of ``obj.__doc__`` by :data:`DOCS` entries."""
    def entry(match):
        indent, name = match.group(1), match.group(2)
        return textwrap.indent(DOCS[name].strip("\n"), indent)

    obj.__doc__ = re.sub(r"^([ \t]*)\{\{(\w+)\}\}$", entry, obj.__doc__, flags=re.M)
    return obj
