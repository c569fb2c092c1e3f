"""Corruption of data: the one noise implementation, and :class:`NoiseInjector`.

:func:`corrupt` works on torch tensors and is used both by
:class:`NoiseInjector` (on numpy arrays, batch by batch) and by
:class:`~skae.DenoisingAE` (on every training batch).
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._docs import fill_doc
from ._utils import as_chw
from ._validation import validate_X

KINDS = ("gaussian", "uniform", "salt_and_pepper", "occlusion", "flip", "mask")
#: kinds whose ``level`` is a fraction (of the values; of the image area for occlusion)
FRACTION_KINDS = ("salt_and_pepper", "occlusion", "flip", "mask")

#: rows converted to a tensor at a time by :meth:`NoiseInjector.transform`
BATCH_SIZE = 4096


def check_levels(level, kind):
    """``level`` (a number or a sequence of numbers) as a tuple of floats."""
    levels = np.atleast_1d(np.asarray(level, dtype=object)).tolist()
    if np.ndim(level) > 1 or not levels or not all(
            isinstance(v, Real) and not isinstance(v, bool) for v in levels):
        raise ValueError(f"level must be a non-negative number or a non-empty list of "
                         f"them; got {level!r}.")
    levels = tuple(float(v) for v in levels)
    if any(not np.isfinite(v) or v < 0 for v in levels):
        raise ValueError(f"level must be >= 0 (and finite); got {level!r}.")
    if kind in FRACTION_KINDS and any(v > 1 for v in levels):
        what = "the image area" if kind == "occlusion" else "values"
        raise ValueError(f"level is the fraction of {what} corrupted by kind={kind!r}, "
                         f"so it must lie in [0, 1]; got {level!r}.")
    return levels


def check_clip(clip):
    """``None`` or a ``(low, high)`` pair of floats with low <= high."""
    if clip is None:
        return None
    try:
        low, high = (float(v) for v in clip)
    except (TypeError, ValueError):
        raise ValueError(f"clip must be None or a (low, high) pair; got {clip!r}.") from None
    if not low <= high:
        raise ValueError(f"clip must be (low, high) with low <= high; got {clip!r}.")
    return low, high


def check_occlusion_shape(image_shape, patch_size, n_features):
    """``(C, H, W)`` for occlusion, with clear errors (``patch_size`` must fit)."""
    if image_shape is None:
        raise ValueError("kind='occlusion' needs image_shape ((H, W) or (C, H, W)) to "
                         "place a square patch on the flattened images.")
    shape = as_chw(image_shape, n_features)
    height, width = shape[1:]
    if patch_size is not None and (patch_size > height or patch_size > width):
        raise ValueError(f"patch_size={patch_size} is larger than the {height}x{width} "
                         f"image.")
    return shape


def occlusion_side(level, height, width, patch_size=None):
    """Side of the square occlusion patch for ``level`` on ``height x width`` images.

    The one rule for occlusion, used by :func:`corrupt` and by the labels of
    :func:`skae.evaluation.robustness_report`: ``level`` is the fraction of
    the image area covered, so the side is ``sqrt(level * H * W)`` rounded to
    the nearest integer (halves up) and clipped to ``[1, min(H, W)]``. On a
    non-square image the patch stays square, so a level close to 1 covers
    less than that fraction (at most ``min(H, W)**2`` pixels). ``patch_size``,
    when given, is the side whatever the level. A level of 0 gives 0: no
    patch.

    Parameters
    ----------
    level : float or torch.Tensor
        Fraction of the image area, in [0, 1]: one value, or one per sample.
    height, width : int
        Image size in pixels.
    patch_size : int or None, default=None
        Side that overrides the one derived from ``level`` (for levels > 0).

    Returns
    -------
    side : int or torch.Tensor of int64
        An int for a number; for a tensor, a tensor of its shape and device.

    Examples
    --------
    >>> from skae._noise import occlusion_side
    >>> occlusion_side(0.25, 28, 28), occlusion_side(0.1, 8, 8), occlusion_side(0.0, 8, 8)
    (14, 3, 0)
    """
    lev = torch.as_tensor(level, dtype=torch.float64)
    if patch_size is None:
        side = torch.floor(torch.sqrt(lev * (height * width)) + 0.5)
        side = side.clamp(1, min(height, width))
    else:
        side = torch.full_like(lev, int(patch_size))
    side = torch.where(lev > 0, side, torch.zeros_like(side)).long()
    return side if torch.is_tensor(level) else int(side)


def _per_sample(level, n, like):
    """``level`` as a column of ``n`` values (broadcast against rows)."""
    if torch.is_tensor(level):
        return level.to(dtype=like.dtype, device=like.device).reshape(n, 1)
    return torch.full((n, 1), float(level), dtype=like.dtype, device=like.device)


def corrupt(x, kind, level, *, generator, clip=None, value_range=None,
            patch_size=None, image_shape=None):
    """Return a corrupted copy of the 2-D tensor ``x`` (never modified in place).

    Parameters
    ----------
    x : torch.Tensor of shape (n_samples, n_features)
        Floating point data, flattened images as rows.
    kind : str
        One of :data:`KINDS`: ``"gaussian"`` ``x + level * N(0, 1)``,
        ``"uniform"`` ``x + level * U[0, 1)``, ``"salt_and_pepper"`` a fraction
        ``level`` of values set to the low or high bound (with equal chance),
        ``"occlusion"`` one square patch per sample, at a random position, set
        to 0 (all channels) and covering the fraction ``level`` of the image
        area (side from :func:`occlusion_side`), ``"flip"`` a fraction
        ``level`` of values ``v -> 1 - v``, ``"mask"`` a fraction ``level`` set
        to 0.
    level : float or torch.Tensor of shape (n_samples,)
        Noise level, one for all samples or one per sample (0 leaves a sample
        clean).
    generator : torch.Generator
        Source of all randomness, on ``x``'s device.
    clip : (low, high) or None
        Clip the result to this range (``None``: no clipping).
    value_range : (low, high) or None
        Salt-and-pepper values when ``clip`` is None (the data's min and max);
        ``None`` then means ``x``'s own min and max.
    patch_size : int or None
        Side of the occlusion patch, overriding the side derived from
        ``level`` (samples at level 0 stay clean); ``None``: from ``level``.
    image_shape : tuple or None
        ``(H, W)`` or ``(C, H, W)`` of the rows, needed by occlusion.

    Returns
    -------
    torch.Tensor
        A new tensor of ``x``'s shape, dtype and device.
    """
    n, d = x.shape
    lev = _per_sample(level, n, x)
    opts = dict(device=x.device, dtype=x.dtype, generator=generator)
    if kind == "gaussian":
        out = x + lev * torch.randn(n, d, **opts)
    elif kind == "uniform":
        out = x + lev * torch.rand(n, d, **opts)
    elif kind == "flip":
        out = torch.where(torch.rand(n, d, **opts) < lev, 1 - x, x)
    elif kind == "mask":
        out = torch.where(torch.rand(n, d, **opts) < lev, torch.zeros_like(x), x)
    elif kind == "salt_and_pepper":
        bounds = clip if clip is not None else value_range
        if bounds is None:
            bounds = (float(x.min()), float(x.max())) if x.numel() else (0.0, 1.0)
        hit = torch.rand(n, d, **opts) < lev
        salt = torch.rand(n, d, **opts) < 0.5
        low, high = _representable(bounds, x.dtype)
        values = torch.where(salt, torch.full_like(x, high), torch.full_like(x, low))
        out = torch.where(hit, values, x)
    elif kind == "occlusion":
        c, h, w = check_occlusion_shape(image_shape, patch_size, d)
        # one side per sample (the levels may differ), 0 = no patch
        side = occlusion_side(level if torch.is_tensor(level) else float(level), h, w,
                              patch_size)
        side = torch.as_tensor(side, device=x.device).reshape(-1, 1).expand(n, 1)
        # top-left corner uniform over the positions where the patch fits
        u = torch.rand(n, 2, device=x.device, dtype=torch.float32, generator=generator)
        top = torch.minimum((u[:, :1] * (h - side + 1)).long(), h - side)
        left = torch.minimum((u[:, 1:] * (w - side + 1)).long(), w - side)
        rows = torch.arange(h, device=x.device)
        cols = torch.arange(w, device=x.device)
        in_rows = (rows >= top) & (rows < top + side)                # (n, H)
        in_cols = (cols >= left) & (cols < left + side)              # (n, W)
        patch = (in_rows[:, :, None] & in_cols[:, None, :])          # (n, H, W)
        patch = patch[:, None].expand(n, c, h, w).reshape(n, d)
        out = torch.where(patch, torch.zeros_like(x), x)
    else:
        raise ValueError(f"Unknown noise kind {kind!r}; expected one of {list(KINDS)}.")
    if clip is not None:
        out = out.clamp(*_representable(clip, out.dtype))
    return out


def _representable(bounds, dtype):
    """``(low, high)`` limited to what ``dtype`` can hold (e.g. 1e300 in float32)."""
    info = torch.finfo(dtype)
    return (min(max(float(bounds[0]), info.min), info.max),
            min(max(float(bounds[1]), info.min), info.max))


@fill_doc
class NoiseInjector(TransformerMixin, BaseEstimator):
    """Corrupt X with noise: data augmentation and robustness tests.

    A stateless transformer: ``fit`` only checks X, ``transform`` returns a
    corrupted copy (X itself is never modified), of X's float dtype. The same
    corruption code trains :class:`~skae.DenoisingAE`.

    Parameters
    ----------
    kind : {"gaussian", "uniform", "salt_and_pepper", "occlusion", "flip", \
"mask"}, default="gaussian"
        ``"gaussian"``: ``x + level * N(0, 1)``. ``"uniform"``:
        ``x + level * U[0, 1)``. ``"salt_and_pepper"``: a fraction ``level`` of
        the values set to the low or the high bound (equally likely): the
        ``clip`` bounds when given, else X's min and max. ``"occlusion"``: one
        square patch on every image, at a random position, set to 0 (all
        channels) and covering the fraction ``level`` of the image area (or of
        side ``patch_size``; level 0: no patch); needs ``image_shape``.
        ``"flip"``: a fraction ``level`` of the values ``v -> 1 - v`` (for
        data in [0, 1]). ``"mask"``: a fraction ``level`` of the values set
        to 0.
    level : float or list of float, default=0.1
        Noise strength (standard deviation, range or fraction, see ``kind``;
        fractions must lie in [0, 1]). For occlusion, the fraction of the
        image area covered: the patch side is ``sqrt(level * H * W)`` rounded
        to the nearest integer and clipped to ``[1, min(H, W)]`` (0.25 gives a
        14x14 patch on 28x28 images; on a non-square image the patch stays
        square, at most ``min(H, W)`` wide), and 0 means no patch. A list
        gives each sample one of its levels drawn at random, 0 leaving the
        sample clean: e.g. ``[0.0, 0.1, 0.3]`` mixes clean and two noise
        levels.
    clip : (low, high) or None, default=None
        Clip the corrupted values to this range; None for no clipping.
    patch_size : int, default=None
        Side of the occlusion patch in pixels, overriding the side derived
        from ``level`` (a sample at level 0 still gets no patch); None derives
        it from ``level``. A patch larger than the image is an error.
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)`` of the flattened images (occlusion only).
    random_state : int, RandomState instance or None, default=None
        With an int, every ``transform`` of the same X returns the same noise
        (so ``fit_transform`` equals ``fit().transform``); None or a
        RandomState give new noise at each call.

    Attributes
    ----------
    {{n_features_in_}}
    {{feature_names_in_}}

    See Also
    --------
    DenoisingAE : An autoencoder trained to undo this corruption.
    skae.evaluation.robustness_report : Errors and accuracies under noise.

    Notes
    -----
    The estimator is stateless (``requires_fit=False``): ``transform`` works
    without ``fit``. It is tagged deterministic because an int
    ``random_state`` makes its output a fixed function of X. The noise a row
    receives still depends on the other rows of the call (all draws come from
    one stream), so transforming a subset or a permutation of X gives other
    noise: sklearn's subset- and order-invariance checks do not apply.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import NoiseInjector
    >>> X = np.full((2, 4), 0.5, dtype=np.float32)
    >>> NoiseInjector("mask", level=1.0).fit_transform(X)
    array([[0., 0., 0., 0.],
           [0., 0., 0., 0.]], dtype=float32)
    >>> noisy = NoiseInjector("gaussian", 0.1, clip=(0, 1), random_state=0).transform(X)
    >>> noisy.dtype, bool(np.all((noisy >= 0) & (noisy <= 1)))
    (dtype('float32'), True)
    >>> X.max()  # the input is left alone
    np.float32(0.5)
    """

    _parameter_constraints = {
        "kind": [StrOptions(set(KINDS))],
        "level": [Interval(Real, 0, None, closed="left"), "array-like"],
        "clip": [tuple, list, None],
        "patch_size": [Interval(Integral, 1, None, closed="left"), None],
        "image_shape": [tuple, list, None],
        "random_state": ["random_state"],
    }

    def __init__(self, kind="gaussian", level=0.1, *, clip=None, patch_size=None,
                 image_shape=None, random_state=None):
        self.kind = kind
        self.level = level
        self.clip = clip
        self.patch_size = patch_size
        self.image_shape = image_shape
        self.random_state = random_state

    def _check_settings(self, n_features=None):
        """Validate the parameters (for ``n_features``-wide data)."""
        self._validate_params()
        levels = check_levels(self.level, self.kind)
        clip = check_clip(self.clip)
        if self.kind == "occlusion":
            check_occlusion_shape(self.image_shape, self.patch_size, n_features)
        return levels, clip

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check X and the parameters; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data the injector will be used on.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The injector.
        """
        X = validate_X(self, X, reset=True)
        self._check_settings(X.shape[1])
        return self

    def corrupt_tensor(self, x, generator, value_range=None, image_shape=None):
        """Corrupt a 2-D tensor with these settings (used on training batches).

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            The batch to corrupt; not modified.
        generator : torch.Generator
            Draws the noise (on ``x``'s device).
        value_range : (low, high) or None, default=None
            The salt-and-pepper values when ``clip`` is None; None takes the
            batch's own min and max.
        image_shape : tuple or None, default=None
            The image shape for occlusion when the injector has none.

        Returns
        -------
        x_noisy : torch.Tensor of shape (n_samples, n_features)
            A corrupted copy of ``x``, of its dtype and device.
        """
        levels, clip = check_levels(self.level, self.kind), check_clip(self.clip)
        if len(levels) == 1:
            level = levels[0]
        else:
            choice = torch.randint(0, len(levels), (x.shape[0],), device=x.device,
                                   generator=generator)
            level = torch.tensor(levels, dtype=x.dtype, device=x.device)[choice]
        shape = self.image_shape if self.image_shape is not None else image_shape
        return corrupt(x, self.kind, level, generator=generator, clip=clip,
                       value_range=value_range, patch_size=self.patch_size,
                       image_shape=shape)

    def transform(self, X):
        """Return a corrupted copy of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to corrupt; never modified.

        Returns
        -------
        X_noisy : ndarray of shape (n_samples, n_features)
            Corrupted data, of X's float dtype.
        """
        X = validate_X(self, X, reset=False)
        self._check_settings(X.shape[1])
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        generator = torch.Generator().manual_seed(int(seed))
        value_range = None
        if self.kind == "salt_and_pepper" and self.clip is None and X.size:
            value_range = (float(X.min()), float(X.max()))
        out = np.empty_like(X)
        for start in range(0, X.shape[0], BATCH_SIZE):
            xb = torch.tensor(X[start:start + BATCH_SIZE])
            out[start:start + BATCH_SIZE] = self.corrupt_tensor(
                xb, generator, value_range=value_range).numpy()
        return out

    def get_feature_names_out(self, input_features=None):
        """The input feature names (corruption keeps the columns).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; default ``feature_names_in_`` or ``x0, x1...``.

        Returns
        -------
        feature_names_out : ndarray of str
            The input feature names, unchanged.
        """
        from sklearn.utils.validation import _check_feature_names_in

        return _check_feature_names_in(self, input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.non_deterministic = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
