"""Datasets as float32 arrays in [0, 1], flattened, ready for skae estimators.

``load_digits`` needs nothing (sklearn bundles it). ``load_mnist`` and
``load_fashion_mnist`` read the standard IDX files (gzipped or not), looking in
this order, and using the first folder that holds both files of the split:

1. ``root``, when given;
2. the folder named by the dataset's environment variable
   (``SKAE_MNIST_DIR``, ``SKAE_FASHION_MNIST_DIR``);
3. ``$SKAE_DATA`` (a data home shared by all datasets);
4. ``~/.skae/datasets`` (where ``download=True`` stores files by default);
5. Debian's location (``/usr/share/datasets/fashion-mnist`` from
   ``apt-get install dataset-fashion-mnist``; ``/usr/share/datasets/mnist``).

Each of these base folders may hold the files directly, in a per-dataset
sub-folder (``mnist``, ``fashion-mnist``) or in torchvision's layout
(``<base>/MNIST/raw``, ``<base>/FashionMNIST/raw``). ``download=True`` fetches
missing files through torchvision (imported only then) into ``root``, else
into the dataset's environment folder, ``$SKAE_DATA`` or ``~/.skae/datasets``.

``read_mat_images`` and ``write_mat_images`` read a stack of images from a
MATLAB file as rows and write rows back in the file's layout and type (what
``skae reconstruct`` does); ``parse_example_args`` is the command line of the
examples.
"""

import argparse
import gzip
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._utils import image_shape_of

__all__ = ["load_digits", "load_mnist", "load_fashion_mnist", "load_train_test", "read_idx",
           "read_mat_images", "write_mat_images", "MatLayout", "parse_example_args"]

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                   "Shirt", "Sneaker", "Bag", "Ankle boot")

# name -> (sub-folder slug, torchvision class name, env variable, Debian folder)
_DATASETS = {
    "mnist": ("mnist", "MNIST", "SKAE_MNIST_DIR", "/usr/share/datasets/mnist"),
    "fashion-mnist": ("fashion-mnist", "FashionMNIST", "SKAE_FASHION_MNIST_DIR",
                      "/usr/share/datasets/fashion-mnist"),
}
_SPLITS = {"train": "train", "test": "t10k"}
_IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def load_digits(*, return_X_y=False):
    """Load scikit-learn's bundled 8x8 digits, scaled to [0, 1] (no download).

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
    from sklearn.utils import Bunch

    return Bunch(data=X, target=y, images=X.reshape(-1, 8, 8), image_shape=(8, 8),
                 target_names=raw.target_names, DESCR=raw.DESCR)


def read_idx(path):
    """Read one IDX file (gzipped or not) into a numpy array.

    Parameters
    ----------
    path : str or path-like
        An IDX file such as ``train-images-idx3-ubyte`` or its ``.gz``; gzip is
        detected from the content, not the name.

    Returns
    -------
    array : ndarray
        With the shape and element type the file's header declares.

    Raises
    ------
    ValueError
        If the file is not a valid IDX file (bad magic number, unknown type
        code, or a size that does not match the header).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path} is not a valid gzip file: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: bad magic number "
                         f"{raw[:4].hex() or '(empty file)'} (expected 0000XXNN).")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX element type code 0x{code:02x}.")
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions declared).")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX header declares shape {shape} ({expected} bytes "
                         f"of data) but the file holds {len(raw) - header} bytes.")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _file_names(split):
    prefix = _SPLITS[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find(folder, stem):
    for name in (stem, stem + ".gz"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _base_dirs(name, root):
    _, _, env, debian = _DATASETS[name]
    bases = []
    if root is not None:
        bases.append(("root", Path(root).expanduser()))
    if os.environ.get(env):
        bases.append((f"${env}", Path(os.environ[env]).expanduser()))
    if os.environ.get("SKAE_DATA"):
        bases.append(("$SKAE_DATA", Path(os.environ["SKAE_DATA"]).expanduser()))
    bases.append(("default", Path("~/.skae/datasets").expanduser()))
    bases.append(("Debian", Path(debian)))
    return bases


def _candidate_dirs(name, root):
    slug, torch_name, _, _ = _DATASETS[name]
    seen = []
    for _, base in _base_dirs(name, root):
        for folder in (base, base / slug, base / torch_name / "raw"):
            if folder not in seen:
                seen.append(folder)
    return seen


def _locate(name, split, root):
    images, labels = _file_names(split)
    folders = _candidate_dirs(name, root)
    for folder in folders:
        found = _find(folder, images), _find(folder, labels)
        if all(found):
            return found
    return None, folders


def _download(name, split, root):
    try:
        import torchvision.datasets as tvd
    except ImportError as exc:  # pragma: no cover - torchvision is a dependency
        raise ImportError("download=True needs torchvision (pip install torchvision).") \
            from exc
    _, torch_name, env, _ = _DATASETS[name]
    target = root or os.environ.get(env) or os.environ.get("SKAE_DATA") \
        or "~/.skae/datasets"
    target = Path(target).expanduser()
    getattr(tvd, torch_name)(root=str(target), train=(split == "train"), download=True)
    return target


def _load_idx_dataset(name, split, root, download, return_X_y, target_names, descr):
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    found = _locate(name, split, root)
    if found[0] is None and download:
        root = _download(name, split, root)
        found = _locate(name, split, root)
    if found[0] is None:
        folders = "\n  ".join(str(f) for f in found[1])
        images, labels = _file_names(split)
        _, torch_name, env, debian = _DATASETS[name]
        hint = ("install Debian's package (apt-get install dataset-fashion-mnist), "
                if name == "fashion-mnist" else "")
        raise FileNotFoundError(
            f"{name} {split} split not found: no folder holds both {images}[.gz] and "
            f"{labels}[.gz]. Looked in:\n  {folders}\nTo get the data, {hint}pass "
            f"download=True (fetches through torchvision into root, ${env}, $SKAE_DATA "
            f"or ~/.skae/datasets), or point root= or ${env} at a folder with the "
            f"IDX files.")
    images_path, labels_path = found
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected a 3-D uint8 IDX image file, got "
                         f"shape {images.shape} and type {images.dtype}.")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected a 1-D IDX label file, got shape "
                         f"{labels.shape}.")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} "
                         f"holds {len(labels)} labels.")
    image_shape = tuple(images.shape[1:])
    X = images.reshape(len(images), -1).astype(np.float32)
    np.divide(X, np.float32(255.0), out=X)
    y = labels.astype(np.int64)
    if return_X_y:
        return X, y
    from sklearn.utils import Bunch

    return Bunch(data=X, target=y, images=X.reshape((-1,) + image_shape),
                 image_shape=image_shape, target_names=np.asarray(target_names),
                 filenames=(str(images_path), str(labels_path)), DESCR=descr)


