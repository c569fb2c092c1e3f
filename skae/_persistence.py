"""``skae.save`` / ``skae.load``: model files that load without running pickle.

A model file is a short header followed by a payload::

    b"SKAE" | format version (uint16) | payload length (uint64) | sha256 hex (64 bytes)

all little-endian; the magic and the version come first in every format
version. The payload is written by :func:`torch.save` and holds only plain
containers, strings and tensors: the estimator's class name, its parameters
and fitted metadata as a JSON string, and the network weights as tensors.
:func:`load` checks the header, the length and the checksum before it reads
the payload with ``torch.load(weights_only=True, map_location="cpu")``, so no
arbitrary code runs and a model trained on a GPU loads on any CPU machine.
Files of format version 1 (a bare :func:`torch.save` zip, no header) still load.

Format version 3 holds a scikit-learn object that contains skae estimators
(a Pipeline, a ColumnTransformer, a fitted GridSearchCV, ...): the payload
adds the object's skeleton, persisted with skops (:mod:`skae._skeleton`: each
skae estimator replaced by a placeholder), as a uint8 tensor, and its
"estimator" entry lists the skae estimators in skae's own JSON. Loading it
runs ``skops.io.loads`` trusting skops' default types, skae's placeholder and
the types the caller names, nothing else. A single skae estimator is still
written as version 2, which skae releases before version 3 read.

Estimators take part through two methods: ``_get_fitted_state()`` returns
``(json-able dict, {name: tensor})`` and ``_set_fitted_state(state, tensors)``
rebuilds the fitted attributes on a freshly constructed estimator.
"""

import hashlib
import inspect
import io
import json
import os
import pickle
import struct
import warnings

import torch
from sklearn.base import BaseEstimator

from . import _skeleton
from ._io import atomic_write
from ._registry import ESTIMATORS
from ._validation import is_fitted

FORMAT = "skae-model"
#: the newest format version this skae reads and writes
FORMAT_VERSION = 3
#: the version of a file holding one skae estimator
ESTIMATOR_VERSION = 2
#: the version of a file holding a scikit-learn object with skae estimators
OBJECT_VERSION = 3
#: the versions whose files start with the header
_HEADER_VERSIONS = (ESTIMATOR_VERSION, OBJECT_VERSION)
MAGIC = b"SKAE"
_HEADER = struct.Struct("<4sHQ64s")  # magic, format version, payload length, sha256 hex


class ModelFileError(ValueError):
    """A file that :func:`skae.load` cannot read as a skae model.

    Raised for an empty, truncated, damaged (checksum mismatch) or foreign
    file, a file written by a newer skae, a directory, and a file whose
    contents do not rebuild an estimator. The message names the path and what
    is wrong. A missing file raises :class:`FileNotFoundError` instead.
    """


def _error(path, reason):
    return ModelFileError(f"cannot load {os.fspath(path)!s}: {reason}.")


def _brief(exc):
    """The first 300 characters of an exception's message, on one line."""
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def encode_value(value):
    """A parameter value as JSON-able data (nested skae estimators included)."""
    if isinstance(value, BaseEstimator):
        return encode_estimator(value)
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(v) for v in value]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if inspect.isclass(value) and issubclass(value, torch.optim.Optimizer) \
            and getattr(torch.optim, value.__name__, None) is value:
        return {"__torch_optimizer__": value.__name__}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays (array-like parameters)
        return encode_value(value.tolist())
    raise TypeError(f"cannot save a parameter of type {type(value).__name__}")


def decode_value(value, tensors):
    if isinstance(value, list):
        return [decode_value(v, tensors) for v in value]
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(decode_value(v, tensors) for v in value["__tuple__"])
    if isinstance(value, dict) and "__skae_estimator__" in value:
        return decode_estimator(value, tensors)
    if isinstance(value, dict) and "__torch_optimizer__" in value:
        return getattr(torch.optim, value["__torch_optimizer__"])
    return value


