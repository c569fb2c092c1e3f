"""The estimator classes of skae, listed once.

:func:`skae.save` writes an estimator's class name and :func:`skae.load`
rebuilds the class of that name from :data:`ESTIMATORS`, so only the classes
listed here can be saved and loaded. The package's public names
(``skae/__init__.py``) and the ``skae`` command take the estimators from here
too: a new estimator is added to this list.
"""

from ._autoencoder import AutoencoderTransformer
from ._classifier import EncoderClassifier
from ._denoising import DenoisingAE
from ._noise import NoiseInjector
from ._outlier import AutoencoderOutlierDetector
from ._vae import VAETransformer

#: every public estimator class, by class name
ESTIMATORS = {cls.__name__: cls for cls in (
    AutoencoderTransformer, DenoisingAE, VAETransformer, NoiseInjector, EncoderClassifier,
    AutoencoderOutlierDetector)}

__all__ = ["ESTIMATORS", "AutoencoderOutlierDetector", "AutoencoderTransformer", "DenoisingAE",
           "EncoderClassifier", "NoiseInjector", "VAETransformer"]