# The docstring of load_mnist and load_fashion_mnist, which differ only in names.
_LOADER_DOC = """Load {title} from local IDX files.

    Parameters
    ----------
    split : {{"train", "test"}}, default="train"
        The 60,000 training or the 10,000 test images.
    root : str or path-like, default=None
        Folder searched first (the IDX files directly, a ``{slug}``
        sub-folder, or torchvision's ``{torch_name}/raw``); also where
        ``download=True`` stores the files.
    download : bool, default=False
        When no local copy is found, download it through torchvision.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : Bunch or tuple
        ``data``: (n_samples, 784) float32 in [0, 1] (pixels / 255), images
        flattened row by row; ``target``: int64 labels 0-9; ``images``:
        (n_samples, 28, 28) view of ``data``; ``image_shape``: ``(28, 28)``;
        ``target_names`` ({target_names}); ``filenames``: the two files read.
        ``(X, y)`` when ``return_X_y``.

    Raises
    ------
    FileNotFoundError
        When no searched folder holds the split's two files (the message lists
        the folders and how to get the data).
    ValueError
        When a file is not a valid IDX file.

    Notes
    -----
    Search order: ``root``, ``${env}``, ``$SKAE_DATA``, ``~/.skae/datasets``,
    ``{debian}``; each as the folder itself, its ``{slug}`` sub-folder and
    ``{torch_name}/raw`` (see :mod:`skae.datasets`). Files may be gzipped or
    not (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
    ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``).

    Examples
    --------
{examples}
    """


def _loader_doc(name, title, target_names, examples):
    """Decorator: the docstring of the loader of ``name``, from :data:`_LOADER_DOC`."""
    slug, torch_name, env, debian = _DATASETS[name]

    def decorate(loader):
        loader.__doc__ = _LOADER_DOC.format(
            title=title, slug=slug, torch_name=torch_name, env=env, debian=debian,
            target_names=target_names, examples=examples)
        return loader
    return decorate


@_loader_doc("mnist", "MNIST (handwritten digits)", "the digits as strings", """\
    >>> from skae.datasets import load_mnist
    >>> X, y = load_mnist("test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype.name  # doctest: +SKIP
    ((10000, 784), 'float32')""")
