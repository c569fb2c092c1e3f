"""Property-based fuzzing of every public entry point (hypothesis).

Entry points: ``transform`` / ``inverse_transform`` / ``reconstruct`` /
``score_samples`` / ``predict`` / ``predict_proba`` / ``sample`` / ``fit`` /
``partial_fit`` of AutoencoderTransformer (dense and conv), DenoisingAE,
VAETransformer, EncoderClassifier and NoiseInjector; ``skae.save`` /
``skae.load``; every function of ``skae.plotting``; and ``skae reconstruct``
(``skae.cli.main``).

Inputs are drawn over shapes (0 rows, 0 / 1 feature, 1-D and 3-D arrays, very
wide), dtypes (float16/32/64, ints, bool, object, complex, strings, bytes),
values (NaN, +-inf, 1e38, 1e300, subnormals, constant columns), layouts
(Fortran order, strided and negative-stride views, read-only memmaps, nested
lists, pandas frames (numpy and nullable dtypes), polars frames when polars is
installed) and parameter values (out of range, wrong type).

The property, for every call:

* either a result of the documented shape and dtype (finite when the input
  is finite), or a ``ValueError`` / ``TypeError`` whose message is non-empty,
  is not raised from inside torch/skorch, and mentions the problem (a keyword
  such as ``NaN``, ``infinity``, ``feature``, ``sample``, ``dtype``, the
  parameter's name...);
* an input that is certainly invalid (NaN, inf, complex, a wrong number of
  features, a parameter out of its range) is not silently accepted;
* never another exception, a hang (``HANG_SECONDS`` per call), NaN output from
  finite input, an output that aliases the input, or a modified input (each
  input is compared with a copy taken before the call).

Models are tiny (``hidden_layer_sizes=(4,)``, ``max_epochs=1``,
``batch_size=8``, ``n_components=2``) and fitted once per module; ``fit`` is
fuzzed with fewer examples than inference.

Inputs that once broke the property are kept as fixed cases (``FOUND``,
``test_found_inputs``), so that every run checks them whatever is drawn.

Profiles (tests/conftest.py): ``ci`` is the default (derandomized, bounded:
about 1,300 examples, well under two minutes). The long run (25 times as
many examples, fresh ones each run, shrinking on), from the repository root
with the project's virtual environment active, with per-test statistics::

    SKAE_HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py --hypothesis-show-statistics
"""

import contextlib
import copy
import io
import math
import signal
import sys
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import scipy.io as sio  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from skorch.callbacks import PrintLog  # noqa: E402

import skae  # noqa: E402
from skae import (  # noqa: E402
    AutoencoderTransformer,
    DenoisingAE,
    EncoderClassifier,
    ModelFileError,
    NoiseInjector,
    VAETransformer,
    plotting,
)
from skae._validation import check_callbacks, validate_X  # noqa: E402
from skae.cli import main as cli_main  # noqa: E402

try:
    import polars as pl
except ImportError:  # polars is optional: its layout is drawn only when installed
    pl = None

try:
    from conftest import FUZZ_BASE_EXAMPLES
except ImportError:  # pragma: no cover - conftest not on the path
    FUZZ_BASE_EXAMPLES = 20


def n_examples(k):
    """``k`` examples under the ci profile, scaled by the loaded profile."""
    return max(1, round(k * settings.default.max_examples / FUZZ_BASE_EXAMPLES))


#: a single call taking longer than this is a hang
HANG_SECONDS = 60
N_FEATURES = 16  # 4 x 4 images, so that conv infers the image shape
N_COMPONENTS = 2
TINY = dict(n_components=N_COMPONENTS, hidden_layer_sizes=(4,), max_epochs=1,
            batch_size=8, early_stopping=False, random_state=0)
CLF_TINY = dict(hidden_layer_sizes=(4,), max_epochs=1, batch_size=8,
                early_stopping=False, random_state=0)


# ======================================================================
# the property: outcome checks
# ======================================================================
#: keywords of which an error message must contain one (lower case), per
#: problem tag; a tag not listed here is a parameter name, its own keyword
KEYWORDS = {
    "nan": ("nan", "none", "missing"),
    "inf": ("inf",),  # infinity, infinite
    "huge": ("overflow", "too large", "finite", "inf", "diverged", "nan"),
    "complex": ("complex",),
    "string": ("string", "str", "convert", "dtype", "numeric"),
    "empty": ("sample", "empty", "no rows", "at least one"),
    "ndim": ("2d", "2-d", "dim", "shape", "reshape"),
    "features": ("feature", "n_components", "image_shape", "shape"),
    "unit": ("[0, 1]", "bce"),
    "labels": ("label", "target", "class", "y ", "sample", "inconsistent", "nan", "y."),
    "records": ("column", "report", "record", "metric", "empty", "noisy rows", "history",
                "dict"),
    # parameters whose messages may use another word
    "lr": ("lr", "learning rate", "diverged"),
    "random_state": ("random_state", "seed"),
    "early_stopping": ("early_stopping", "sample"),
    "loss": ("loss", "bce", "[0, 1]"),
    "hidden_layer_sizes": ("hidden_layer_sizes",),
    "callbacks": ("callback",),
    "noise": ("noise", "kind", "image_shape", "level", "patch"),
    "noise_level": ("noise_level", "level"),
    "level": ("level",),
    "image_shape": ("image_shape", "channel"),
    "autoencoder": ("autoencoder", "feature"),
    "vae": ("sample", "vae", "inverse_transform", "n_components", "estimator"),
    "model": ("cannot load", "model"),
    "numeric": ("numeric", "non-empty"),
    "layout": ("do not fit", "shape"),
    "key": ("variable", "key"),
    "device": ("device", "cuda"),
    "output_activation": ("output_activation", "bce"),
    # plotting parameters with short names
    "y": ("y has", "label"),
    "x": ("'x'", "x=", "column"),
    "by": ("'by'", "by=", "column"),
    "n": ("n must", "n=", "'n'", "grid"),
    "ax": ("ax ", "ax=", "axes"),
    "metrics": ("metric",),
    "codes": ("codes", "2-d", "non-empty", "feature"),
    "perplexity": ("perplexity", "sample"),
    "history": ("history",),
}


class Hang(BaseException):
    """A call ran longer than ``HANG_SECONDS`` (not an ``Exception``, so that
    no ``except Exception`` in the code under test swallows it)."""


