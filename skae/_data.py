"""Where the rows of X come from when they are not one array in memory.

An ordinary X (ndarray, DataFrame, list) is validated by scikit-learn and held
whole. Two other kinds of input are read a block of rows at a time, so that
memory is bounded by the blocks and not by X:

* **out-of-core arrays**: ``np.memmap``, HDF5 datasets (h5py), zarr arrays and
  dask arrays, wrapped as :class:`OutOfCore`. Training reads blocks of
  consecutive rows (about :data:`BLOCK_BYTES` each) in a random order and
  shuffles the rows within each block (random access to single rows is what
  makes data on disk slow); the validation split holds out whole chunks of
  rows; inference reads the blocks in order.
* **sparse matrices** (scipy), wrapped as :class:`SparseRows`: each batch is
  gathered from the CSR matrix and densified on its own, in the order the
  dense array's batches would have, so that a fit on the sparse matrix equals
  the fit on its dense copy.

Both have one small interface, a *source*: ``shape``, ``dtype`` (the float
dtype of the outputs), ``read(start, stop)`` (a dense float ndarray of those
rows), ``value_range()`` and ``out_of_core``; a sparse source also has
``take(rows)``. :func:`check_source` is
the ``validate_data`` of sources: it checks shape, dtype and the number of
features without loading X, and finiteness block by block as the rows are
read.

This module imports numpy and scipy only.
"""

import math

import numpy as np

#: bytes of float32 rows per block read from an out-of-core array: big enough
#: that each read is one long sequential read, small enough to be a constant
BLOCK_BYTES = 64 * 2**20

#: an out-of-core X is cut into at most this many chunks for the validation
#: split (so that a validation pass is at most this many sequential reads)
MAX_CHUNKS = 1000


def is_dask(X):
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


def is_sparse(X):
    import scipy.sparse

    return scipy.sparse.issparse(X)


def is_out_of_core(X):
    """Whether ``X`` is read block by block (memmap, h5py, zarr or dask array).

    Not when all of it fits in one block (:data:`BLOCK_BYTES`): then it is
    read whole and trained on as an in-memory array, so a small file gives
    the model its array would give. Nor for the read-only memmaps through
    which joblib hands large arrays to its worker processes (``n_jobs`` in a
    search): the caller holds those in memory, and a parallel search must fit
    the models a serial one fits.
    """
    if isinstance(X, np.memmap):
        if "joblib_memmapping_folder" in str(getattr(X, "filename", "")):
            return False
    elif not (type(X).__module__.split(".")[0] in ("h5py", "zarr", "dask")
              and hasattr(X, "shape") and hasattr(X, "dtype")):
        return False
    shape = tuple(X.shape)
    size = math.prod(int(d) for d in shape) * np.dtype(X.dtype).itemsize
    return len(shape) != 2 or size > BLOCK_BYTES


def is_streamed(X):
    """Whether ``X`` becomes a source (read in pieces) rather than an array."""
    return is_out_of_core(X) or is_sparse(X)


def output_dtype(dtype):
    """float32 and float64 are kept; anything else computes as float64."""
    dtype = np.dtype(dtype)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def check_finite(block, name="X"):
    """sklearn's messages for NaN or infinity in a block that was just read."""
    if not np.isfinite(block).all():
        raise_not_finite(np.isnan(block).any(), name)


def raise_not_finite(has_nan, name="X"):
    what = "NaN" if has_nan else "infinity or a value too large"
    raise ValueError(f"Input {name} contains {what}.")


class OutOfCore:
    """A 2-D array that lives elsewhere (on disk, in a cluster), read in row blocks."""

    out_of_core = True

    def __init__(self, array):
        self.array = array
        self.shape = tuple(int(s) for s in array.shape)
        self.dtype = output_dtype(array.dtype)
        self._range = None

    def __len__(self):
        return self.shape[0]

    def read(self, start, stop):
        """Rows ``start:stop`` as a new dense ndarray of :attr:`dtype`."""
        block = self.array[start:stop]
        if is_dask(block):
            block = block.compute()
        block = np.array(block, dtype=self.dtype)  # a copy: never a view of the file
        check_finite(block)
        return block

    def value_range(self):
        """``(min, max)`` of X, read once block by block (and checked finite)."""
        if self._range is None:
            if is_dask(self.array):
                import dask

                arr = self.array
                lo, hi, finite, has_nan = dask.compute(
                    arr.min(), arr.max(), np.isfinite(arr).all(), np.isnan(arr).any())
                if not finite:
                    raise_not_finite(has_nan)
                self._range = (float(lo), float(hi))
            else:
                lo, hi = np.inf, -np.inf
                for start, stop in block_ranges(self.shape[0], self.shape[1], 1):
                    block = self.read(start, stop)
                    lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
                self._range = (lo, hi)
        return self._range


class SparseRows:
    """A scipy sparse matrix (held as CSR) whose rows are densified on demand."""

    out_of_core = False

    def __init__(self, matrix):
        self.matrix = matrix.tocsr()
        self.shape = tuple(int(s) for s in matrix.shape)
        self.dtype = output_dtype(matrix.dtype)

    def __len__(self):
        return self.shape[0]

    def read(self, start, stop):
        return self.matrix[start:stop].toarray().astype(self.dtype, copy=False)

    def take(self, rows):
        return self.matrix[np.asarray(rows)].toarray().astype(self.dtype, copy=False)

    def value_range(self):
        m = self.matrix
        if m.nnz == 0:
            return (0.0, 0.0)
        lo, hi = float(m.data.min()), float(m.data.max())
        if m.nnz < m.shape[0] * m.shape[1]:  # implicit zeros
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        return (lo, hi)


