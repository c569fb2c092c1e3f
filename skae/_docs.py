"""Parameter and attribute documentation written once, shared by docstrings.

A docstring names a shared entry as ``{{name}}`` on a line of its own, indented
as the section it belongs to; :func:`fill_doc` (on a class: on its docstring
and those of the methods it defines) puts the entry's text there. A
:data:`GROUPS` name stands for several entries in a row:
``{{autoencoder_parameters}}`` and ``{{autoencoder_attributes}}`` list what
the three autoencoders share (in their signature order), and
``{{parameters_X}}`` / ``{{parameters_X_y}}`` are the whole ``Parameters``
section of a method that takes X (and ignores y). Entries that differ
between estimators (the classifier's ``patience``, say) stay in the
estimator's own docstring.
"""

import inspect
import re
import textwrap

DOCS = {
    # ---------------------------------------------------------------- parameters
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
    "image_shape": """
image_shape : tuple, default=None
    ``(C, H, W)`` or ``(H, W)`` of the flattened images in X. Conv infers a
    square single-channel image when None; the dense network does not use
    it.""",
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
    "lr_schedule": """
lr_schedule : {"constant", "cosine"}, default="constant"
    How the learning rate moves over the ``max_epochs`` of ``fit``:
    ``"constant"`` keeps ``lr``; ``"cosine"`` decays it from ``lr`` to 0
    along a half cosine (one step per epoch). ``partial_fit`` always trains at
    the constant ``lr``.""",
    "weight_decay": """
weight_decay : float, default=0.0
    L2 penalty passed to the optimizer.""",
    "batch_size": """
batch_size : int, default=128
    Samples per training batch (the last batch of an epoch may be smaller).""",
    "max_epochs": """
max_epochs : int, default=30
    Maximum number of passes over the training data.""",
    "early_stopping": """
early_stopping : bool, default=True
    Hold out ``validation_fraction`` of X, stop when the validation loss has
    not improved by a relative ``tol`` for ``patience`` epochs, and restore
    the best weights.""",
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
    "precision": """
precision : {"float32", "bfloat16", "float16"}, default="float32"
    The arithmetic of training. ``"bfloat16"`` and ``"float16"`` run the
    network's forward and backward passes in mixed precision
    (``torch.autocast``; the weights, the optimizer and the loss stay
    float32), ``"float16"`` with loss scaling. bfloat16 pays off on GPUs and
    on CPUs with native bfloat16 units (Intel AMX / AVX-512 BF16);
    elsewhere it is emulated and slower. Inference (``transform`` and the
    rest) and saved models always compute in float32.""",
    "distributed": """
distributed : bool, default=False
    Train data-parallel over the processes of a ``torch.distributed`` group
    (PyTorch's DistributedDataParallel): launch the same script on each
    device or node with ``torchrun --nproc-per-node N script.py``, each
    process calling ``fit`` on the same X.
    Each process trains on its share of every batch (``batch_size`` is the
    global batch) and the gradients are averaged, so the fit follows a
    single process's; every process ends with the same fitted estimator.
    CUDA processes use ``cuda:LOCAL_RANK`` and NCCL, CPU processes gloo.
    Without a launcher (no ``WORLD_SIZE`` in the environment) training runs
    in this process alone, so a saved or unpickled model keeps working on
    one CPU.""",
    "random_state": """
random_state : int, RandomState instance or None, default=None
    Drives all randomness: weights, shuffling, the validation split, dropout
    and the training noise (a denoiser's corruption, a VAE's
    reparameterization). The same int gives the same model on CPU.""",
    "verbose": """
verbose : int, default=0
    ``1`` prints skorch's per-epoch table; ``2`` also shows a progress bar
    within each epoch (rows done, rows per second, time left) on stderr,
    for epochs that take minutes (large or out-of-core data).""",
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
    # ---------------------------------------------------------------- methods
    "parameters": """
Parameters
----------""",
    "X": """
X : array-like of shape (n_samples, n_features)
    The samples, one per row (images flattened).""",
    "y_ignored": """
y : Ignored
    Not used, present for API consistency.""",
    # ---------------------------------------------------------------- attributes
    "net_": """
net_ : skorch.NeuralNet
    The trained skorch net.""",
    "encoder_": """
encoder_, decoder_ : torch.nn.Module
    The trained halves of the network.""",
    "history_": """
history_ : list of dict
    One dict per epoch with ``epoch``, ``train_loss``, ``valid_loss`` (with
    early stopping) and ``dur`` (seconds).""",
    "n_iter_": """
n_iter_ : int
    Number of epochs trained.""",
    "n_features_in_": """
n_features_in_ : int
    Number of features seen during fit.""",
    "feature_names_in_": """
feature_names_in_ : ndarray of str
    Feature names, when X was a DataFrame with string column names.""",
    "loss_": """
loss_, output_activation_ : str
    The resolved loss and output activation.""",
    "image_shape_": """
image_shape_ : tuple or None
    ``(C, H, W)`` of the images: from ``image_shape``, or inferred for conv;
    None for dense without ``image_shape``.""",
}

#: entries that stand together, under one name
GROUPS = {
    "autoencoder_parameters": (
        "n_components", "architecture", "hidden_layer_sizes", "image_shape", "activation",
        "dropout", "output_activation", "loss", "optimizer", "lr", "lr_schedule", "weight_decay",
        "batch_size", "max_epochs", "early_stopping", "validation_fraction", "patience",
        "tol", "device", "precision", "distributed", "random_state", "verbose", "callbacks",
        "checkpoint"),
    "autoencoder_attributes": (
        "net_", "encoder_", "history_", "n_iter_", "n_features_in_", "feature_names_in_",
        "loss_", "image_shape_"),
    # the whole Parameters section of a method that takes X (and ignores y)
    "parameters_X": ("parameters", "X"),
    "parameters_X_y": ("parameters", "X", "y_ignored"),
}


def fill_doc(obj):
    """Replace the ``{{name}}`` lines of ``obj.__doc__`` by :data:`DOCS` entries.

    A :data:`GROUPS` name is replaced by each of its entries, in order. On a
    class, the docstrings of the methods it defines are filled too.
    """
    obj.__doc__ = _fill(obj.__doc__)
    for member in vars(obj).values() if isinstance(obj, type) else ():
        if inspect.isfunction(member) and member.__doc__:
            member.__doc__ = _fill(member.__doc__)
    return obj


def _fill(doc):
    def entry(match):
        indent, name = match.group(1), match.group(2)
        text = "\n".join(DOCS[n].strip("\n") for n in GROUPS.get(name, (name,)))
        return textwrap.indent(text, indent)

    return re.sub(r"^([ \t]*)\{\{(\w+)\}\}$", entry, doc, flags=re.M)