@contextlib.contextmanager
def no_hang(seconds=HANG_SECONDS):
    def alarm(signum, frame):
        raise Hang(f"the call ran for more than {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Problems:
    """What is wrong with a call's input: ``must`` tags make an error
    mandatory, ``may`` tags allow one; both name the keywords it may use."""

    must: set = field(default_factory=set)
    may: set = field(default_factory=set)

    def __or__(self, other):
        return Problems(self.must | other.must, self.may | other.may)

    def relaxed(self):
        """The same tags, none of them mandatory."""
        return Problems(set(), self.must | self.may)

    def keywords(self):
        words = set()
        for tag in self.must | self.may:
            words.update(KEYWORDS.get(tag, (tag,)))
        return sorted(words)


def _raised_in(exc):
    """File of the innermost Python frame that raised ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].filename if frames else ""


def check_error(exc, problems, what):
    """A ValueError/TypeError is acceptable only when it names a real problem."""
    message = str(exc).strip()
    if isinstance(exc, KeyError):  # str() of a KeyError is just the key
        message = ""
    detail = f"{what} raised {type(exc).__name__}({message!r})"
    assert message, f"{detail}: empty message"
    origin = _raised_in(exc).replace("\\", "/")
    assert "/torch/" not in origin and "/skorch/" not in origin, (
        f"{detail} from inside {origin}: an error of torch/skorch, not a check of skae")
    assert problems.must or problems.may, f"{detail} on a valid input"
    words = problems.keywords()
    assert any(w in message.lower() for w in words), (
        f"{detail}: the message names none of the problems "
        f"{sorted(problems.must | problems.may)} (expected one of {words})")


def attempt(fn, problems, what, timeout=HANG_SECONDS):
    """``(True, result)``, or ``(False, None)`` after an acceptable error.

    Any other exception (RuntimeError from torch, IndexError, ...) propagates
    and fails the test; so does a result when ``problems.must`` says the
    input is invalid.
    """
    with no_hang(timeout):
        try:
            result = fn()
        except (ValueError, TypeError) as exc:
            check_error(exc, problems, what)
            return False, None
    assert not problems.must, (
        f"{what} accepted an invalid input ({sorted(problems.must)}) without an error")
    return True, result


# ------------------------------------------------------------ input copies
def snapshot(X):
    if isinstance(X, np.ndarray):
        return ("array", np.array(X, copy=True), X.shape, X.dtype, X.strides)
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return ("pandas", X.copy(deep=True))
    if pl is not None and isinstance(X, pl.DataFrame):
        return ("polars", X.clone())
    return ("python", copy.deepcopy(X), repr(X))


def _same_values(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype.kind == "O":
        return [repr(v) for v in a.ravel()] == [repr(v) for v in b.ravel()]
    return bool(np.array_equal(a, b))


def assert_unchanged(snap, X, what):
    kind = snap[0]
    if kind == "array":
        _, copy_, shape, dtype, strides = snap
        assert (X.shape, X.dtype, X.strides) == (shape, dtype, strides), \
            f"{what} changed the input array's shape, dtype or strides"
        assert _same_values(copy_, np.asarray(X)), f"{what} modified its input array"
    elif kind == "pandas":
        if isinstance(X, pd.DataFrame):
            pd.testing.assert_frame_equal(X, snap[1], obj=f"input of {what}")
        else:
            pd.testing.assert_series_equal(X, snap[1], obj=f"input of {what}")
    elif kind == "polars":
        assert X.equals(snap[1]), f"{what} modified its polars input"
    else:
        assert repr(X) == snap[2], f"{what} modified its input"


def assert_not_alias(out, X, what):
    if isinstance(out, np.ndarray) and isinstance(X, np.ndarray):
        assert not np.may_share_memory(out, X), f"{what} returned a view of its input"


def check_float_output(out, shape, dtype, finite_in, what, allow_inf=False):
    assert isinstance(out, np.ndarray), f"{what} returned {type(out).__name__}"
    assert out.shape == shape, f"{what} returned shape {out.shape}, expected {shape}"
    if dtype is not None:
        assert out.dtype == dtype, f"{what} returned dtype {out.dtype}, expected {dtype}"
    else:
        assert out.dtype in (np.float32, np.float64), f"{what} returned dtype {out.dtype}"
    if finite_in:
        assert not np.isnan(out).any(), f"{what} returned NaN for a finite input"
        if not allow_inf:
            assert np.isfinite(out).all(), f"{what} returned inf for a finite input"


# ======================================================================
# input strategies
# ======================================================================
SPECIALS = (("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf), ("1e38", 1e38),
            ("-1e38", -1e38), ("3e38", 3e38), ("1e300", 1e300), ("-1e300", -1e300),
            ("subnormal64", 5e-324), ("subnormal32", 1e-40), ("-0.0", -0.0),
            ("float64max", float(np.finfo(np.float64).max)))
VALUE_RANGES = {"unit": (0.0, 1.0), "std": (-3.0, 3.0), "pixels": (0.0, 255.0),
                "tiny": (-1e-30, 1e-30), "large": (-1e6, 1e6)}
DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "int8", "uint64",
          "bool", "object", "complex128", "complex64", "str", "bytes")
NUMERIC_DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")
LAYOUTS = ("c", "fortran", "strided", "negative_strides", "readonly_memmap", "list",
           "pandas", "pandas_nullable") + (("polars",) if pl is not None else ())
#: values at least this large may overflow float32 network arithmetic
HUGE = 1e15


@dataclass(repr=False)
class Case:
    array: np.ndarray          # the values in their dtype (C order)
    layout: str
    names: str                 # pandas column names: default, str, mixed
    problems: Problems
    finite: bool               # numeric and finite (and so valid values)
    expect_dtype: object       # the float dtype outputs should have, None: either
    desc: str

    def __repr__(self):
        return f"Case({self.desc})"

    @property
    def n_rows(self):
        return self.array.shape[0] if self.array.ndim else 1


def _to_dtype(base, dtype, draw):
    """``base`` (float64) as ``dtype``; returns (array, float64 values or None,
    extra tags, description)."""
    must, may, note = set(), set(), ""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype.startswith("float"):
            arr = base.astype(dtype)
            values = arr.astype(np.float64)
        elif dtype in ("int64", "int32", "uint8", "int8", "uint64"):
            info = np.iinfo(dtype)
            low, high = max(float(info.min), -2.0 ** 62), min(float(info.max), 2.0 ** 62)
            b = np.nan_to_num(base, nan=0.0, posinf=high, neginf=low)
            arr = np.clip(np.rint(b), low, high).astype(dtype)
            values = arr.astype(np.float64)
        elif dtype == "bool":
            arr = base > 0.5
            values = arr.astype(np.float64)
        elif dtype.startswith("complex"):
            imag = draw(st.sampled_from([1.0, 0.0]))
            arr = (base + 1j * imag).astype(dtype)
            values = None
            must.add("complex")
            note = f" imag={imag}"
        elif dtype == "object":
            variant = draw(st.sampled_from(["floats", "ints", "none", "str"]))
            note = f" object={variant}"
            arr = base.astype(object)
            values = base.copy()
            if variant == "ints" and arr.size:
                arr.flat[0] = int(np.nan_to_num(base.flat[0]))
                values.flat[0] = float(arr.flat[0])
            elif variant == "none" and arr.size:
                arr.flat[arr.size // 2] = None
                values.flat[arr.size // 2] = np.nan
            elif variant == "str" and arr.size:
                arr.flat[arr.size // 2] = "abc"
                values = None
                must.add("string")
        else:  # str, bytes: numeric strings ("0.5") unless one is not
            text = np.array([repr(float(v)) for v in base.ravel()], dtype=str)
            text = text.reshape(base.shape)
            bad = draw(st.booleans()) and text.size > 0
            if bad:
                text.flat[text.size // 2] = "abc"
            arr = text if dtype == "str" else np.char.encode(text, "ascii")
            values = None if bad else base.copy()
            (must if bad else may).add("string")
            note = " non-numeric" if bad else " numeric strings"
    return arr, values, must, may, note


def _tag_special_values(values, must, may):
    """Add the problem tags of float ``values``: NaN and inf make an error
    mandatory, finite values from ``HUGE`` up allow one (float32 overflow)."""
    if np.isnan(values).any():
        must.add("nan")
    if np.isinf(values).any():
        must.add("inf")
    finite = values[np.isfinite(values)]
    if finite.size and np.abs(finite).max() >= HUGE:
        may.add("huge")


@st.composite
def data_cases(draw, features, valid_features=None, ndims=(1, 3), dtypes=DTYPES,
               layouts=LAYOUTS, max_rows=12, specials=True):
    """A :class:`Case`: a data array and how it is passed.

    ``features`` are the candidate numbers of columns (the first is the one
    the shrinker prefers); ``valid_features`` the set of those the entry point
    accepts (None: any positive number).
    """
    ndim = draw(st.sampled_from((2,) * 6 + tuple(ndims)))
    n_rows = draw(st.one_of(st.integers(1, max_rows), st.just(0), st.just(300)))
    n_feat = draw(st.sampled_from(features))
    if n_feat >= 1000:
        n_rows = min(n_rows, 3)
    side = int(round(math.sqrt(n_feat)))
    if ndim == 2:
        shape = (n_rows, n_feat)
    elif ndim == 1:
        shape = (n_feat,)
    else:
        shape = (n_rows, side, side) if side * side == n_feat and n_feat else \
            (n_rows, n_feat, 1)
    seed = draw(st.integers(0, 2 ** 32 - 1))
    range_name = draw(st.sampled_from(list(VALUE_RANGES)))
    const = draw(st.sampled_from(["none", "column", "all"]))
    chosen = draw(st.lists(st.tuples(st.sampled_from(range(len(SPECIALS))),
                                     st.integers(0, 2 ** 31)), max_size=3)) \
        if specials else []
    dtype = draw(st.sampled_from(dtypes))
    layout = draw(st.sampled_from(layouts))
    names = draw(st.sampled_from(["default", "str", "mixed"])) \
        if layout.startswith("pandas") else "default"

    low, high = VALUE_RANGES[range_name]
    base = np.random.default_rng(seed).uniform(low, high, size=shape)
    if base.size and ndim >= 2:
        if const == "column":
            base[..., 0] = low
        elif const == "all":
            base[...] = high
    for index, position in chosen:
        if base.size:
            base.flat[position % base.size] = SPECIALS[index][1]
    arr, values, must, may, note = _to_dtype(base, dtype, draw)

    if values is not None:
        _tag_special_values(values, must, may)
    if ndim != 2:
        must.add("ndim")
    else:
        if n_rows == 0:
            may.add("empty")
        if n_feat == 0 or (valid_features is not None and n_feat not in valid_features):
            must.add("features")
    if names == "mixed" and ndim == 2 and n_feat >= 2:
        may.add("features")  # int and str column names: sklearn refuses them
    finite = values is not None and bool(np.isfinite(values).all())
    if layout in ("list", "pandas_nullable"):
        expect = np.dtype(np.float64)
    elif layout == "polars" or (layout == "pandas" and ndim != 2):
        expect = None
    else:
        expect = np.dtype(np.float32 if dtype == "float32" else np.float64)
    if dtype not in ("float64", "float32", "float16", "int64", "int32", "uint8", "int8",
                     "uint64", "bool", "object"):
        expect = None if not must else expect
    desc = (f"shape={shape} dtype={dtype}{note} layout={layout} names={names} "
            f"values={range_name} const={const} "
            f"specials={[SPECIALS[i][0] for i, _ in chosen]} seed={seed}")
    return Case(arr, layout, names, Problems(must, may), finite, expect, desc)


def materialize(case, scratch):
    """The object passed to the entry point, in the case's layout."""
    a = case.array
    layout = case.layout
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":
        return np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a.copy()
    if layout == "negative_strides":
        return np.flip(np.flip(a).copy())
    if layout == "readonly_memmap":
        if a.dtype.kind == "O" or a.size == 0:
            out = a.copy()
            out.flags.writeable = False
            return out
        path = Path(scratch) / f"{uuid.uuid4().hex}.dat"
        a.tofile(path)
        return np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)
    if layout == "list":
        return a.tolist()
    if layout.startswith("pandas") and a.ndim in (1, 2):
        if a.ndim == 1:
            return pd.Series(a)
        n = a.shape[1]
        columns = {"default": None, "str": [f"f{i}" for i in range(n)],
                   "mixed": [i if i % 2 else f"f{i}" for i in range(n)]}[case.names]
        frame = pd.DataFrame(a, columns=columns)
        if layout == "pandas_nullable" and a.dtype.kind in "fiu":
            frame = frame.astype("Float64")
        return frame
    if layout == "polars" and a.ndim == 2 and a.dtype.kind in "fiub":
        return pl.DataFrame(a, schema=[f"f{i}" for i in range(a.shape[1])], orient="row")
    return a.copy()


# ======================================================================
# fixtures
# ======================================================================
@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: the machines that run this are shared."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def train_data():
    rng = np.random.default_rng(0)
    X_unit = rng.uniform(0, 1, (40, N_FEATURES))
    X_std = rng.normal(size=(40, N_FEATURES))
    y_str = np.array(["a", "b", "c", "d"] * 10)[:40]
    y_int = np.arange(40) % 3
    return X_unit, X_std, y_str, y_int


@pytest.fixture(scope="module")
def models(train_data):
    X_unit, X_std, y_str, y_int = train_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "ae_dense": AutoencoderTransformer(**TINY).fit(X_std),  # mse, identity
            "ae_conv": AutoencoderTransformer(architecture="conv", **TINY).fit(X_unit),
            "dae": DenoisingAE(**TINY).fit(X_unit),
            "dae_rec": DenoisingAE(output="reconstruction", noise="salt_and_pepper",
                                   noise_level=[0.0, 0.1], **TINY).fit(X_std),
            "vae": VAETransformer(**TINY).fit(X_unit),  # bce
            "vae_conv": VAETransformer(architecture="conv", **TINY).fit(X_std),  # mse
            "clf": EncoderClassifier(AutoencoderTransformer(**TINY), **CLF_TINY)
            .fit(X_unit, y_str),
            "clf_finetune": EncoderClassifier(VAETransformer(**TINY), freeze_encoder=False,
                                              **CLF_TINY).fit(X_std, y_int),
        }


