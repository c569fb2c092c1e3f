"""The package's public surface: flat names, light import."""

import subprocess
import sys

import skae


def test_public_names():
    for name in ("AutoencoderTransformer", "DenoisingAE", "VAETransformer", "NoiseInjector",
                 "EncoderClassifier", "save", "load"):
        assert name in skae.__all__ and hasattr(skae, name)


HEAVY = ("torch", "sklearn", "skorch", "scipy", "matplotlib", "torchvision")


def loaded_after(code):
    """Which of HEAVY a fresh interpreter has imported after running ``code``."""
    code += f"\nimport sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return result.stdout.strip().splitlines()[-1]


def test_import_loads_nothing_heavy():
    # torch and scikit-learn come on first use of a name that needs them
    assert loaded_after("import skae; skae.__version__") == "[]"
    assert loaded_after("from skae import AutoencoderTransformer") == \
        "['scipy', 'sklearn', 'skorch', 'torch']"


def test_the_command_answers_help_and_usage_errors_without_torch():
    for argv in (["--help"], ["demo", "--help"], ["fit", "--help"], ["reconstruct", "--help"],
                 ["--version"], ["fit"], ["demo", "--n-components", "x"], ["nope"]):
        code = (f"from skae.cli import main\ntry:\n    main({argv!r})\n"
                f"except SystemExit:\n    pass")
        assert loaded_after(code) == "[]", argv


def test_lazy_names_are_the_registry_classes_and_dir_lists_them():
    from skae._persistence import load

    assert skae.load is load
    assert set(skae.__all__) <= set(dir(skae))
    try:
        skae.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


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


def test_every_estimator_has_a_readable_html_repr():
    """Notebooks show estimators through scikit-learn's HTML representation:
    class names, the parameters set, nested estimators and the fitted state."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler
    from sklearn.utils import estimator_html_repr

    from skae.datasets import load_digits

    ae = skae.AutoencoderTransformer(n_components=8, max_epochs=2, random_state=0)
    estimators = [ae, skae.DenoisingAE(noise="mask"), skae.VAETransformer(beta=2.0),
                  skae.NoiseInjector("flip", 0.1), skae.EncoderClassifier(ae)]
    for est in estimators:
        html = estimator_html_repr(est)
        assert type(est).__name__ in html
        # a fitted-state badge, except on the stateless NoiseInjector
        assert ("Not fitted" in html) == est.__sklearn_tags__().requires_fit
        assert type(est).__name__ in est._repr_html_()  # what Jupyter calls
    assert "n_components=8" in estimator_html_repr(ae)  # the parameters set
    assert "beta" in estimator_html_repr(estimators[2])
    # a nested autoencoder gets a box of its own
    assert estimator_html_repr(estimators[4]).count("AutoencoderTransformer") >= 2
    X = load_digits().data
    pipe = make_pipeline(MinMaxScaler(), ae).fit(X)
    html = estimator_html_repr(pipe)
    assert "MinMaxScaler" in html and "AutoencoderTransformer" in html
    assert "Fitted" in html
