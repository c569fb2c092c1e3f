"""skae: autoencoders as first-class scikit-learn estimators.

The public API is flat::

    from skae import (AutoencoderTransformer, DenoisingAE, VAETransformer,
                      NoiseInjector, EncoderClassifier, save, load)

``skae.datasets``, ``skae.evaluation`` and ``skae.plotting`` are submodules
(matplotlib and torchvision are imported only when they are used).
"""

from ._autoencoder import AutoencoderTransformer
from ._classifier import EncoderClassifier
from ._denoising import DenoisingAE
from ._noise import NoiseInjector
from ._persistence import ModelFileError, load, save
from ._vae import VAETransformer

__version__ = "0.1.0"

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
