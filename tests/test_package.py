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


def test_registry_lists_the_public_estimators():
    from sklearn.base import BaseEstimator

    from skae._registry import ESTIMATORS

    public = {name for name in skae.__all__
              if isinstance(getattr(skae, name), type)
              and issubclass(getattr(skae, name), BaseEstimator)}
    assert set(ESTIMATORS) == public
    assert all(ESTIMATORS[name] is getattr(skae, name) for name in public)


def test_no_module_imports_the_package_itself():
    """Imports run one way: skae/__init__.py hands names on, no module below it
    imports it (``import skae``, ``from skae import``, ``from . import X`` of a
    name that is not a sibling module)."""
    import ast
    from pathlib import Path

    folder = Path(skae.__file__).parent
    siblings = {p.stem for p in folder.glob("*.py")}
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                bad = [a.name for a in node.names if a.name == "skae"]
            elif isinstance(node, ast.ImportFrom):
                package = node.module == "skae" or (node.level == 1 and node.module is None)
                bad = [a.name for a in node.names if package and a.name not in siblings]
            else:
                continue
            assert not bad, f"{path.name}:{node.lineno} imports {bad} from the skae package"
