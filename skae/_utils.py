"""Small torch-free helpers shared by several modules: image shapes,
reconstructions and plain-text tables.

This module imports numpy only (no torch, no matplotlib), so that
:mod:`skae.plotting`, :mod:`skae.datasets` and the command line can use it
without importing the training stack.
"""

import math

import numpy as np


def check_image_shape(image_shape, n_features, architecture):
    """Return ``(C, H, W)`` for the data, or ``None`` for dense without shape."""
    if image_shape is None:
        if architecture == "dense":
            return None
        side = int(round(np.sqrt(n_features)))
        if side * side != n_features:
            raise ValueError(
                f"architecture='conv' needs image_shape when n_features={n_features} "
                f"is not a perfect square (a square single-channel image is assumed "
                f"only then). Pass image_shape=(C, H, W) or (H, W).")
        return (1, side, side)
    return as_chw(image_shape, n_features)


def as_chw(image_shape, n_features=None):
    """``(H, W)`` or ``(C, H, W)`` as ``(C, H, W)``, checked against n_features."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W) with positive sizes; "
                         f"got {image_shape!r}.")
    if n_features is not None and int(np.prod(shape)) != n_features:
        raise ValueError(f"image_shape={image_shape!r} holds {int(np.prod(shape))} values "
                         f"but X has {n_features} features.")
    return shape


def image_shape_of(n_features, image_shape=None):
    """The shape of one image of ``n_features`` values, as arrays show it.

    ``(H, W)`` for one channel, ``(C, H, W)`` for several. With
    ``image_shape=None`` a square single-channel image is assumed, and None
    is returned when ``n_features`` is not a perfect square. A given
    ``image_shape`` is checked by :func:`as_chw`.

    >>> image_shape_of(784), image_shape_of(10), image_shape_of(12, (3, 2, 2))
    ((28, 28), None, (3, 2, 2))
    """
    if image_shape is None:
        side = math.isqrt(n_features)
        return (side, side) if side * side == n_features else None
    channels, height, width = as_chw(image_shape, n_features)
    return (height, width) if channels == 1 else (channels, height, width)


def reconstruct(estimator, X):
    """The estimator's reconstruction (denoised version) of X.

    Uses ``denoise``, else ``reconstruct``, else
    ``inverse_transform(transform(X))``, so any sklearn transformer with an
    inverse (e.g. PCA) works too.
    """
    for name in ("denoise", "reconstruct"):
        method = getattr(estimator, name, None)
        if method is not None:
            return method(X)
    return estimator.inverse_transform(estimator.transform(X))


def format_table(columns, rows, n_left=1):
    """A plain-text table of string cells, two spaces between columns.

    The first ``n_left`` columns are left-aligned (labels), the others
    right-aligned (numbers); a rule of dashes separates the header.

    >>> print(format_table(["model", "MSE"], [["PCA", "0.0123"], ["AE", "0.01"]]))
    model     MSE
    -----  ------
    PCA    0.0123
    AE       0.01
    """
    rows = [list(r) for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]

    def line(values):
        return "  ".join(v.ljust(w) if i < n_left else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])]
                     + [line(r) for r in rows])
