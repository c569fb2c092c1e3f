"""Input checks shared by every estimator's entry points.

:func:`validate_X` / :func:`validate_X_y` wrap sklearn's ``validate_data``
and close two gaps that the fuzz tests (tests/test_fuzz.py) found in it:

* a pandas (or other) frame with no columns gets sklearn's own "0 feature(s)"
  message instead of numpy's ``"at least one array or dtype is required"``;
* the array handed on never has negative strides (``X[::-1]``, ``np.flip``):
  torch refuses such arrays (``torch.tensor`` / ``torch.from_numpy`` raise
  "At least one stride in the given numpy array is negative"), and
  ``validate_data`` returns them as they are when their dtype already fits.

:func:`check_callbacks` checks the ``callbacks`` parameter's items, which
skorch would otherwise reject deep in ``initialize`` with an
``AttributeError``. :func:`is_fitted` asks sklearn's ``check_is_fitted``
without raising.
"""

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

#: the float dtypes skae computes in: float64 and float32 are kept, others
#: (ints, bools, float16, object numbers) become float64
FLOAT_DTYPES = (np.float64, np.float32)


def _name(estimator):
    return type(estimator).__name__


def check_has_columns(estimator, X):
    """A clear error for a 2-D non-array container (e.g. a DataFrame) without
    columns, before sklearn converts it (which fails with a numpy message)."""
    if isinstance(X, np.ndarray):
        return  # sklearn's own check says "0 feature(s)"
    shape = getattr(X, "shape", None)
    try:
        shape = tuple(int(s) for s in shape) if shape is not None else None
    except (TypeError, ValueError):
        return
    if shape is not None and len(shape) == 2 and shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a "
                         f"minimum of 1 is required by {_name(estimator)}.")


def positive_strides(X):
    """``X``, or a C-contiguous copy when a stride is negative (for torch)."""
    if isinstance(X, np.ndarray) and any(s < 0 for s in X.strides):
        return np.ascontiguousarray(X)
    return X


def validate_X(estimator, X, *, reset, dtype=FLOAT_DTYPES, **check_params):
    """``validate_data(estimator, X, reset=reset, dtype=...)`` for torch.

    Parameters
    ----------
    estimator : estimator
        Gets ``n_features_in_`` / ``feature_names_in_`` when ``reset``.
    X : array-like of shape (n_samples, n_features)
    reset : bool
        True in ``fit`` (record the input's width and names), False after.
    dtype : sequence of numpy dtypes, default=(float64, float32)
        Dtypes kept as they are; anything else is converted to the first.
    **check_params
        Passed to ``validate_data`` (e.g. ``ensure_min_samples``).

    Returns
    -------
    X : ndarray
        Validated, finite, of one of ``dtype``, without negative strides.
    """
    check_has_columns(estimator, X)
    X = validate_data(estimator, X, reset=reset, dtype=list(dtype), **check_params)
    return positive_strides(X)


def validate_X_y(estimator, X, y, *, dtype=FLOAT_DTYPES, **check_params):
    """:func:`validate_X` for ``fit(X, y)`` (``reset=True``); returns ``(X, y)``."""
    check_has_columns(estimator, X)
    X, y = validate_data(estimator, X, y, dtype=list(dtype), **check_params)
    return positive_strides(X), y


def check_callbacks(callbacks, estimator=None):
    """Raise a ``TypeError`` unless each item is a skorch callback.

    An item is a :class:`skorch.callbacks.Callback` instance or subclass, or a
    ``(name, callback)`` tuple with a string name, as skorch accepts them.
    """
    from skorch.callbacks import Callback

    owner = f" of {_name(estimator)}" if estimator is not None else ""
    for i, item in enumerate(callbacks or ()):
        callback = item
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str):
                raise TypeError(f"callbacks{owner}: item {i} is a tuple but not a "
                                f"(name, callback) pair with a string name; got "
                                f"{item!r}.")
            callback = item[1]
        if not (isinstance(callback, Callback)
                or isinstance(callback, type) and issubclass(callback, Callback)):
            raise TypeError(f"callbacks{owner}: item {i} must be a skorch Callback "
                            f"(or a (name, Callback) tuple); got {callback!r} of type "
                            f"{type(callback).__name__}.")


def is_fitted(estimator):
    """Whether ``check_is_fitted(estimator)`` passes.

    Only its ``NotFittedError`` means no; any other error (e.g. for an object
    that is not an estimator) is raised.
    """
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True
