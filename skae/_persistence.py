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

from ._io import atomic_write
from ._registry import ESTIMATORS
from ._validation import is_fitted

FORMAT = "skae-model"
FORMAT_VERSION = 2
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
    """Save a skae estimator (fitted or not) to ``path``, atomically.

    Parameters are stored as JSON and weights as tensors, so :func:`load`
    never runs pickle. Callbacks are not stored (a warning says so). The file
    is written to a temporary file in the same directory, synced to disk and
    then renamed onto ``path``: a failed or killed save never leaves a partial
    file under ``path``, and an existing file there stays as it was.

    Parameters
    ----------
    estimator : skae estimator
        An instance of one of skae's estimator classes, fitted or not. Its
        parameters may be numbers, strings, None, tuples, lists, arrays,
        ``torch.optim`` optimizer classes and skae estimators (saved along).
    path : str or path-like
        The file to write; its directory must exist. An existing file is
        replaced.

    Raises
    ------
    TypeError
        If ``estimator`` is not a skae estimator or a parameter cannot be saved.
    OSError
        If the file cannot be written (``path``'s directory is missing, the
        disk is full, ...).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> import skae
    >>> from skae.datasets import load_digits
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = skae.AutoencoderTransformer(n_components=4, max_epochs=2,
    ...                                  random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "ae.skae")
    >>> skae.save(ae, path)
    >>> bool(np.allclose(skae.load(path).transform(X), ae.transform(X)))
    True
    """
    tensors = {}
    desc = encode_estimator(estimator, tensors)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION,
                "estimator": json.dumps(desc), "tensors": tensors}, buffer)
    payload = buffer.getbuffer()
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, len(payload),
                          hashlib.sha256(payload).hexdigest().encode())

    def write(f):
        f.write(header)
        f.write(payload)

    atomic_write(path, write)


def load(path):
    """Load an estimator written by :func:`save`, on CPU, without pickle.

    The header, payload length and sha256 checksum are verified before the
    payload is read; the payload is read with ``torch.load(weights_only=True)``,
    which refuses anything but tensors and plain data without running it.
    Files written by skae before format version 2 (no header) also load.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save` (or by ``skae fit``).

    Returns
    -------
    estimator : skae estimator
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
        objects other than tensors and plain data). A subclass of
        :class:`ValueError`; the message names the path and the fault.
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
    _check_version(contents.get("format_version"), path)
    try:
        return decode_estimator(json.loads(contents["estimator"]), contents["tensors"])
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
    if len(data) < _HEADER.size and version in (0, FORMAT_VERSION):  # 0: cut before it
        raise _error(path, f"the file is truncated ({len(data)} bytes, inside the header)")
    if version > FORMAT_VERSION:  # its layout may differ past the version field
        _check_version(version, path)
    if version != FORMAT_VERSION:  # 1 never had a header
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
