"""skae._utils: torch-free helpers shared by several modules."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA

from skae._utils import as_chw, format_table, image_shape_of, reconstruct


def test_utils_imports_no_torch():
    """The module itself (loaded without the package) imports numpy only."""
    path = Path(__file__).resolve().parents[1] / "skae" / "_utils.py"
    code = ("import importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('u', {str(path)!r}); "
            "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'sklearn', 'skae') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_image_shapes():
    assert as_chw((28, 28), 784) == (1, 28, 28)
    assert image_shape_of(64) == (8, 8) and image_shape_of(63) is None
    assert image_shape_of(64, (1, 8, 8)) == (8, 8)
    assert image_shape_of(48, (3, 4, 4)) == (3, 4, 4)
    with pytest.raises(ValueError, match="holds 16 values but X has 64"):
        image_shape_of(64, (4, 4))


def test_reconstruct_uses_what_the_estimator_has():
    X = np.random.default_rng(0).random((20, 6))
    pca = PCA(2).fit(X)
    np.testing.assert_allclose(reconstruct(pca, X), pca.inverse_transform(pca.transform(X)))

    class Denoiser:
        def denoise(self, X):
            return "denoised"

        def reconstruct(self, X):
            return "reconstructed"

    assert reconstruct(Denoiser(), X) == "denoised"


def test_format_table():
    table = format_table(["noise", "kind", "mse"], [["clean", "clean", "0.1"],
                                                    ["gaussian 0.1", "gaussian", "12.5"]],
                         n_left=2)
    assert table.splitlines() == ["noise         kind       mse",
                                  "------------  --------  ----",
                                  "clean         clean      0.1",
                                  "gaussian 0.1  gaussian  12.5"]
    assert format_table(["a"], []) == "a\n-"
