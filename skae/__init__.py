"""skae: autoencoders as first-class scikit-learn estimators.

The public API is flat::

    from skae import (AutoencoderTransformer, DenoisingAE, VAETransformer,
                      NoiseInjector, EncoderClassifier, save, load)

``skae.datasets``, ``skae.evaluation`` and ``skae.plotting`` are submodules
(matplotlib and torchvision are imported only when they are used).
"""

from ._persistence import ModelFileError, load, save
from ._registry import (
    AutoencoderTransformer,
    DenoisingAE,
    EncoderClassifier,
    NoiseInjector,
    VAETransformer,
)
from ._version import __version__

__all__ = [
    "AutoencoderTransformer",
    "DenoisingAE",
    "EncoderClassifier",
    "NoiseInjector",
    "VAETransformer",
    "ModelFileError",
    "save",
    "load",
    "__version__",
]