# ======================================================================
# inference on fitted models
# ======================================================================
# (model, method) -> (input features, output shape for n rows, output dtype rule)
INFERENCE = {
    ("ae_dense", "transform"): (N_FEATURES, lambda n: (n, N_COMPONENTS), "float"),
    ("ae_dense", "inverse_transform"): (N_COMPONENTS, lambda n: (n, N_FEATURES), "float"),
    ("ae_dense", "reconstruct"): (N_FEATURES, lambda n: (n, N_FEATURES), "float"),
    ("ae_dense", "score_samples"): (N_FEATURES, lambda n: (n,), "float64"),
    ("ae_conv", "transform"): (N_FEATURES, lambda n: (n, N_COMPONENTS), "float"),
    ("ae_conv", "inverse_transform"): (N_COMPONENTS, lambda n: (n, N_FEATURES), "float"),
    ("ae_conv", "score_samples"): (N_FEATURES, lambda n: (n,), "float64"),
    ("dae", "transform"): (N_FEATURES, lambda n: (n, N_COMPONENTS), "float"),
    ("dae", "denoise"): (N_FEATURES, lambda n: (n, N_FEATURES), "float"),
    ("dae_rec", "transform"): (N_FEATURES, lambda n: (n, N_FEATURES), "float"),
    ("dae_rec", "inverse_transform"): (N_FEATURES, lambda n: (n, N_FEATURES), "float"),
    ("vae", "transform"): (N_FEATURES, lambda n: (n, N_COMPONENTS), "float"),
    ("vae", "inverse_transform"): (N_COMPONENTS, lambda n: (n, N_FEATURES), "float"),
    ("vae", "score_samples"): (N_FEATURES, lambda n: (n,), "float64"),
    ("vae_conv", "reconstruct"): (N_FEATURES, lambda n: (n, N_FEATURES), "float"),
    ("vae_conv", "score_samples"): (N_FEATURES, lambda n: (n,), "float64"),
    ("clf", "predict"): (N_FEATURES, lambda n: (n,), "classes"),
    ("clf", "predict_proba"): (N_FEATURES, lambda n: (n, 4), "float"),
    ("clf_finetune", "predict_proba"): (N_FEATURES, lambda n: (n, 3), "float"),
}


@pytest.mark.parametrize("name,method", list(INFERENCE),
                         ids=[f"{n}-{m}" for n, m in INFERENCE])
