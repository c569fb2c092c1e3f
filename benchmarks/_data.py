"""Data shared by the benchmark scripts (run them as ``python benchmarks/X.py``)."""

import numpy as np

from skae.datasets import load_digits, load_fashion_mnist


def load_data(quick, seed=0):
    """Fashion-MNIST as ``(X_train, y_train, X_test, y_test, name)``.

    With ``quick``, a random 3000/1000 subset (or digits when Fashion-MNIST is
    not installed) for a smoke run.
    """
    try:
        X_train, y_train = load_fashion_mnist("train", return_X_y=True)
        X_test, y_test = load_fashion_mnist("test", return_X_y=True)
        name = "Fashion-MNIST"
    except FileNotFoundError:
        if not quick:
            raise
        X, y = load_digits(return_X_y=True)
        perm = np.random.RandomState(seed).permutation(len(X))
        X, y = X[perm], y[perm]
        return X[:1400], y[:1400], X[1400:], y[1400:], "digits (Fashion-MNIST not found)"
    if quick:
        rng = np.random.RandomState(seed)
        tr = rng.choice(len(X_train), 3000, replace=False)
        te = rng.choice(len(X_test), 1000, replace=False)
        X_train, y_train, X_test, y_test = X_train[tr], y_train[tr], X_test[te], y_test[te]
        name += " (quick subset)"
    return X_train, y_train, X_test, y_test, name