def encode_estimator(est, tensors=None, prefix="est"):
    """JSON-able description of ``est``; its tensors go into ``tensors``."""
    name = type(est).__name__
    if ESTIMATORS.get(name) is not type(est):
        raise TypeError(f"skae.save only saves skae estimators, not {name}")
    params = {}
    for key, value in est.get_params(deep=False).items():
        if key == "callbacks" and value:
            warnings.warn("skae.save does not store callbacks (they only affect "
                          "training); the loaded estimator has callbacks=None.",
                          stacklevel=2)
            value = None
        if isinstance(value, BaseEstimator):
            params[key] = encode_estimator(value, tensors, f"{prefix}.{key}")
        else:
            params[key] = encode_value(value)
    out = {"__skae_estimator__": name, "params": params, "prefix": prefix}
    if tensors is not None and is_fitted(est) and hasattr(est, "_get_fitted_state"):
        state, est_tensors = est._get_fitted_state()
        out["fitted"] = _encode_state(state, tensors, prefix)
        for key, tensor in est_tensors.items():
            tensors[f"{prefix}/{key}"] = tensor.detach().cpu()
    return out


def _encode_state(state, tensors, prefix):
    encoded = {}
    for key, value in state.items():
        if isinstance(value, BaseEstimator):
            encoded[key] = encode_estimator(value, tensors, f"{prefix}.{key}")
        else:
            encoded[key] = value
    return encoded


def decode_estimator(desc, tensors):
    name = desc["__skae_estimator__"]
    cls = ESTIMATORS.get(name)
    if cls is None:
        raise ValueError(f"unknown estimator class {name!r}")
    params = {k: decode_value(v, tensors) for k, v in desc["params"].items()}
    est = cls(**params)
    if "fitted" in desc:
        prefix = desc["prefix"] + "/"
        own = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        state = {k: decode_value(v, tensors) for k, v in desc["fitted"].items()}
        est._set_fitted_state(state, own)
    return est


def save(estimator, path):
    """Save a skae estimator, or a pipeline holding skae estimators, atomically.

    A skae estimator's parameters are stored as JSON and its weights as
    tensors, so :func:`load` never runs pickle. A scikit-learn object that
    contains skae estimators (a :class:`~sklearn.pipeline.Pipeline`, a
    :class:`~sklearn.compose.ColumnTransformer`, a fitted
    :class:`~sklearn.model_selection.GridSearchCV`, ...) is stored in two
    parts in the one file: the object with each skae estimator replaced by a
    placeholder, in skops' format (:mod:`skops.io`, which also loads without
    pickle; skae's ``skops`` extra), and its skae estimators in skae's own
    format. Callbacks are not stored (a warning says so).

    The file is written to a temporary file in the same directory, synced
    to disk and then renamed onto ``path``: a failed or killed save never
    leaves a partial file under ``path``, and an existing file there stays
    as it was. A sha256 checksum lets :func:`load` detect any damage.

    Parameters
    ----------
    estimator : skae estimator or scikit-learn object containing skae estimators
        An instance of one of skae's estimator classes, fitted or not (its
        parameters may be numbers, strings, None, tuples, lists, arrays,
        ``torch.optim`` optimizer classes and skae estimators, saved along),
        or a scikit-learn estimator, fitted or not, that may hold skae
        estimators anywhere in its parameters or fitted attributes and
        whose other parts skops can save.
    path : str or path-like
        The file to write; its directory must exist. An existing file is
        replaced.

    Raises
    ------
    TypeError
        If ``estimator`` is not a scikit-learn estimator, a parameter cannot
        be saved, or skops cannot save the scikit-learn part.
    ImportError
        If a scikit-learn object is saved and skops is not installed.
    OSError
        If the file cannot be written (``path``'s directory is missing, the
        disk is full, ...).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> import skae
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = skae.AutoencoderTransformer(n_components=4, max_epochs=2,
    ...                                  random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "ae.skae")
    >>> skae.save(ae, path)
    >>> bool(np.allclose(skae.load(path).transform(X), ae.transform(X)))
    True

    A pipeline, with scikit-learn steps around the autoencoder:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> pipe = make_pipeline(skae.AutoencoderTransformer(n_components=8, max_epochs=2,
    ...                                                  random_state=0),
    ...                      LogisticRegression(max_iter=300)).fit(X, y)
    >>> skae.save(pipe, path)
    >>> bool((skae.load(path).predict(X) == pipe.predict(X)).all())
    True
    """
    tensors = {}
    if ESTIMATORS.get(type(estimator).__name__) is type(estimator):
        version = ESTIMATOR_VERSION
        contents = {"estimator": json.dumps(encode_estimator(estimator, tensors))}
    else:
        version = OBJECT_VERSION
        contents = _encode_object(estimator, tensors)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "format_version": version, **contents,
                "tensors": tensors}, buffer)
    payload = buffer.getbuffer()
    header = _HEADER.pack(MAGIC, version, len(payload),
                          hashlib.sha256(payload).hexdigest().encode())

    def write(f):
        f.write(header)
        f.write(payload)

    atomic_write(path, write)