def load_mnist(split="train", *, root=None, download=False, return_X_y=False):
    return _load_idx_dataset("mnist", split, root, download, return_X_y,
                             [str(i) for i in range(10)],
                             "MNIST handwritten digits, 28x28 grey levels in [0, 1].")


@_loader_doc("fashion-mnist", "Fashion-MNIST (Zalando's clothing images)", "the class names",
             """\
    >>> from skae.datasets import load_fashion_mnist
    >>> data = load_fashion_mnist("test")  # doctest: +SKIP
    >>> data.data.shape, data.image_shape, str(data.target_names[0])  # doctest: +SKIP
    ((10000, 784), (28, 28), 'T-shirt/top')""")
def load_fashion_mnist(split="train", *, root=None, download=False, return_X_y=False):
    return _load_idx_dataset("fashion-mnist", split, root, download, return_X_y,
                             FASHION_CLASSES,
                             "Fashion-MNIST (Zalando), 28x28 grey levels in [0, 1].")


#: dataset names understood by :func:`load_train_test` (and the CLI)
DATASET_NAMES = ("digits", "fashion-mnist", "mnist")
#: smallest subset :func:`load_train_test` draws (stratified over 10 classes)
MIN_SUBSET_SIZE = 20


def load_train_test(name="digits", *, n_train=None, n_test=None, root=None,
                    download=False, random_state=0):
    """Training and test sets of a dataset by name, optionally subsampled.

    The one loader behind the examples and the ``skae`` command: digits is
    split 75/25 (stratified, it has no official split); MNIST and
    Fashion-MNIST keep their official 60k/10k splits. ``n_train`` and
    ``n_test`` draw stratified random subsets, for quick runs.

    Parameters
    ----------
    name : {"digits", "fashion-mnist", "mnist"}, default="digits"
        The dataset. ``"digits"`` needs no files (:func:`load_digits`).
    n_train, n_test : int or None, default=None
        Sizes of stratified random subsets of the training and test sets (at
        least 20 each); None, or a size at least the set's, keeps all of it.
    root : str or path-like, default=None
        Folder searched first for the IDX files (see :func:`load_mnist`).
    download : bool, default=False
        Download MNIST-like files through torchvision when no local copy is
        found.
    random_state : int, RandomState instance or None, default=0
        Drives the digits split and the subsets.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        Flattened float32 images in [0, 1], and int64 labels.
    image_shape : tuple of int
        ``(height, width)`` of one image, e.g. for ``image_shape=`` of a conv
        autoencoder or for plotting.

    Raises
    ------
    ValueError
        For an unknown ``name`` or a subset size below 20.
    FileNotFoundError
        When MNIST-like files are not found (see :func:`load_mnist`).

    Examples
    --------
    >>> from skae.datasets import load_train_test
    >>> X_train, y_train, X_test, y_test, image_shape = load_train_test(
    ...     "digits", n_test=200)
    >>> X_train.shape, X_test.shape, image_shape
    ((1347, 64), (200, 64), (8, 8))
    """
    from sklearn.model_selection import train_test_split

    if name not in DATASET_NAMES:
        raise ValueError(f"name must be one of {DATASET_NAMES}; got {name!r}.")
    for what, n in (("n_train", n_train), ("n_test", n_test)):
        if n is not None and n < MIN_SUBSET_SIZE:
            raise ValueError(f"{what} must be at least {MIN_SUBSET_SIZE} (or None for all); "
                             f"got {n}.")
    if name == "digits":
        data = load_digits()
        X_train, X_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=0.25, stratify=data.target,
            random_state=random_state)
    else:
        loader = load_fashion_mnist if name == "fashion-mnist" else load_mnist
        data = loader("train", root=root, download=download)
        X_train, y_train = data.data, data.target
        X_test, y_test = loader("test", root=root, download=download, return_X_y=True)

    def subset(X, y, n):
        if n is None or n >= len(X):
            return X, y
        X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y,
                                      random_state=random_state)
        return X, y

    X_train, y_train = subset(X_train, y_train, n_train)
    X_test, y_test = subset(X_test, y_test, n_test)
    return X_train, y_train, X_test, y_test, tuple(data.image_shape)


