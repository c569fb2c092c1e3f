"""Datasets as float arrays in [0, 1], flattened, ready for skae estimators."""

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_digits"]


def load_digits(*, return_X_y=False):
    """sklearn's bundled 8x8 digits scaled to [0, 1] (no download).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : Bunch or tuple
        ``data`` (1797, 64) float32 in [0, 1], ``target`` int labels 0-9,
        ``images`` (1797, 8, 8), ``image_shape`` ``(8, 8)``.

    Examples
    --------
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> X.shape, X.dtype.name, float(X.max())
    ((1797, 64), 'float32', 1.0)
    """
    from sklearn.datasets import load_digits as _load

    raw = _load()
    X = (raw.data / 16.0).astype(np.float32)
    y = raw.target.astype(np.int64)
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, images=X.reshape(-1, 8, 8), image_shape=(8, 8),
                 target_names=raw.target_names, DESCR=raw.DESCR)
