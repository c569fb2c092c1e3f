"""The package's public surface: flat names, light import."""

import subprocess
import sys

import skae


def test_public_names():
    for name in ("AutoencoderTransformer", "DenoisingAE", "VAETransformer", "NoiseInjector",
                 "EncoderClassifier", "save", "load"):
        assert name in skae.__all__ and hasattr(skae, name)


def test_import_does_not_load_matplotlib_or_torchvision():
    code = ("import sys, skae; "
            "print(sorted(m for m in ('matplotlib', 'torchvision') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