# ----------------------------------------------------------------- MATLAB files
@dataclass(frozen=True)
class MatLayout:
    """Where and how :func:`read_mat_images` found images in a MATLAB file.

    :func:`write_mat_images` writes rows back this way. A frozen dataclass:
    each parameter is the attribute of the same name.

    Parameters
    ----------
    key : str
        The variable that holds the images.
    shape : tuple of int
        Its shape in the file, e.g. ``(28, 28, 100)``.
    dtype : numpy.dtype
        Its element type, e.g. ``uint8``.
    images_last : bool
        Whether the images run along the last axis (``F x N``,
        ``H x W x N``) rather than the first.
    scale : float
        What the values were divided by (255 or 1).
    """

    key: str
    shape: tuple
    dtype: np.dtype
    images_last: bool
    scale: float


def _mat_rows(array, n_features, image_shape):
    """``(rows, images_last)``: ``array`` as (n_images, n_features)."""
    shape, img = array.shape, image_shape
    if array.ndim == 2 and shape[1] == n_features:
        return array, False
    if shape == img:
        return array.reshape(1, n_features), False
    if array.ndim == 2 and shape[0] == n_features:
        return array.T, True
    if img is not None and array.ndim == len(img) + 1:
        if shape[1:] == img:  # N first wins when both fit
            return array.reshape(shape[0], n_features), False
        if shape[:-1] == img:
            return np.moveaxis(array, -1, 0).reshape(shape[-1], n_features), True
    if array.ndim == 1 and shape[0] == n_features:
        return array.reshape(1, n_features), False
    expected = [f"N x {n_features}", f"{n_features} x N"]
    if img is not None:
        dims = " x ".join(map(str, img))
        expected += [f"N x {dims}", f"{dims} x N", dims]
    raise ValueError(f"images of shape {' x '.join(map(str, shape))} do not fit the "
                     f"model, which takes {n_features} values per image; expected "
                     f"{', '.join(expected)}.")


def read_mat_images(path, n_features, *, image_shape=None, key=None, scale="auto"):
    """Read a stack of images from a MATLAB ``.mat`` file as rows of floats.

    Accepted layouts, for ``F = n_features`` values per image of shape
    ``H x W``: ``N x F``, ``F x N``, ``N x H x W``, ``H x W x N`` (as MATLAB
    stores image stacks) and one ``H x W`` image (MATLAB drops a trailing
    singleton dimension); ``N x ...`` wins when both fit. The returned
    layout lets :func:`write_mat_images` write results back the same way.

    Parameters
    ----------
    path : str or path-like
        A MATLAB file of format v4 to v7.2 (v7.3 files are HDF5: save them
        from MATLAB with ``save(..., '-v7')``).
    n_features : int
        Values per image, e.g. a fitted model's ``n_features_in_``.
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)`` of one image; None assumes a square
        single-channel image (needed only for 3-D arrays).
    key : str, default=None
        The variable that holds the images; None takes ``input_images`` when
        the file has it, else the file's only variable.
    scale : {"auto", 255, 1}, default="auto"
        What the values are divided by: ``"auto"`` divides integer types
        (e.g. ``uint8`` 0-255) by 255 and leaves floats as they are.

    Returns
    -------
    X : ndarray of shape (n_images, n_features), float32
        The images, flattened row by row and scaled.
    layout : MatLayout
        The variable, shape, type, arrangement and scale found.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    ValueError
        When the file cannot be read as a MATLAB file, the variable is
        missing, not chosen or not a numeric array, its shape fits none
        of the layouts, or it holds NaN, infinite values or values beyond
        float32's range.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from scipy.io import loadmat, savemat
    >>> from skae.datasets import read_mat_images, write_mat_images
    >>> folder = tempfile.mkdtemp()
    >>> source, target = os.path.join(folder, "in.mat"), os.path.join(folder, "out.mat")
    >>> stack = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)  # H x W x N
    >>> savemat(source, {"input_images": stack})
    >>> X, layout = read_mat_images(source, 6, image_shape=(2, 3))
    >>> X.shape, X.dtype.name, layout.images_last, layout.scale
    ((4, 6), 'float32', True, 255.0)
    >>> write_mat_images(target, X, layout)  # e.g. reconstructions of X
    >>> bool(np.array_equal(loadmat(target)["input_images"], stack))
    True
    """
    from scipy.io import loadmat

    if not Path(path).is_file():
        raise FileNotFoundError(f"MATLAB file {path} not found.")
    try:
        contents = loadmat(path)
    except NotImplementedError as exc:  # MATLAB v7.3 = HDF5
        raise ValueError(f"cannot read {path}: {exc} (save it from MATLAB with "
                         f"save(..., '-v7')).") from None
    except Exception as exc:  # noqa: BLE001 - scipy raises many types on bad files
        raise ValueError(f"cannot read {path} as a MATLAB .mat file: "
                         f"{exc or type(exc).__name__}") from None
    names = [k for k in contents if not k.startswith("__")]
    if key is None:
        if "input_images" in names:
            key = "input_images"
        elif len(names) == 1:
            key = names[0]
        else:
            raise ValueError(f"{path} holds several variables ({', '.join(names) or 'none'}); "
                             f"choose one with key=NAME.")
    if key not in names:
        raise ValueError(f"no variable {key!r} in {path}; available: "
                         f"{', '.join(names) or '(none)'}.")
    array = contents[key]
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf" \
            or array.size == 0:
        raise ValueError(f"variable {key!r} is not a non-empty numeric array "
                         f"(got {getattr(array, 'dtype', type(array))}).")
    if scale == "auto":
        scale = 255 if array.dtype.kind in "iu" else 1
    if scale not in (1, 255):
        raise ValueError(f"scale must be 'auto', 255 or 1; got {scale!r}.")
    rows, images_last = _mat_rows(array, n_features, image_shape_of(n_features, image_shape))
    if array.dtype.kind == "f" and not (np.abs(rows) <= np.finfo(np.float32).max).all():
        raise ValueError(f"variable {key!r} holds NaN, infinite values or values "
                         f"beyond float32's range (|x| > 3.4e38); images must be "
                         f"finite.")
    X = rows.astype(np.float32)
    if scale != 1:
        X /= np.float32(scale)
    return X, MatLayout(key, array.shape, array.dtype, images_last, float(scale))