def _encode_object(obj, tensors):
    """The payload entries of a scikit-learn object holding skae estimators."""
    name = type(obj).__name__
    if not isinstance(obj, BaseEstimator):
        raise TypeError(f"skae.save saves skae estimators and scikit-learn estimators "
                        f"(which may contain skae estimators), not {name}.")
    try:
        skeleton, estimators = _skeleton.split(obj)  # a deepcopy, which may fail
    except Exception as exc:  # noqa: BLE001
        raise TypeError(f"skae.save cannot save the {name}: copying it around its skae "
                        f"estimators failed ({_brief(exc)}).") from exc
    descs = [encode_estimator(est, tensors, f"step{i}") for i, est in enumerate(estimators)]
    skops_io = _skeleton.skops_io()
    try:
        data = skops_io.dumps(skeleton)
    except Exception as exc:  # noqa: BLE001 - skops refuses objects in many ways
        raise TypeError(f"skops cannot save the {name} around its skae estimators "
                        f"({_brief(exc)}).") from exc
    return {"estimator": json.dumps({"__sklearn_object__": name, "skae_estimators": descs}),
            "skeleton": torch.frombuffer(bytearray(data), dtype=torch.uint8)}


def _trusted_names(trusted):
    if trusted is None:
        return set()
    if isinstance(trusted, (str, type)):
        trusted = [trusted]
    return {t if isinstance(t, str) else f"{t.__module__}.{t.__qualname__}" for t in trusted}


def _decode_object(contents, path, trusted):
    """The scikit-learn object of a format-3 payload, its skae estimators put back."""
    desc = json.loads(contents["estimator"])
    estimators = [decode_estimator(d, contents["tensors"]) for d in desc["skae_estimators"]]
    data = contents["skeleton"].numpy().tobytes()
    skops_io = _skeleton.skops_io()
    try:
        untrusted = skops_io.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001 - a damaged zip fails in many ways
        raise _error(path, "its scikit-learn part is damaged or not a skops file "
                           f"(skops: {_brief(exc)})") from exc
    refused = sorted(set(untrusted) - {_skeleton.STEP_TYPE} - _trusted_names(trusted))
    if refused:
        raise _error(path, f"its scikit-learn part holds types that skops does not trust "
                           f"by default, refused without loading them: {refused}; if you "
                           f"trust them, pass trusted={refused!r} to skae.load")
    try:
        skeleton = skops_io.loads(data, trusted=list(untrusted))
    except Exception as exc:  # noqa: BLE001
        raise _error(path, f"skops cannot load its scikit-learn part ({_brief(exc)})") \
            from exc
    return _skeleton.join(skeleton, estimators)