@settings(max_examples=n_examples(40))
@given(data=st.data())
def test_inference(models, scratch, name, method, data):
    est = models[name]
    n_in, out_shape, rule = INFERENCE[(name, method)]
    features = (n_in, 1, n_in + 1, 0, 3000) if n_in != 1 else (1, 2, 0, 3000)
    case = data.draw(data_cases(features, valid_features={n_in}), label="X")
    X = materialize(case, scratch)
    what = f"{name}.{method}"
    snap = snapshot(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. feature names of a frame
        ok, out = attempt(lambda: getattr(est, method)(X), case.problems, what)
    assert_unchanged(snap, X, what)
    if not ok:
        return
    assert_not_alias(out, X, what)
    n = case.n_rows
    if rule == "classes":
        assert isinstance(out, np.ndarray) and out.shape == out_shape(n)
        assert out.dtype == est.classes_.dtype
        assert set(out.tolist()) <= set(est.classes_.tolist())
        return
    dtype = np.dtype(np.float64) if rule == "float64" else case.expect_dtype
    check_float_output(out, out_shape(n), dtype, case.finite, what,
                       allow_inf=rule == "float64" and "huge" in case.problems.may)
    if method == "predict_proba" and case.finite and n:
        assert np.allclose(out.sum(axis=1), 1.0, atol=1e-4), "probabilities do not sum to 1"
        assert (out >= 0).all() and (out <= 1).all()
    if method == "score_samples":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok, score = attempt(lambda: est.score(X), case.problems, f"{name}.score")
        assert ok and isinstance(score, float)
        if n:
            assert score == pytest.approx(float(np.mean(out)), rel=1e-6, nan_ok=True)


@settings(max_examples=n_examples(20))
@given(n_samples=st.sampled_from([3, 1, 64, 300, 0, -1, 2.5, "3", None, True,
                                  np.int64(2)]),
       random_state=st.sampled_from([0, None, 7, -1, "seed", 2 ** 40,
                                     np.random.RandomState(0)]),
       name=st.sampled_from(["vae", "vae_conv"]))
def test_vae_sample(models, n_samples, random_state, name):
    est = models[name]
    must = set()
    if not (isinstance(n_samples, (int, np.integer)) and not isinstance(n_samples, bool)
            and n_samples >= 1):
        must.add("n_samples")
    if isinstance(random_state, str) or (isinstance(random_state, int)
                                         and not 0 <= random_state < 2 ** 32):
        must.add("random_state")
    ok, out = attempt(lambda: est.sample(n_samples, random_state=random_state),
                      Problems(must), f"{name}.sample")
    if ok:
        check_float_output(out, (int(n_samples), N_FEATURES), np.dtype(np.float32),
                           True, f"{name}.sample")


# ======================================================================
# NoiseInjector: transform with fuzzed parameters
# ======================================================================
NOISE_PARAMS = {
    "kind": [("gaussian", "ok"), ("uniform", "ok"), ("salt_and_pepper", "ok"),
             ("flip", "ok"), ("mask", "ok"), ("occlusion", "shape"), ("pink", "bad"),
             (None, "bad")],
    "level": [(0.1, "ok"), (0.0, "ok"), (1.0, "ok"), ([0.0, 0.3], "ok"), (2.0, "fraction"),
              (1e300, "maybe"), (-0.1, "bad"), (float("nan"), "bad"), (float("inf"), "bad"),
              ([], "bad"), ("0.1", "bad"), ([[0.1]], "bad"), ([0.1, -1.0], "bad"),
              (True, "bad"), (np.float32(0.2), "ok"), (np.array([0.1, 0.2]), "ok")],
    "clip": [(None, "ok"), ((0, 1), "ok"), ([-1.0, 2.0], "ok"), ((1, 0), "bad"),
             (("a", "b"), "bad"), ((0,), "bad"), ((float("nan"), 1.0), "bad"),
             ((0, 1, 2), "bad")],
    "patch_size": [(None, "ok"), (1, "ok"), (2, "ok"), (100, "patch"), (0, "bad"),
                   (1.5, "bad"), ("2", "bad")],
    "image_shape": [(None, "ok"), ((4, 4), "shape_ok"), ((1, 4, 4), "shape_ok"),
                    ((2, 8), "shape_ok"), ((3, 3), "shape_bad"), ((0, 16), "shape_bad"),
                    ((-4, -4), "shape_bad"), ("4x4", "bad"), ((16,), "shape_bad")],
    "random_state": [(0, "ok"), (None, "ok"), (np.random.RandomState(1), "ok"),
                     (-1, "bad"), ("x", "bad")],
}
FRACTION_KINDS = ("salt_and_pepper", "occlusion", "flip", "mask")


def _noise_problems(params, n_features):
    """Problems of a NoiseInjector's parameters on data of ``n_features``."""
    must, may = set(), set()
    kind = params.get("kind", ("gaussian", "ok"))[0]
    for name, (_value, status) in params.items():
        if status == "bad":
            must.add(name)
        elif status == "fraction" and kind in FRACTION_KINDS:
            must.add(name)
        elif status == "maybe":
            may.add(name)
    image_shape, shape_status = params.get("image_shape", (None, "ok"))
    if kind == "occlusion":
        if image_shape is None or shape_status == "shape_bad" or \
                (shape_status == "shape_ok" and n_features != N_FEATURES):
            must.add("image_shape")
        patch, patch_status = params.get("patch_size", (None, "ok"))
        if patch_status == "patch" and "image_shape" not in must:
            must.add("patch_size")
    elif shape_status == "shape_bad":
        may.add("image_shape")  # only occlusion uses it
    return Problems(must, may)


@st.composite
def noise_params(draw):
    names = draw(st.lists(st.sampled_from(list(NOISE_PARAMS)), max_size=3, unique=True))
    return {name: draw(st.sampled_from(NOISE_PARAMS[name])) for name in names}


def _max_abs(level):
    try:
        return float(np.max(np.abs(np.asarray(level, dtype=np.float64))))
    except (TypeError, ValueError):
        return math.inf


@settings(max_examples=n_examples(80))
@given(data=st.data())
def test_noise_injector(scratch, data):
    params = data.draw(noise_params(), label="params")
    fit_first = data.draw(st.booleans(), label="fit first")
    case = data.draw(data_cases((N_FEATURES, 1, 0, 3000)), label="X")
    X = materialize(case, scratch)
    n_feat = case.array.shape[-1] if case.array.ndim == 2 else None
    inj = NoiseInjector(**{k: v for k, (v, _) in params.items()})
    problems = case.problems | _noise_problems(params, n_feat)
    snap = snapshot(X)

    def run():
        return (inj.fit(X).transform(X) if fit_first else inj.transform(X))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok, out = attempt(run, problems, "NoiseInjector.transform")
    assert_unchanged(snap, X, "NoiseInjector")
    if not ok:
        return
    assert_not_alias(out, X, "NoiseInjector.transform")
    level = params.get("level", (0.1, "ok"))[0]
    moderate = "huge" not in case.problems.may and _max_abs(level) < HUGE
    check_float_output(out, case.array.shape, case.expect_dtype, case.finite,
                       "NoiseInjector.transform", allow_inf=not moderate)


# ======================================================================
# fit (and partial_fit) with fuzzed data and parameters
# ======================================================================
_COMMON_PARAMS = {
    "n_components": [(1, "ok"), (5, "ok"), (np.int64(3), "ok"), (0, "bad"), (-1, "bad"),
                     (2.5, "bad"), ("2", "bad"), (None, "bad")],
    "hidden_layer_sizes": [((4, 3), "ok"), ([3], "ok"), (np.array([3, 2]), "ok"), (3, "bad"),
                           ((), "maybe"), ((True,), "maybe"), ((0,), "bad"), ((-1,), "bad"),
                           (("a",), "bad"), ((2.5,), "bad"), ("abc", "bad"),
                           ([[2, 3]], "maybe")],
    "activation": [("tanh", "ok"), ("selu", "ok"), ("swish", "bad"), (None, "bad")],
    "dropout": [(0.5, "ok"), (1.0, "bad"), (-0.1, "bad"), ("0.1", "bad"),
                (float("nan"), "bad")],
    "output_activation": [("identity", "ok"), ("sigmoid", "ok"), ("softmax", "bad")],
    "loss": [("mse", "ok"), ("bce", "maybe"), ("l1", "bad")],
    "optimizer": [("sgd", "ok"), ("rmsprop", "ok"), (torch.optim.AdamW, "ok"),
                  ("lbfgs", "bad"), (42, "bad")],
    "lr": [(1e-2, "ok"), (float("inf"), "maybe"), (1e10, "maybe"), (0, "bad"), (-1, "bad"),
           ("fast", "bad"), (float("nan"), "bad")],
    "weight_decay": [(0.1, "ok"), (-1, "bad")],
    "batch_size": [(1, "ok"), (10 ** 6, "ok"), (0, "bad"), (2.5, "bad"), ("8", "bad")],
    "max_epochs": [(2, "ok"), (0, "bad"), (1.5, "bad")],
    "early_stopping": [(True, "maybe"), ("yes", "bad")],
    "validation_fraction": [(0.5, "ok"), (0.999, "maybe"), (0, "bad"), (1, "bad")],
    "patience": [(1, "ok"), (0, "bad")],
    "tol": [(0.5, "ok"), (-1, "bad")],
    "device": [("cpu", "ok"), ("tpu", "bad"),
               ("cuda", "ok" if torch.cuda.is_available() else "bad")],
    "random_state": [(None, "ok"), (np.random.RandomState(0), "ok"), (-1, "bad"),
                     ("seed", "bad")],
    "verbose": [(0, "ok"), ("loud", "bad")],
    "callbacks": [([], "ok"), ("x", "bad"), ([42], "maybe")],
}
_NETWORK_PARAMS = {
    "architecture": [("dense", "ok"), ("conv", "maybe"), ("mlp", "bad")],
    "image_shape": [((4, 4), "maybe"), ((1, 4, 4), "maybe"), ((3, 3), "maybe"),
                    ((0, 16), "bad"), ((-4, -4), "bad"), ("4x4", "bad"), ((16,), "bad")],
}
FIT_PARAMS = {
    "ae_dense": {**_COMMON_PARAMS, **_NETWORK_PARAMS},
    "ae_conv": {**_COMMON_PARAMS, **_NETWORK_PARAMS},
    "dae": {**_COMMON_PARAMS, **_NETWORK_PARAMS,
            "noise": [("uniform", "ok"), ("salt_and_pepper", "ok"), ("flip", "ok"),
                      ("mask", "ok"), ("occlusion", "maybe"),
                      (NoiseInjector("mask", 0.3), "ok"),
                      (NoiseInjector("occlusion", 0.2, image_shape=(4, 4)), "maybe"),
                      ("pink", "bad"), (None, "bad")],
            "noise_level": [(0.0, "ok"), ([0.0, 0.3], "ok"), (1.5, "maybe"), ([], "bad"),
                            (-1, "bad"), (float("nan"), "bad"), ("0.1", "bad"),
                            ([[0.1]], "bad")],
            "output": [("reconstruction", "ok"), ("both", "bad")]},
    "vae": {**_COMMON_PARAMS, **_NETWORK_PARAMS,
            "beta": [(0, "ok"), (4.0, "ok"), (-1, "bad"), (float("nan"), "bad")],
            "kl_warmup_epochs": [(3, "ok"), (-1, "bad"), (1.5, "bad")]},
    "clf": {**{k: v for k, v in _COMMON_PARAMS.items()
               if k not in ("n_components", "output_activation", "loss")},
            "freeze_encoder": [(False, "ok"), ("no", "bad")],
            "hidden_layer_sizes": [((), "ok"), ((3, 2), "ok"), ((0,), "bad"), (("a",), "bad"),
                                   ((True,), "bad"), ("abc", "bad")],
            "autoencoder": [("vae", "ok"), ("dae", "ok"), ("fitted", "maybe"),
                            ("frozen", "maybe"), ("ae", "bad"), ("pca", "bad")]},
}
ESTIMATORS = {"ae_dense": AutoencoderTransformer, "ae_conv": AutoencoderTransformer,
              "dae": DenoisingAE, "vae": VAETransformer, "clf": EncoderClassifier}


def _classifier_autoencoder(choice, models):
    return {"vae": lambda: VAETransformer(**TINY), "dae": lambda: DenoisingAE(**TINY),
            "fitted": lambda: models["ae_dense"],
            "frozen": lambda: FrozenEstimator(models["ae_dense"]),
            "ae": lambda: "ae", "pca": lambda: PCA(2)}[choice]()


@st.composite
def label_cases(draw, n_rows):
    """``(y, problems)`` for a classifier fit on ``n_rows`` samples."""
    kind = draw(st.sampled_from(["ints", "strings", "one class", "continuous",
                                 "wrong length", "nan", "column", "2-column", "None", "bools"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    y = {
        "ints": lambda: rng.integers(0, 3, n_rows),
        "strings": lambda: rng.choice(np.array(["cat", "dog", "émoji✓"]), n_rows),
        "one class": lambda: np.zeros(n_rows, dtype=int),
        "continuous": lambda: rng.normal(size=n_rows),
        "wrong length": lambda: rng.integers(0, 2, n_rows + 1),
        "nan": lambda: np.where(np.arange(n_rows) == 0, np.nan, 1.0),
        "column": lambda: rng.integers(0, 2, (n_rows, 1)),
        "2-column": lambda: rng.integers(0, 2, (n_rows, 2)),
        "None": lambda: None,
        "bools": lambda: rng.random(n_rows) > 0.5,
    }[kind]()
    must = {"labels"} if kind in ("continuous", "wrong length", "nan", "2-column", "None") \
        else set()
    if kind == "continuous" and n_rows == 0:
        must = set()
    return y, Problems(must, {"labels"}), kind


def _fit_problems(kind, params, case):
    must, may = set(), set()
    for name, (_value, status) in params.items():
        (must if status == "bad" else may if status == "maybe" else set()).add(name)
    arch = params.get("architecture", ("conv" if kind == "ae_conv" else "dense", "ok"))[0]
    n_feat = case.array.shape[1] if case.array.ndim == 2 else None
    if arch == "conv" and n_feat and "image_shape" not in params:
        side = int(round(math.sqrt(n_feat)))
        if side * side != n_feat:
            must.add("image_shape")
        may.add("hidden_layer_sizes")  # conv needs at least one block
    if "image_shape" in params:
        may.add("image_shape")
    if kind == "clf" and params.get("autoencoder", (None,))[0] in ("fitted", "frozen"):
        may.add("autoencoder")
    if kind == "dae":
        may.add("noise")  # occlusion on non-square / flat data, fraction levels > 1
    return Problems(must, may)


@pytest.mark.parametrize("kind", list(FIT_PARAMS))
@settings(max_examples=n_examples(25))
@given(data=st.data())
def test_fit(models, scratch, kind, data):
    table = FIT_PARAMS[kind]
    names = data.draw(st.lists(st.sampled_from(sorted(table)), max_size=2, unique=True),
                      label="fuzzed parameters")
    params = {name: data.draw(st.sampled_from(table[name]), label=name) for name in names}
    features = (N_FEATURES, 9, 1, 2, 17, 0, 2000)
    case = data.draw(data_cases(features, valid_features=None, max_rows=20,
                                dtypes=NUMERIC_DTYPES + ("object", "complex128", "str")),
                     label="X")
    X = materialize(case, scratch)
    problems = case.problems | _fit_problems(kind, params, case)
    values = {k: v for k, (v, _) in params.items()}
    if kind == "clf":
        values["autoencoder"] = _classifier_autoencoder(values.get("autoencoder", "vae"),
                                                        models)
        est = EncoderClassifier(**{**CLF_TINY, **values})
        y, y_problems, y_kind = data.draw(label_cases(case.n_rows), label="y")
        problems = problems | y_problems
        fit = lambda: est.fit(X, y)  # noqa: E731
    else:
        base = dict(TINY, architecture="conv") if kind == "ae_conv" else TINY
        est = ESTIMATORS[kind](**{**base, **values})
        # partial_fit on an unfitted model sets it up like fit (one epoch)
        first = data.draw(st.sampled_from(["fit", "partial_fit"]), label="first call")
        fit = lambda: getattr(est, first)(X)  # noqa: E731
    if case.problems.may & {"huge"} or "lr" in params:
        problems.may.add("huge")
    snap = snapshot(X)
    what = f"{type(est).__name__}.fit"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok, fitted = attempt(fit, problems, what)
    assert_unchanged(snap, X, what)
    if not ok:
        return
    assert fitted is est
    # the fitted model works on its own (valid) training data
    relaxed = problems.relaxed()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "clf":
            ok, out = attempt(lambda: est.predict_proba(X), relaxed, "predict_proba")
            if ok:
                check_float_output(out, (case.n_rows, len(est.classes_)), None,
                                   case.finite, "predict_proba")
            return
        ok, out = attempt(lambda: est.transform(X), relaxed, "transform after fit")
        if ok:
            width = est.n_features_in_ if getattr(est, "output", "latent") \
                == "reconstruction" else est.n_components
            check_float_output(out, (case.n_rows, width), case.expect_dtype, case.finite,
                               "transform after fit")
        # one more epoch on the same data (through a copy of the model)
        more = copy.deepcopy(est)
        unit = more.loss_ != "bce" or (case.finite and case.array.size and
                                       0 <= case.array.astype(float).min() and
                                       case.array.astype(float).max() <= 1)
        pf_problems = relaxed | Problems(set() if unit else {"unit"}, {"unit"})
        ok, out = attempt(lambda: more.partial_fit(X), pf_problems, "partial_fit")
        assert_unchanged(snap, X, "partial_fit")
        if ok:
            assert out is more and more.n_iter_ == est.n_iter_ + 1


# ======================================================================
# inputs the fuzzer found: kept as fixed cases, so that every run checks them
# ======================================================================
def _unit(n=40):
    return np.random.default_rng(0).uniform(0, 1, (n, N_FEATURES))


def _flipped(X):
    """The values of ``X`` in a view with negative strides."""
    return np.flip(np.flip(X).copy())


def _with(X, value):
    X = X.copy()
    X[0, 0] = value
    return X


def _weights_only_pickle(pickle_bytes):
    """A torch.save zip (format-1 model file) whose data.pkl is ``pickle_bytes``."""
    import zipfile

    buffer = io.BytesIO()
    torch.save({"format": "skae-model"}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for name in source.namelist():
            target.writestr(name, pickle_bytes if name.endswith("data.pkl")
                            else source.read(name))
    return out.getvalue()


def _load_bytes(content, folder):
    path = Path(folder) / f"{uuid.uuid4().hex}.skae"
    path.write_bytes(content)
    return skae.load(path)


_RECORD = {"kind": "gaussian", "level": 0.1, "mse": 0.2}
# id -> (call(models, folder), problems): the property of the fuzz tests, for
# one input each (an invalid input must raise a ValueError/TypeError naming
# the problem; a valid one must give a result)
FOUND = {
    "transform: a DataFrame without columns": (
        lambda m, f: m["ae_dense"].transform(pd.DataFrame(np.zeros((3, 0)))),
        Problems({"features"})),
    "fit: a DataFrame without columns": (
        lambda m, f: AutoencoderTransformer(**TINY).fit(pd.DataFrame(np.zeros((3, 0)))),
        Problems({"features"})),
    "fit: an array with negative strides": (
        lambda m, f: AutoencoderTransformer(**TINY).fit(_flipped(_unit())), Problems()),
    "partial_fit: an array with negative strides": (
        lambda m, f: DenoisingAE(**TINY).partial_fit(_flipped(_unit())), Problems()),
    "NoiseInjector.transform: an array with negative strides": (
        lambda m, f: NoiseInjector(random_state=0).transform(_flipped(_unit())),
        Problems()),
    "fit: output_activation='identity' with loss='auto' on data in [0, 1]": (
        lambda m, f: AutoencoderTransformer(output_activation="identity", **TINY)
        .fit(_unit()), Problems()),
    "fit: callbacks=[42]": (
        lambda m, f: AutoencoderTransformer(callbacks=[42], **TINY).fit(_unit()),
        Problems({"callbacks"})),
    "DenoisingAE.fit: a finite value beyond float32 (1e39)": (
        lambda m, f: DenoisingAE(**TINY).fit(_with(_unit(), 1e39)), Problems(set(), {"huge"})),
    "NoiseInjector: clip=(0, 1e300) on float32 data": (
        lambda m, f: NoiseInjector(clip=(0, 1e300)).transform(_unit().astype(np.float32)),
        Problems(set(), {"clip"})),
    "NoiseInjector: salt_and_pepper, clip=(-1e300, 1e300) on float32 data": (
        lambda m, f: NoiseInjector("salt_and_pepper", clip=(-1e300, 1e300))
        .transform(_unit().astype(np.float32)), Problems(set(), {"clip"})),
    "save: hidden_layer_sizes=np.array([8, 4])": (
        lambda m, f: skae.save(AutoencoderTransformer(hidden_layer_sizes=np.array([8, 4])),
                               Path(f) / "a.skae"), Problems()),
    "save: NoiseInjector(level=np.array([0.1, 0.2]))": (
        lambda m, f: skae.save(NoiseInjector(level=np.array([0.1, 0.2])),
                               Path(f) / "n.skae"), Problems()),
    "load: a pickle that pops an empty stack": (
        lambda m, f: _load_bytes(_weights_only_pickle(b"."), f), Problems({"model"})),
    "load: a pickle that reads a missing memo entry": (
        lambda m, f: _load_bytes(_weights_only_pickle(b"\x80\x02}q\x00X\x01\x00\x00\x00aq"
                                                      b"\x01h\x05s."), f),
        Problems({"model"})),
    "load: a pickle whose storage type is a string": (
        lambda m, f: _load_bytes(_weights_only_pickle(
            b"\x80\x02(X\x07\x00\x00\x00storageX\x01\x00\x00\x00xX\x01\x00\x00\x000"
            b"X\x03\x00\x00\x00cpuK\x01tQ."), f), Problems({"model"})),
    "plot_latent_space: codes in a DataFrame": (
        lambda m, f: plotting.plot_latent_space(pd.DataFrame(np.zeros((5, 2)))), Problems()),
    "plot_latent_space: codes without columns": (
        lambda m, f: plotting.plot_latent_space(np.zeros((5, 0))), Problems({"codes"})),
    "plot_latent_space: max_points=-1": (
        lambda m, f: plotting.plot_latent_space(np.zeros((5, 2)), max_points=-1),
        Problems({"max_points"})),
    "plot_latent_space: max_points='10'": (
        lambda m, f: plotting.plot_latent_space(np.zeros((5, 2)), max_points="10"),
        Problems({"max_points"})),
    "plot_latent_space: max_points=2.5": (
        lambda m, f: plotting.plot_latent_space(np.zeros((5, 2)), max_points=2.5),
        Problems({"max_points"})),
    "plot_reconstructions: rows without images": (
        lambda m, f: plotting.plot_reconstructions({"a": np.zeros((0, N_FEATURES))}),
        Problems({"empty"})),
    "plot_reconstructions: n_images=None with an estimator": (
        lambda m, f: plotting.plot_reconstructions(m["ae_dense"], _unit(5), n_images=None),
        Problems({"n_images"})),
    "plot_reconstructions: n_images=0 with an estimator": (
        lambda m, f: plotting.plot_reconstructions(m["ae_dense"], _unit(5), n_images=0),
        Problems({"n_images"})),
    "plot_samples: an estimator without sample()": (
        lambda m, f: plotting.plot_samples(m["ae_dense"]), Problems({"vae"})),
    "plot_samples: None": (lambda m, f: plotting.plot_samples(None), Problems({"vae"})),
    "plot_latent_grid: an estimator without n_components": (
        lambda m, f: plotting.plot_latent_grid(m["clf"]), Problems({"vae"})),
    "plot_latent_grid: dims=('a', 1)": (
        lambda m, f: plotting.plot_latent_grid(m["vae"], dims=("a", 1)), Problems({"dims"})),
    "plot_latent_grid: dims=None": (
        lambda m, f: plotting.plot_latent_grid(m["vae"], dims=None), Problems({"dims"})),
    "plot_latent_grid: extent=(1,)": (
        lambda m, f: plotting.plot_latent_grid(m["vae"], extent=(1,)), Problems({"extent"})),
    "plot_latent_grid: extent=5": (
        lambda m, f: plotting.plot_latent_grid(m["vae"], extent=5), Problems({"extent"})),
    "plot_latent_grid: extent=(nan, 1)": (
        lambda m, f: plotting.plot_latent_grid(m["vae"], extent=(float("nan"), 1)),
        Problems({"extent"})),
    "plot_robustness: a record without the x column": (
        lambda m, f: plotting.plot_robustness([_RECORD, {"kind": "mask", "mse": 0.3}]),
        Problems({"level"}, {"records"})),
    "plot_robustness: columns of unequal length": (
        lambda m, f: plotting.plot_robustness({"kind": ["g", "g"], "level": [0.1, 0.2],
                                               "mse": [0.1]}), Problems({"records"})),
    "plot_robustness: a record that is None": (
        lambda m, f: plotting.plot_robustness([_RECORD, None]), Problems({"records"})),
    "plot_latent_space: t-SNE of identical codes (sklearn's t-SNE segfaults)": (
        lambda m, f: plotting.plot_latent_space(np.zeros((15, 3)), method="tsne"),
        Problems({"codes"})),
    "plot_latent_space: t-SNE of codes 1e-30 apart": (
        lambda m, f: plotting.plot_latent_space(
            np.vstack([np.full((14, 3), 1e-30), [[2e-30, 1e-30, 1e-30]]]), method="tsne"),
        Problems()),
    "plot_latent_space: codes near the largest float": (
        lambda m, f: plotting.plot_latent_space(np.array([[0.0, 1e-30], [1.7e308, 0.0]])),
        Problems({"huge"})),
    "plot_reconstructions: X with 0 features": (
        lambda m, f: plotting.plot_reconstructions(m["ae_dense"], np.zeros((1, 0))),
        Problems({"features"})),
    "plot_history: a diverged loss of 1e308": (
        lambda m, f: plotting.plot_history([{"epoch": 1, "train_loss": 1e308},
                                            {"epoch": 2, "train_loss": 0.5}]), Problems()),
    "plot_robustness: metrics=5": (
        lambda m, f: plotting.plot_robustness([_RECORD], metrics=5), Problems({"metrics"})),
}


@pytest.mark.parametrize("case", list(FOUND))
def test_found_inputs(models, scratch, case):
    call, problems = FOUND[case]
    folder = Path(scratch) / uuid.uuid4().hex
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok, out = attempt(lambda: call(models, folder), problems, case)
    if ok and isinstance(out, np.ndarray) and out.dtype.kind == "f":
        assert np.isfinite(out).all(), f"{case}: non-finite output"


@pytest.mark.parametrize("value", [np.nan, np.inf, 1e300])
def test_found_cli_inputs(cli_files, scratch, value):
    """``skae reconstruct`` on a float image with one NaN / inf / 1e300 (inf in
    float32): an error line and exit status 1, not a traceback."""
    folder = Path(scratch) / uuid.uuid4().hex
    folder.mkdir()
    sio.savemat(folder / "in.mat", {"input_images": _with(_unit(3), value)})
    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        code = cli_main(["reconstruct", str(cli_files["ae_dense"]), str(folder / "in.mat"),
                         "-o", str(folder / "out.mat")])
    last = stderr.getvalue().strip().splitlines()[-1]
    assert code == 1 and last.startswith("skae reconstruct: error: "), last
    assert any(word in last.lower() for word in ("nan", "inf", "finite", "large")), last


# ======================================================================
# skae._validation (the shared input checks)
# ======================================================================
class _Bare(BaseEstimator):
    """An estimator with nothing but what validate_data needs."""


@settings(max_examples=n_examples(40))
@given(data=st.data())
def test_validate_X(scratch, data):
    case = data.draw(data_cases((N_FEATURES, 1, 0, 3000)), label="X")
    X = materialize(case, scratch)
    snap = snapshot(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok, out = attempt(lambda: validate_X(_Bare(), X, reset=True), case.problems,
                          "validate_X")
    assert_unchanged(snap, X, "validate_X")
    if ok:
        assert isinstance(out, np.ndarray) and out.shape == case.array.shape
        assert out.dtype in (np.float32, np.float64)
        if case.expect_dtype is not None:
            assert out.dtype == case.expect_dtype
        assert all(stride >= 0 for stride in out.strides), "negative strides kept"
        torch.from_numpy(out)  # torch takes it as it is


@pytest.mark.parametrize("callbacks,ok", [
    (None, True), ([], True), ([PrintLog()], True), ([("log", PrintLog())], True),
    ([PrintLog], True), ([42], False), (["x"], False), ([("log",)], False),
    ([(1, PrintLog())], False), ([("log", "x")], False)])
def test_check_callbacks(callbacks, ok):
    if ok:
        check_callbacks(callbacks)
    else:
        with pytest.raises(TypeError, match="callbacks"):
            check_callbacks(callbacks, AutoencoderTransformer())


# ======================================================================
# polars frames (only where polars is installed)
# ======================================================================
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_polars_frames(models, dtype):
    polars = pytest.importorskip("polars")
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (5, N_FEATURES)).astype(dtype)
    frame = polars.DataFrame(X, schema=[f"f{i}" for i in range(N_FEATURES)], orient="row")
    before = frame.clone()
    for name in ("ae_dense", "ae_conv", "dae", "vae"):
        Z = models[name].transform(frame)
        assert Z.shape == (5, N_COMPONENTS) and np.isfinite(Z).all()
    assert models["clf"].predict(frame).shape == (5,)
    out = NoiseInjector(random_state=0).fit_transform(frame)
    assert out.shape == X.shape
    assert frame.equals(before)


# ======================================================================
# skae.save / skae.load
# ======================================================================
SAVEABLE = ("ae_dense", "ae_conv", "dae", "dae_rec", "vae", "vae_conv", "clf",
            "clf_finetune")


def _predictions(est, X):
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.transform(X)


@pytest.fixture(scope="module")
def saved(models, tmp_path_factory):
    """name -> bytes of the model file (format 2) and of a format-1 payload."""
    folder = tmp_path_factory.mktemp("saved")
    files = {}
    for name in SAVEABLE:
        path = folder / f"{name}.skae"
        skae.save(models[name], path)
        data = path.read_bytes()
        files[name] = data
    return files


@settings(max_examples=n_examples(10))
@given(name=st.sampled_from(SAVEABLE),
       filename=st.text(st.characters(codec="utf-8", exclude_characters="/\\\x00",
                                      exclude_categories=("Cs",)), min_size=1, max_size=20)
       .filter(lambda s: s not in (".", "..")),
       as_path=st.booleans())
def test_save_load_roundtrip(models, scratch, name, filename, as_path):
    est = models[name]
    folder = Path(scratch) / uuid.uuid4().hex
    folder.mkdir()
    path = folder / filename
    target = path if as_path else str(path)
    with no_hang(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        skae.save(est, target)
        loaded = skae.load(target)
    assert type(loaded) is type(est)
    X = np.random.default_rng(1).uniform(0, 1, (7, N_FEATURES))
    np.testing.assert_allclose(_predictions(loaded, X), _predictions(est, X), rtol=1e-6)
    assert [p.name for p in folder.iterdir()] == [filename], "save left other files"


@st.composite
def damaged_files(draw, saved):
    name = draw(st.sampled_from(SAVEABLE))
    data = bytearray(saved[name])
    header = 78  # struct "<4sHQ64s"
    fmt = draw(st.sampled_from(["v2", "v1", "v2 resigned"]))
    if fmt != "v2":
        data = data[header:]  # the payload: a bare torch.save zip (format 1)
    mutation = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "empty",
                                     "garbage", "zip prefix"]))
    pos = draw(st.integers(0, max(len(data) - 1, 0)))
    if mutation == "truncate":
        data = data[:pos]
    elif mutation == "flip":
        data[pos] ^= draw(st.integers(1, 255))
    elif mutation == "overwrite":
        chunk = draw(st.binary(min_size=1, max_size=64))
        data[pos:pos + len(chunk)] = chunk
    elif mutation == "insert":
        data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
    elif mutation == "empty":
        data = bytearray()
    elif mutation == "garbage":
        data = bytearray(draw(st.binary(max_size=300)))
    else:
        data = bytearray(b"PK") + draw(st.binary(max_size=300))
    if fmt == "v2 resigned":  # a valid header around the damaged payload
        import hashlib
        import struct

        data = bytearray(struct.pack("<4sHQ64s", b"SKAE", 2, len(data),
                                     hashlib.sha256(data).hexdigest().encode())) + data
    return name, bytes(data), f"{name} {fmt} {mutation} at {pos}"


@settings(max_examples=n_examples(80))
@given(data=st.data())
def test_load_damaged_file(saved, scratch, data):
    name, content, desc = data.draw(damaged_files(saved), label="file")
    path = Path(scratch) / f"{uuid.uuid4().hex}.skae"
    path.write_bytes(content)
    try:
        with no_hang():
            loaded = skae.load(path)
    except ModelFileError as exc:
        message = str(exc)
        assert str(path) in message and len(message) > len(str(path)) + 10, message
        return
    # The damage went unnoticed: only possible without a checksum (format 1, or
    # a re-signed payload), e.g. in a weight. The model must still behave:
    # a result or the documented non-finite-output error, no crash.
    X = np.random.default_rng(1).uniform(0, 1, (3, N_FEATURES))
    assert "resigned" in desc or " v1 " in desc, f"{desc}: loaded a damaged v2 file"
    ok, out = attempt(lambda: _predictions(loaded, X), Problems(set(), {"huge"}),
                      f"a model loaded from a damaged file ({desc})")
    if ok:
        assert out.shape[0] == 3, desc


SAVE_OBJECTS = {
    "int": (lambda m: 42, "bad"),
    "None": (lambda m: None, "bad"),
    "pca": (lambda m: PCA(2), "ok"),  # any scikit-learn estimator (skops for its parts)
    "class": (lambda m: AutoencoderTransformer, "bad"),
    "ae hidden array1": (lambda m: AutoencoderTransformer(hidden_layer_sizes=np.array([4])),
                         "ok"),
    "ae hidden array2": (lambda m: AutoencoderTransformer(
        hidden_layer_sizes=np.array([8, 4])), "ok"),
    "ae numpy ints": (lambda m: AutoencoderTransformer(n_components=np.int64(3),
                                                       lr=np.float32(0.01)), "ok"),
    "ae optimizer class": (lambda m: AutoencoderTransformer(optimizer=torch.optim.SGD), "ok"),
    "ae custom optimizer": (lambda m: AutoencoderTransformer(optimizer=_MyOptimizer), "maybe"),
    "ae RandomState": (lambda m: AutoencoderTransformer(
        random_state=np.random.RandomState(0)), "maybe"),
    "noise level array": (lambda m: NoiseInjector(level=np.array([0.1, 0.2]),
                                                  clip=(0, 1)), "ok"),
    "noise injector fitted": (lambda m: NoiseInjector().fit(np.zeros((2, 3))), "ok"),
    "dae with injector": (lambda m: DenoisingAE(noise=NoiseInjector("mask", 0.3)), "ok"),
    "clf with fitted ae": (lambda m: EncoderClassifier(m["ae_dense"]), "ok"),
    "fitted clf": (lambda m: m["clf"], "ok"),
    "frozen ae": (lambda m: EncoderClassifier(FrozenEstimator(m["ae_dense"])), "maybe"),
}


class _MyOptimizer(torch.optim.SGD):
    pass


@settings(max_examples=n_examples(16))
@given(key=st.sampled_from(sorted(SAVE_OBJECTS)),
       where=st.sampled_from(["file", "missing folder", "folder itself"]))
def test_save_objects(models, scratch, key, where):
    make, status = SAVE_OBJECTS[key]
    obj = make(models)
    folder = Path(scratch) / uuid.uuid4().hex
    folder.mkdir()
    path = {"file": folder / "m.skae", "missing folder": folder / "nope" / "m.skae",
            "folder itself": folder}[where]
    try:
        with no_hang(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            skae.save(obj, path)
    except (TypeError, ValueError) as exc:
        assert status != "ok" or where != "file", f"save({key}) raised {exc!r}"
        message = str(exc)
        assert message and ("estimator" in message or "parameter" in message
                            or "save" in message), f"save({key}): {message!r}"
        return
    except OSError as exc:  # documented: the file cannot be written
        assert where != "file", exc
        assert str(exc)
        return
    assert where == "file", f"save({key}) to {where} did not fail"
    assert status != "bad", f"save({key}) saved something that is not an estimator"
    loaded = skae.load(path)
    assert type(loaded) is type(obj)
    for pname, value in obj.get_params(deep=False).items():
        if pname == "callbacks" or hasattr(value, "get_params"):
            continue
        got = loaded.get_params(deep=False)[pname]
        assert _equivalent(got, value), f"parameter {pname} came back as {got!r}, " \
                                        f"saved {value!r}"


def _equivalent(a, b):
    """Same parameter value up to container type (tuple/list/array)."""
    if isinstance(a, np.random.RandomState) or isinstance(b, np.random.RandomState):
        return True  # its state cannot be compared by value here
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        try:
            return bool(np.array_equal(np.asarray(a, dtype=object).ravel(),
                                       np.asarray(b, dtype=object).ravel()))
        except (TypeError, ValueError):
            return False
    return a is b or a == b


# ======================================================================
# skae.plotting
# ======================================================================
IMAGE_SHAPES_16 = [(None, "ok"), ((4, 4), "ok"), ((1, 4, 4), "ok"), ((2, 8), "ok"),
                   ((4, 2, 2), "ok"), ((3, 3), "bad"), ((16,), "bad"), ((-4, -4), "bad"),
                   ((0, 16), "bad"), ((2, 2, 4), "bad"), ("4x4", "bad")]
POSITIVE_INT = [(3, "ok"), (1, "ok"), (10, "ok"), (np.int64(2), "ok"), (0, "bad"),
                (-1, "bad"), (2.5, "bad"), ("3", "bad"), (None, "bad"), (True, "maybe")]
PLOT_DTYPES = ("float64", "float32", "uint8", "int64", "bool", "object", "complex128", "str")


def _param_problems(**params):
    """Problems from ``name=(value, status)`` pairs."""
    must = {k for k, (_, s) in params.items() if s == "bad"}
    may = {k for k, (_, s) in params.items() if s == "maybe"}
    return Problems(must, may)


def check_figure(fn, problems, what):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok, fig = attempt(fn, problems, what)
    if ok:
        assert isinstance(fig, Figure), f"{what} returned {type(fig).__name__}"
        fig.canvas.draw()  # the figure renders
    plt.close("all")
    return ok


@settings(max_examples=n_examples(25))
@given(data=st.data())
def test_plot_reconstructions(models, scratch, data):
    mode = data.draw(st.sampled_from(["rows", "estimator"]), label="mode")
    n_images = data.draw(st.sampled_from(POSITIVE_INT), label="n_images")
    image_shape = data.draw(st.sampled_from(IMAGE_SHAPES_16), label="image_shape")
    params = _param_problems(n_images=n_images, image_shape=image_shape)
    case = data.draw(data_cases((N_FEATURES, 1, 0), valid_features={N_FEATURES},
                                dtypes=PLOT_DTYPES, max_rows=6), label="X")
    X = materialize(case, scratch)
    snap = snapshot(X)
    if mode == "rows":
        other = data.draw(st.sampled_from(["same", "none", "other width"]), label="row 2")
        rows = {"original": X}
        if other == "same":
            rows["copy"] = np.array(case.array, copy=True)
        elif other == "other width":
            rows["wide"] = np.zeros((3, N_FEATURES + 1))
            params.must.add("features")
        problems = params | case.problems.relaxed()
        if case.array.ndim == 2 and case.array.shape[1] != N_FEATURES:
            problems.may.add("features")
        if case.array.ndim == 1:  # read as len(X) images of one pixel
            problems.may |= {"ndim", "image_shape"}
        if case.n_rows == 0:
            problems.must.add("empty")
        fn = lambda: plotting.plot_reconstructions(  # noqa: E731
            rows, n_images=n_images[0], image_shape=image_shape[0])
    else:
        est = models[data.draw(st.sampled_from(["ae_dense", "vae"]), label="estimator")]
        noisy = data.draw(st.sampled_from(["none", "same shape", "other shape"]),
                          label="X_noisy")
        X_noisy = {"none": None, "same shape": np.array(case.array, copy=True),
                   "other shape": np.zeros((2, 3))}[noisy]
        problems = params | case.problems
        if noisy == "other shape":
            problems.must.add("X_noisy")
            problems.may.add("shape")
        fn = lambda: plotting.plot_reconstructions(  # noqa: E731
            est, X, X_noisy=X_noisy, n_images=n_images[0], image_shape=image_shape[0])
    check_figure(fn, problems, "plot_reconstructions")
    assert_unchanged(snap, X, "plot_reconstructions")


@settings(max_examples=n_examples(25))
@given(data=st.data())
def test_plot_latent_space(models, scratch, data):
    mode = data.draw(st.sampled_from(["codes", "estimator"]), label="mode")
    method = data.draw(st.sampled_from([("auto", "ok"), ("pca", "ok"), ("tsne", "ok"),
                                        ("umap", "bad"), (None, "bad")]), label="method")
    max_points = data.draw(st.sampled_from([(2000, "ok"), (None, "ok"), (10, "ok"),
                                            (1, "ok"), (0, "maybe"), (-1, "bad"),
                                            (2.5, "bad"), ("10", "bad")]), label="max_points")
    labels = data.draw(st.sampled_from(["none", "ints", "strings", "short", "names ok",
                                        "names short"]), label="y")
    max_rows = 15 if method[0] == "tsne" else 40
    if mode == "codes":
        case = data.draw(data_cases((N_COMPONENTS, 1, 5, 0), valid_features=None,
                                    dtypes=PLOT_DTYPES, max_rows=max_rows), label="Z")
        if method[0] == "tsne" and case.n_rows > 20:
            method = ("pca", "ok")
        Z = materialize(case, scratch)
        X, subject = None, Z
        problems = case.problems.relaxed()
        if case.array.ndim != 2 or case.n_rows == 0:
            problems.must.add("codes")
        if case.array.ndim == 2 and case.array.shape[1] == 0 and case.n_rows:
            problems.must.add("codes")
        if not case.finite:
            problems.may |= {"nan", "inf", "string"}
    else:
        case = data.draw(data_cases((N_FEATURES,), valid_features={N_FEATURES},
                                    dtypes=PLOT_DTYPES, max_rows=max_rows), label="X")
        if method[0] == "tsne" and case.n_rows > 20:
            method = ("pca", "ok")
        X = materialize(case, scratch)
        subject = models["ae_dense"]
        problems = case.problems
    n = case.n_rows
    y, target_names = None, None
    if labels in ("ints", "names ok", "names short"):
        y = np.arange(n) % 3
    elif labels == "strings":
        y = np.array(["x", "y"] * n)[:n]
    elif labels == "short":
        y = np.zeros(max(n - 1, 0))
        if n:
            problems.must.add("y")
    if labels == "names ok":
        target_names = ["zero", "one", "two"]
    elif labels == "names short":
        target_names = ["zero"]
        if n > 1:  # names are checked against every label, before the subset
            problems.must.add("target_names")
    # PCA and TSNE need a few points (TSNE more than its perplexity)
    problems.may |= {"perplexity", "sample"}
    if method[0] == "tsne":  # identical codes cannot be spread
        problems.may.add("codes")
    problems = problems | _param_problems(method=method, max_points=max_points)
    if max_points[0] == 0:
        problems.may |= {"sample", "empty"}
    snap = snapshot(subject if mode == "codes" else X)
    check_figure(lambda: plotting.plot_latent_space(
        subject, X, y, method=method[0], target_names=target_names,
        max_points=max_points[0], random_state=0), problems, "plot_latent_space")
    assert_unchanged(snap, subject if mode == "codes" else X, "plot_latent_space")


@settings(max_examples=n_examples(20))
@given(vae=st.sampled_from([("vae", "ok"), ("vae_conv", "ok"), ("ae_dense", "bad"),
                            (None, "bad")]),
       n_samples=st.sampled_from([(4, "ok")] + POSITIVE_INT),
       image_shape=st.sampled_from(IMAGE_SHAPES_16),
       random_state=st.sampled_from([(0, "ok"), (None, "ok"), (-1, "bad"), ("x", "bad")]))
def test_plot_samples(models, vae, n_samples, image_shape, random_state):
    est = models.get(vae[0])
    problems = _param_problems(vae=vae, n_samples=n_samples, image_shape=image_shape,
                               random_state=random_state)
    check_figure(lambda: plotting.plot_samples(
        est, n_samples[0], image_shape=image_shape[0], random_state=random_state[0]),
        problems, "plot_samples")


@settings(max_examples=n_examples(20))
@given(vae=st.sampled_from([("vae", "ok"), ("ae_dense", "ok"), ("clf", "bad"),
                            (None, "bad")]),
       n=st.sampled_from([(5, "ok"), (2, "ok"), (1, "bad"), (0, "bad"), (2.5, "bad"),
                          ("5", "bad"), (None, "bad")]),
       dims=st.sampled_from([((0, 1), "ok"), ((1, 0), "ok"), ((0, 0), "bad"),
                             ((0, 2), "bad"), ((-1, 0), "bad"), ((0,), "bad"),
                             ((0, 1, 1), "bad"), (("a", 1), "bad"), (None, "bad"),
                             (np.array([1, 0]), "ok")]),
       extent=st.sampled_from([(None, "ok"), ((-1, 1), "ok"), ((2, -2), "ok"),
                               ((0, 0), "maybe"), ((float("nan"), 1), "bad"),
                               ((-np.inf, np.inf), "bad"), (("a", "b"), "bad"),
                               ((1,), "bad"), (5, "bad"), ((-1e300, 1e300), "maybe")]),
       image_shape=st.sampled_from(IMAGE_SHAPES_16))
def test_plot_latent_grid(models, vae, n, dims, extent, image_shape):
    est = models.get(vae[0])
    problems = _param_problems(vae=vae, n=n, dims=dims, extent=extent,
                               image_shape=image_shape)
    check_figure(lambda: plotting.plot_latent_grid(
        est, n[0], dims=dims[0], extent=extent[0], image_shape=image_shape[0]),
        problems, "plot_latent_grid")


HISTORY_VALUES = [(0.5, "ok"), (1e-3, "ok"), (0.0, "ok"), (float("nan"), "nan"),
                  (None, "ok"), (float("inf"), "ok"), (-1.0, "ok"), ("a", "string"),
                  (1e308, "ok"), (np.float32(0.25), "ok")]


@st.composite
def histories(draw):
    n = draw(st.integers(0, 5))
    records, must, may = [], set(), set()
    for i in range(n):
        record = {}
        for key in draw(st.lists(st.sampled_from(["epoch", "train_loss", "valid_loss",
                                                  "valid_acc", "dur"]),
                                 unique=True, max_size=5)):
            if key == "epoch":
                record[key] = i + 1
                continue
            value, status = draw(st.sampled_from(HISTORY_VALUES))
            record[key] = value
            if status != "ok":
                may.add(status)
        records.append(record)
    if not records:
        must.add("records")
    if draw(st.booleans()) and records:
        records.append(draw(st.sampled_from(["epoch 3", 3, None, ["train_loss"]])))
        must.add("records")
    may |= {"nan", "records"}  # e.g. an all-NaN validation loss has no best epoch
    return records, Problems(must, may)


@settings(max_examples=n_examples(25))
@given(source=st.sampled_from(["estimator", "records", "mapping", "empty mapping",
                               "not a history"]),
       name=st.sampled_from(["ae_dense", "vae", "clf", "clf_finetune"]),
       records=histories(), log=st.booleans(),
       with_ax=st.booleans())
def test_plot_history(models, source, name, records, log, with_ax):
    records, problems = records
    if source == "estimator":
        obj, problems = models[name], Problems()
    elif source == "records":
        obj = records
    elif source == "mapping":
        obj = {"model": models[name], "records": records}
    elif source == "empty mapping":
        obj, problems = {}, Problems({"history"})
    else:
        obj, problems = 42, Problems({"records"})
    ax = plt.subplots()[1] if with_ax else None
    if with_ax and isinstance(obj, dict):
        problems = problems | Problems({"ax"} if obj else set(), {"ax"})
    snap = snapshot(records)
    check_figure(lambda: plotting.plot_history(obj, log=log, ax=ax), problems,
                 "plot_history")
    assert_unchanged(snap, records, "plot_history")


ROBUSTNESS_LEVELS = [(0.1, "ok"), (0.3, "ok"), (0, "ok"), ([0.0, 0.2], "ok"),
                     ("high", "ok"), (float("nan"), "maybe"), (None, "maybe"),
                     (np.float64(0.2), "ok")]
ROBUSTNESS_METRICS = [(0.05, "ok"), (0.9, "ok"), (float("nan"), "ok"), (None, "ok"),
                      (float("inf"), "ok"), ("n/a", "maybe"), (np.float32(0.5), "ok")]


@st.composite
def robustness_reports(draw):
    """``(report, problems)``: tidy records in one of the accepted containers."""
    may = {"records", "metric", "column"}
    must = set()
    records = []
    for _ in range(draw(st.integers(0, 6))):
        level, s1 = draw(st.sampled_from(ROBUSTNESS_LEVELS))
        mse, s2 = draw(st.sampled_from(ROBUSTNESS_METRICS))
        acc, s3 = draw(st.sampled_from(ROBUSTNESS_METRICS))
        records.append({"kind": draw(st.sampled_from(["gaussian", "mask", "clean"])),
                        "level": level, "mse": mse, "acc_model": acc,
                        "input": draw(st.sampled_from(["noisy", "ae", "pca"]))})
    if records and draw(st.booleans()):  # one record lacks a column
        drop = draw(st.sampled_from(["kind", "level", "mse", "input"]))
        del records[draw(st.integers(0, len(records) - 1))][drop]
        may.add(drop)
    container = draw(st.sampled_from(["list", "dict of lists", "frame", "ragged dict",
                                      "list with a non-record"]))
    if not records:
        must.add("records")
    if container == "list":
        report = records
    elif container in ("dict of lists", "ragged dict"):
        keys = list(dict.fromkeys(k for r in records for k in r))
        report = {k: [r.get(k) for r in records] for k in keys}
        if container == "ragged dict" and keys:
            report[keys[-1]] = report[keys[-1]][:-1]
            must.add("records")
    elif container == "frame":
        report = pd.DataFrame(records)
    else:
        report = records + [draw(st.sampled_from([None, 3, "kind", ["kind", "level"]]))]
        must.add("records")
    return report, Problems(must, may), container


@settings(max_examples=n_examples(25))
@given(report=robustness_reports(),
       metrics=st.sampled_from([(None, "ok"), ("mse", "ok"), (["mse"], "ok"),
                                (["mse", "acc_model"], "ok"), ("nope", "bad"),
                                ([], "bad"), (5, "bad"), ([["mse"]], "bad")]),
       x=st.sampled_from([("level", "ok"), ("nope", "bad")]),
       by=st.sampled_from([("kind", "ok"), ("input", "ok"), ("nope", "bad")]),
       style=st.sampled_from([("input", "ok"), (None, "ok"), ("kind", "ok"),
                              ("nope", "ok")]),
       n_axes=st.sampled_from([None, 1, 2, 3]))
def test_plot_robustness(report, metrics, x, by, style, n_axes):
    report, problems, container = report
    problems = problems | _param_problems(metrics=metrics, x=x, by=by)
    if n_axes is not None:
        problems.may.add("ax")
        ax = plt.subplots(1, n_axes)[1]
    else:
        ax = None
    snap = snapshot(report)
    check_figure(lambda: plotting.plot_robustness(
        report, metrics[0], x=x[0], by=by[0], style=style[0], ax=ax),
        problems, "plot_robustness")
    assert_unchanged(snap, report, "plot_robustness")


# ======================================================================
# skae reconstruct (the CLI)
# ======================================================================
@pytest.fixture(scope="module")
def cli_files(models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    files = {}
    for name in ("ae_conv", "ae_dense", "vae"):
        files[name] = folder / f"{name}.skae"
        skae.save(models[name], files[name])
    files["damaged"] = folder / "damaged.skae"
    files["damaged"].write_bytes(files["ae_dense"].read_bytes()[:500])
    files["missing"] = folder / "missing.skae"
    files["folder"] = folder
    return files


CLI_DTYPES = ("uint8", "float64", "float32", "int16", "int64", "uint16", "bool",
              "complex128", "str")
CLI_LAYOUTS = ("N x F", "F x N", "N x H x W", "H x W x N", "H x W", "N x 15", "0 x F",
               "N x H x W x 1")


@st.composite
def cli_cases(draw):
    dtype = draw(st.sampled_from(CLI_DTYPES))
    layout = draw(st.sampled_from(CLI_LAYOUTS))
    n = draw(st.sampled_from([3, 1, 16, 300]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    values = draw(st.sampled_from(["unit", "pixels", "std", "specials"]))
    base = {"unit": lambda s: rng.uniform(0, 1, s), "pixels": lambda s: rng.uniform(0, 255, s),
            "std": lambda s: rng.normal(size=s), "specials": lambda s: rng.uniform(0, 1, s)}
    shape = {"N x F": (n, N_FEATURES), "F x N": (N_FEATURES, n), "N x H x W": (n, 4, 4),
             "H x W x N": (4, 4, n), "H x W": (4, 4), "N x 15": (n, 15), "0 x F": (0, 16),
             "N x H x W x 1": (n, 4, 4, 1)}[layout]
    a = base[values](shape)
    chosen = []
    if values == "specials" and a.size:
        chosen = draw(st.lists(st.sampled_from(range(len(SPECIALS))), min_size=1,
                               max_size=2))
        for k, index in enumerate(chosen):
            a.flat[(k * 7) % a.size] = SPECIALS[index][1]
    must, may = set(), set()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype in ("uint8", "int16", "int64", "uint16"):
            info = np.iinfo(dtype)
            a = np.clip(np.nan_to_num(np.rint(a), nan=0, posinf=info.max, neginf=info.min),
                        max(info.min, -2 ** 62), min(info.max, 2 ** 62)).astype(dtype)
        elif dtype == "bool":
            a = a > 0.5
        elif dtype == "complex128":
            a = a + 1j
            must.add("numeric")
        elif dtype == "str":
            a = np.array([["ab"] * 4] * 4)
            must.add("numeric")
        else:
            a = a.astype(dtype)
    if a.size == 0:
        must.add("numeric")
    if layout == "N x H x W x 1" and a.size or layout == "N x 15" and n != N_FEATURES:
        must.add("layout")  # (16, 15) is F x N: 15 images
    if a.dtype.kind == "f":
        _tag_special_values(a, must, may)
    desc = (f"{layout} {shape} {dtype} values={values} "
            f"specials={[SPECIALS[i][0] for i in chosen]}")
    return a, Problems(must, may), desc


@settings(max_examples=n_examples(50))
@given(data=st.data())
def test_cli_reconstruct(cli_files, scratch, data):
    array, problems, desc = data.draw(cli_cases(), label="array")
    model = data.draw(st.sampled_from(["ae_conv", "ae_dense", "vae", "damaged", "missing",
                                       "folder"]), label="model")
    key_mode = data.draw(st.sampled_from(["input_images", "only variable", "--key",
                                          "wrong --key", "several variables"]), label="key")
    scale = data.draw(st.sampled_from([None, "auto", "255", "1", "2"]), label="--scale")
    folder = Path(scratch) / uuid.uuid4().hex
    folder.mkdir()
    src, out = folder / "in.mat", folder / "out.mat"
    key = "input_images" if key_mode == "input_images" else "imgs"
    variables = {key: array}
    if key_mode == "several variables":
        variables["other"] = np.zeros((2, 2))
        problems.must.add("several")
        problems.may.add("--key")
    sio.savemat(src, variables)
    src_bytes = src.read_bytes()
    argv = ["reconstruct", str(cli_files[model]), str(src), "-o", str(out)]
    if key_mode == "--key":
        argv += ["--key", key]
    elif key_mode == "wrong --key":
        argv += ["--key", "nope"]
        problems = problems | Problems({"key"})
    if scale is not None:
        argv += ["--scale", scale]
    if model in ("damaged", "missing", "folder"):
        problems = problems | Problems({"model"})
    stored = sio.loadmat(src)[key]
    if model in ("ae_conv", "vae") and stored.dtype.kind in "biuf" and stored.size:
        # bce models need values in [0, 1] after the --scale division
        divide = scale == "255" or scale in (None, "auto") and stored.dtype.kind in "iu"
        with np.errstate(all="ignore"):
            scaled = stored.astype(np.float32) / (255.0 if divide else 1.0)
        if np.isfinite(scaled).all() and (scaled.min() < 0 or scaled.max() > 1):
            problems.must.add("unit")
    if scale == "2":
        problems = Problems({"scale"})
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            warnings.catch_warnings(), no_hang():
        warnings.simplefilter("ignore")
        try:
            code = cli_main(argv)
        except SystemExit as exc:
            code = ("exit", exc.code)
    err = stderr.getvalue()
    where = f"skae {' '.join(argv[:1] + argv[4:])} on {desc} ({model}, {key_mode})"
    assert src.read_bytes() == src_bytes, f"{where} modified its input file"
    if code == ("exit", 2):
        assert scale == "2", f"{where}: argparse exit 2\n{err}"
        assert "invalid choice" in err
        return
    assert code in (0, 1), f"{where} returned {code!r}\n{err}"
    if code == 1:
        lines = err.strip().splitlines()
        assert lines and lines[-1].startswith("skae reconstruct: error: "), err
        message = lines[-1][len("skae reconstruct: error: "):]
        assert "Traceback" not in err
        check_error(ValueError(message), problems, where)
        return
    assert not problems.must, f"{where} succeeded on an invalid input {problems.must}"
    assert out.exists(), f"{where} reported success but wrote no file"
    result = sio.loadmat(out)[key]
    assert result.shape == stored.shape and result.dtype == stored.dtype, (
        f"{where}: wrote {result.shape} {result.dtype} for {stored.shape} {stored.dtype}")
    if result.dtype.kind == "f" and np.isfinite(stored).all():
        assert np.isfinite(result).all(), f"{where} wrote non-finite values"
    assert "reconstructed" in stdout.getvalue()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "--hypothesis-show-statistics"]))
