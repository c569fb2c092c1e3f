"""skae: autoencoders as first-class scikit-learn estimators.

The public API is flat::

    from skae import (AutoencoderTransformer, DenoisingAE, VAETransformer,
                      NoiseInjector, EncoderClassifier, AutoencoderOutlierDetector,
                      save, load, to_onnx)

``skae.datasets``, ``skae.evaluation`` and ``skae.plotting`` are submodules
(matplotlib and torchvision are imported only when they are used).

``import skae`` itself imports neither torch nor scikit-learn: each public
name is imported from its module on first use (PEP 562), so that the ``skae``
command and tools that only look at the package answer at once.
"""

import importlib

from ._version import __version__

#: public name -> the private module it is taken from (the estimators from the
#: registry, which lists each once)
_LAZY = {
    "AutoencoderOutlierDetector": "._registry",
    "AutoencoderTransformer": "._registry",
    "DenoisingAE": "._registry",
    "EncoderClassifier": "._registry",
    "NoiseInjector": "._registry",
    "VAETransformer": "._registry",
    "ModelFileError": "._persistence",
    "save": "._persistence",
    "load": "._persistence",
    "to_onnx": "._onnx",
    "register_onnx_converters": "._onnx",
}

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "DenoisingAE",
    "EncoderClassifier",
    "NoiseInjector",
    "VAETransformer",
    "ModelFileError",
    "save",
    "load",
    "to_onnx",
    "register_onnx_converters",
    "__version__",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