def write_mat_images(path, X, layout):
    """Write rows of images to a MATLAB file in the layout they were read from.

    The values are multiplied back by ``layout.scale``; integer and boolean
    types are rounded and clipped to the type's range. The file holds one
    variable, ``layout.key``, of ``layout.shape`` and ``layout.dtype``
    (compressed).

    Parameters
    ----------
    path : str or path-like
        The file to write.
    X : array-like of shape (n_images, n_features)
        Images as :func:`read_mat_images` returned them (e.g. their
        reconstructions), as many as were read.
    layout : MatLayout
        The second value :func:`read_mat_images` returned.

    Raises
    ------
    ValueError
        When ``X`` does not hold as many values as the layout.
    OSError
        When the file cannot be written.

    Examples
    --------
    See :func:`read_mat_images`.
    """
    from scipy.io import savemat

    X = np.asarray(X, dtype=np.float64)
    if X.size != int(np.prod(layout.shape)):
        raise ValueError(f"X holds {X.size} values but {layout.key!r} had shape "
                         f"{layout.shape}.")
    values = X * layout.scale if layout.scale != 1 else X
    if layout.dtype.kind in "iub":
        info = np.iinfo(layout.dtype) if layout.dtype.kind in "iu" else None
        low, high = (info.min, info.max) if info else (0, 1)
        values = np.clip(np.rint(values), low, high)
    values = values.astype(layout.dtype)
    if layout.images_last:
        values = np.moveaxis(values.reshape((-1,) + layout.shape[:-1]), 0, -1)
    savemat(path, {layout.key: values.reshape(layout.shape)}, do_compression=True)


# ----------------------------------------------------------------- examples
def parse_example_args(argv=None):
    """The command line of skae's examples: ``--dataset NAME`` and ``--quick``.

    Unknown or misspelt options are an error (not a silent default). Inside
    a Jupyter kernel, whose command line holds the kernel's own options,
    nothing is parsed and the defaults hold.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    args : argparse.Namespace
        ``dataset`` (one of ``"digits"``, the default, ``"fashion-mnist"``
        and ``"mnist"``) and ``quick`` (the part of the example that the
        tests check: the same models on fewer settings, e.g. fewer code
        sizes or noise levels; also on when ``$SKAE_EXAMPLES_QUICK`` is
        ``1``).

    Examples
    --------
    >>> from skae.datasets import parse_example_args
    >>> parse_example_args(["--dataset", "fashion-mnist"]).dataset
    'fashion-mnist'
    """
    parser = argparse.ArgumentParser(description="Run a skae example.")
    parser.add_argument("--dataset", default="digits", choices=DATASET_NAMES,
                        help="digits needs no files; fashion-mnist and mnist are read "
                             "from local IDX files (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SKAE_EXAMPLES_QUICK") == "1",
                        help="run only the part the tests check: the same models "
                             "on fewer settings (also $SKAE_EXAMPLES_QUICK=1)")
    if argv is None:
        argv = [] if "ipykernel" in sys.modules else sys.argv[1:]
    return parser.parse_args(argv)