def load(path, *, trusted=None):
    """Load an estimator written by :func:`save`, on CPU, without pickle.

    The header, payload length and sha256 checksum are verified before the
    payload is read; the payload is read with ``torch.load(weights_only=True)``,
    which refuses anything but tensors and plain data without running it.
    The scikit-learn part of a saved pipeline is read by ``skops.io.loads``,
    which only builds the types skops trusts by default (scikit-learn's
    estimators, numpy and scipy data, ...), skae's placeholders and the
    types named in ``trusted``; any other type refuses the file before
    anything is built. Files written by skae before format version 2 (no
    header) also load.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save` (or by ``skae fit``).
    trusted : list of str or type, default=None
        Types of a saved scikit-learn object to trust beyond skops' defaults,
        by their full name as skops reports it (e.g.
        ``"sklearn.model_selection._split.StratifiedKFold"``, which a fitted
        ``GridSearchCV`` holds). The error for a refused file lists the
        names to pass. Only trust types whose loading cannot run code you
        do not trust. Not used for a file holding one skae estimator.

    Returns
    -------
    estimator : skae estimator or scikit-learn object
        Fitted if it was saved fitted; its weights are on the CPU.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (other :class:`OSError`, e.g. a permission
        error, pass through too).
    ModelFileError
        If ``path`` is not a readable skae model file: empty, truncated,
        damaged (checksum mismatch), a foreign file, written by a newer skae,
        a directory, or holding contents that do not rebuild an estimator
        (a missing entry, tensors that do not fit the stored parameters,
        objects other than tensors and plain data, a scikit-learn part with
        types not trusted). A subclass of :class:`ValueError`; the message
        names the path and the fault.
    ImportError
        If the file holds a scikit-learn object and skops is not installed.
    """
    if os.path.isdir(path):
        raise _error(path, "it is a directory, not a skae model file")
    with open(path, "rb") as file:
        data = file.read()
    payload = _check_header(data, path)
    try:
        contents = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _error(path, "it holds objects other than tensors and plain data, refused "
                           "without running them (torch.load weights_only)") from exc
    except Exception as exc:  # noqa: BLE001 - torch's unpickler fails in many ways
        raise _error(path, "it is damaged or not a skae model file (torch.load: "
                           f"{_brief(exc)})") from exc
    if not isinstance(contents, dict) or contents.get("format") != FORMAT:
        raise _error(path, "not a skae model file (written by skae.save)")
    version = contents.get("format_version")
    _check_version(version, path)
    try:
        if version == OBJECT_VERSION:
            return _decode_object(contents, path, trusted)
        return decode_estimator(json.loads(contents["estimator"]), contents["tensors"])
    except ModelFileError:
        raise
    except KeyError as exc:
        raise _error(path, f"the entry {exc} is missing") from exc
    except RuntimeError as exc:  # load_state_dict: missing tensors or shape mismatch
        raise _error(path, "its tensors do not fit the stored parameters "
                           f"({_brief(exc)})") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise _error(path, f"its contents are inconsistent ({_brief(exc)})") from exc


def _check_version(version, path):
    if not isinstance(version, int) or version < 1:
        raise _error(path, f"invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise _error(path, f"it was written by a newer skae (format version {version}, "
                           f"this skae reads up to {FORMAT_VERSION}); upgrade skae to "
                           "load it")


def _check_header(data, path):
    """The verified payload of a model file's bytes."""
    if not data:
        raise _error(path, "the file is empty")
    if data[:2] == b"PK":  # format version 1: a bare torch.save zip, no checksum
        return data
    if data[:len(MAGIC)] != MAGIC[:len(data)]:
        raise _error(path, "not a skae model file (it does not start with the skae "
                           "header)")
    _, version, length, digest = _HEADER.unpack_from(data.ljust(_HEADER.size, b"\0"))
    if len(data) < _HEADER.size and version in (0, *_HEADER_VERSIONS):  # 0: cut before it
        raise _error(path, f"the file is truncated ({len(data)} bytes, inside the header)")
    if version > FORMAT_VERSION:  # its layout may differ past the version field
        _check_version(version, path)
    if version not in _HEADER_VERSIONS:  # 1 never had a header
        raise _error(path, f"the header is damaged (format version field {version})")
    payload = memoryview(data)[_HEADER.size:]
    intact = hashlib.sha256(payload).hexdigest().encode() == digest
    if intact and len(payload) != length:
        raise _error(path, f"the header is damaged (payload length field {length}, "
                           f"payload {len(payload)} bytes)")
    if len(payload) < length:
        raise _error(path, f"the file is truncated ({len(payload)} of {length} payload "
                           "bytes)")
    if len(payload) > length:
        raise _error(path, f"the file is damaged ({len(payload)} payload bytes where the "
                           f"header says {length})")
    if not intact:
        raise _error(path, "the file is damaged (sha256 checksum mismatch)")
    return payload
