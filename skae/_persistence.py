"""``skae.save`` / ``skae.load``: model files that load without running pickle.

A file is written with :func:`torch.save` but holds only plain containers,
strings and tensors: the estimator's class name, its parameters and fitted
metadata as a JSON string, and the network weights as tensors. :func:`load`
reads it with ``torch.load(weights_only=True, map_location="cpu")``, so no
arbitrary code runs and a model trained on a GPU loads on any CPU machine.

Estimators take part through two methods: ``_get_fitted_state()`` returns
``(json-able dict, {name: tensor})`` and ``_set_fitted_state(state, tensors)``
rebuilds the fitted attributes on a freshly constructed estimator.
"""

import inspect
import json
import warnings

import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

FORMAT = "skae-model"
FORMAT_VERSION = 1


def _registry():
    import skae

    return {name: obj for name, obj in vars(skae).items()
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator)}


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
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
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
    registry = _registry()
    name = type(est).__name__
    if registry.get(name) is not type(est):
        raise TypeError(f"skae.save only saves skae estimators, not {name}")
    params = {}
    for key, value in est.get_params(deep=False).items():
        if key == "callbacks" and value:
            warnings.warn("skae.save does not store callbacks (they only affect "
                          "training); the loaded estimator has callbacks=None.")
            value = None
        if isinstance(value, BaseEstimator):
            params[key] = encode_estimator(value, tensors, f"{prefix}.{key}")
        else:
            params[key] = encode_value(value)
    out = {"__skae_estimator__": name, "params": params, "prefix": prefix}
    if tensors is not None and _is_fitted(est) and hasattr(est, "_get_fitted_state"):
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
    cls = _registry()[desc["__skae_estimator__"]]
    params = {k: decode_value(v, tensors) for k, v in desc["params"].items()}
    est = cls(**params)
    if "fitted" in desc:
        prefix = desc["prefix"] + "/"
        own = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        state = {k: decode_value(v, tensors) for k, v in desc["fitted"].items()}
        est._set_fitted_state(state, own)
    return est


def _is_fitted(est):
    try:
        check_is_fitted(est)
        return True
    except Exception:
        return False


def save(estimator, path):
    """Save a skae estimator (fitted or not) to ``path``.

    Parameters are stored as JSON and weights as tensors, so :func:`load`
    never runs pickle. Callbacks are not stored (a warning says so).

    Parameters
    ----------
    estimator : skae estimator
    path : str or path-like

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
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION,
                "estimator": json.dumps(desc), "tensors": tensors}, path)


def load(path):
    """Load an estimator written by :func:`save`, on CPU, without pickle.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : skae estimator
        Fitted if it was saved fitted; its weights are on the CPU.
    """
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path!s} is not a skae model file (written by skae.save).")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path!s} was written by a newer skae (format version "
                         f"{data['format_version']}); upgrade skae to load it.")
    return decode_estimator(json.loads(data["estimator"]), data["tensors"])