def block_rows(n_features, batch_size):
    """Rows per block read from an out-of-core X (by training, and by
    inference with its own batch size): whole batches, about
    :data:`BLOCK_BYTES` of float32."""
    return batch_size * max(1, BLOCK_BYTES // (batch_size * max(n_features, 1) * 4))


def block_ranges(n_samples, n_features, batch_size):
    """``[(start, stop), ...]`` covering ``range(n_samples)`` in training blocks."""
    rows = block_rows(n_features, batch_size)
    return [(start, min(start + rows, n_samples)) for start in range(0, n_samples, rows)]


def validation_ranges(n_samples, batch_size, fraction, seed):
    """Row ranges held out for validation from an out-of-core X, drawn from ``seed``.

    X is cut into at most :data:`MAX_CHUNKS` chunks of consecutive rows (at
    least a batch each); ``ceil(fraction * n_chunks)`` of them are drawn, so
    that each validation read is sequential however large X is. Adjacent
    chunks are merged. Raises ``ValueError`` when no training chunk would
    be left.
    """
    chunk = max(batch_size, math.ceil(n_samples / MAX_CHUNKS))
    if n_samples < 2 * chunk:
        chunk = max(1, n_samples // 10)
    starts = list(range(0, n_samples, chunk))
    n_valid = math.ceil(fraction * len(starts))
    if n_samples < 2 or len(starts) - n_valid < 1:
        raise ValueError(
            f"early_stopping=True needs at least 2 samples to split off a validation "
            f"set; got {n_samples} sample(s). Use early_stopping=False for tiny data.")
    picked = np.sort(np.random.RandomState(seed).permutation(len(starts))[:n_valid])
    ranges = []
    for i in picked.tolist():
        start, stop = starts[i], min(starts[i] + chunk, n_samples)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], stop)
        else:
            ranges.append((start, stop))
    return ranges


def read_blocks(X, block):
    """Yield ``(start, dense block)`` over the rows of ``X`` (an array or a source).

    An in-memory array is sliced (views, no copy); a source is read block by
    block, the next block in a background thread while the caller works on
    the current one, so at most two blocks of it are dense at a time.
    """
    n = X.shape[0]
    starts = range(0, n, block)
    if not hasattr(X, "read"):
        for start in starts:
            yield start, X[start:start + block]
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as reader:
        pending = reader.submit(X.read, 0, min(block, n)) if n else None
        for start in starts:
            current = pending.result()
            nxt = start + block
            pending = reader.submit(X.read, nxt, min(nxt + block, n)) if nxt < n else None
            yield start, current


def value_range(X):
    """``(min, max)`` of an array or a source."""
    if hasattr(X, "value_range"):
        return X.value_range()
    if X.size == 0:
        return (np.nan, np.nan)
    return float(np.min(X)), float(np.max(X))


def check_source(estimator, X, *, reset, sparse=True):
    """The :func:`~sklearn.utils.validation.validate_data` of a streamed X.

    Checks what can be checked without loading X: two dimensions, at least
    one sample and one feature, a numeric dtype and, unless ``reset``, the
    number of features seen in ``fit`` (``reset`` records it). Sparse
    matrices go through sklearn's own validation (their values are in
    memory) and are refused unless ``sparse``. Finiteness is checked block
    by block as the rows are read.
    """
    name = type(estimator).__name__
    if is_sparse(X):
        if not sparse:
            raise TypeError(f"{name} with architecture='conv' needs dense image data; "
                            f"sparse input is accepted by architecture='dense' only. "
                            f"Convert X with X.toarray() if it fits in memory.")
        from sklearn.utils.validation import validate_data

        X = validate_data(estimator, X, reset=reset, accept_sparse="csr",
                          dtype=[np.float64, np.float32])
        return SparseRows(X)
    shape = tuple(X.shape)
    if len(shape) != 2:
        raise ValueError(f"Expected a 2D array, got a {len(shape)}D "
                         f"{type(X).__name__} of shape {shape} instead.")
    if shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={shape}) while a minimum "
                         f"of 1 is required by {name}.")
    if shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a minimum "
                         f"of 1 is required by {name}.")
    if np.dtype(X.dtype).kind not in "biuf":
        raise ValueError(f"{name} needs numeric data; got a {type(X).__name__} of dtype "
                         f"{X.dtype}.")
    if reset:
        estimator.n_features_in_ = shape[1]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {shape[1]} features, but {name} is expecting "
                         f"{estimator.n_features_in_} features as input.")
    return OutOfCore(X)


def map_dask(predict, X, n_out, dtype):
    """``predict`` (ndarray -> ndarray) over each row block of the dask array ``X``.

    Returns a lazy dask array of shape ``(n_samples, n_out)`` (``n_out=None``:
    one value per sample) with X's row chunks. The estimator inside
    ``predict`` travels as one task of the graph, so each worker receives it
    once, not once per block.
    """
    import dask

    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array, got a {X.ndim}D dask array instead.")
    X = X.rechunk({1: -1})  # whole rows in each block
    fn = dask.delayed(predict, pure=True)
    if n_out is None:
        return X.map_blocks(_apply, fn, dtype=dtype, drop_axis=1, meta=np.empty((0,), dtype))
    return X.map_blocks(_apply, fn, dtype=dtype, chunks=(X.chunks[0], (n_out,)),
                        meta=np.empty((0, 0), dtype))


def _apply(block, predict):
    return predict(np.asarray(block))
