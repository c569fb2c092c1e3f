"""The ``skae`` command: ``skae demo``, ``skae fit`` and ``skae reconstruct``.

Run ``skae --help`` or ``skae <command> --help``. Progress goes to stderr,
results (the comparison table, the MSE) to stdout; errors print one line on
stderr and exit with status 1 (2 for bad command-line arguments).

Each command is a few calls to the library: :func:`skae.datasets.load_train_test`,
the estimators, :mod:`skae.evaluation`, :mod:`skae.plotting`, :func:`skae.save`
/ :func:`skae.load` and :func:`skae.datasets.read_mat_images` /
:func:`skae.datasets.write_mat_images`; this module parses arguments, checks
them before any work and turns errors into one-line messages.
"""

import argparse
import ast
import sys
import time
from pathlib import Path

import numpy as np

# Only what the parser needs is imported here, so that `skae --help` and
# usage errors answer at once; torch, the estimators and scikit-learn's
# models are imported by the commands that use them.
from ._version import __version__
from .datasets import DATASET_NAMES, MIN_SUBSET_SIZE

__all__ = ["main"]

# per-dataset defaults: training / test subset sizes (None = all) and epochs
DATASET_DEFAULTS = {
    "digits": {"n_train": None, "n_test": None, "max_epochs": 100},
    "fashion-mnist": {"n_train": 10000, "n_test": 2000, "max_epochs": 20},
    "mnist": {"n_train": 10000, "n_test": 2000, "max_epochs": 20},
}
NOISE_LEVEL = 0.2  # gaussian noise of the demo's noisy-input column (clipped to [0, 1])

# The demo's models, in table order, and ``skae fit --model``'s: name -> (class
# name in skae, or "PCA"; fixed parameters). Adding a model is one line.
DEMO_MODELS = {
    "PCA": ("PCA", {}),
    "AE": ("AutoencoderTransformer", {}),
    "DAE": ("DenoisingAE", {"noise": "gaussian", "noise_level": NOISE_LEVEL}),
    "VAE": ("VAETransformer", {}),
}
FIT_MODELS = {
    "ae": ("AutoencoderTransformer", {"architecture": "dense"}),
    "conv-ae": ("AutoencoderTransformer", {"architecture": "conv"}),
    "dae": ("DenoisingAE", {}),
    "vae": ("VAETransformer", {}),
}


class CLIError(Exception):
    """An error reported as one line on stderr (no traceback)."""


def _progress(message):
    print(message, file=sys.stderr, flush=True)


def _make_model(spec, k, image_shape, settings):
    name, fixed = spec
    if name == "PCA":
        from sklearn.decomposition import PCA

        return PCA(n_components=k, random_state=settings["random_state"])
    from ._registry import ESTIMATORS

    return ESTIMATORS[name](n_components=k, image_shape=image_shape, **fixed, **settings)


def _load_data(name, *, root, n_train, n_test, random_state):
    """:func:`skae.datasets.load_train_test`, with its errors named after the flags."""
    for flag, n in (("--n-train", n_train), ("--n-test", n_test)):
        if n is not None and n < MIN_SUBSET_SIZE:
            raise CLIError(f"{flag} must be at least {MIN_SUBSET_SIZE}; got {n}.")
    from .datasets import load_train_test

    try:
        return load_train_test(name, n_train=n_train, n_test=n_test, root=root,
                               random_state=random_state)
    except ValueError as exc:  # e.g. a corrupt IDX file
        raise CLIError(str(exc)) from None


def _check_output(path, flag, *, folder=False):
    """Refuse an output path that cannot be written, before any work is done."""
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise CLIError(f"{flag} {path} exists and is not a folder.")
    if not folder and path.is_dir():
        raise CLIError(f"{flag} {path} is a folder; give a file name.")
    parent = next(p for p in path.absolute().parents if p.exists())
    if not parent.is_dir():
        raise CLIError(f"{flag} {path}: {parent} is not a folder.")
    return path


def _parse_set(items):
    """``["lr=0.003", "hidden_layer_sizes=256,64"]`` -> dict of Python values."""
    params = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--set expects KEY=VALUE; got {item!r}.")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare string such as relu
        params[key.strip()] = value
    return params


# ----------------------------------------------------------------- demo
def _warm_up_torch(X):
    """A throw-away fit: torch imports some modules (torch._dynamo, ~3 s) at
    the first optimizer step of a process, which would count in the first
    model's fit time."""
    from ._registry import AutoencoderTransformer

    AutoencoderTransformer(n_components=1, hidden_layer_sizes=(2,), max_epochs=1,
                           early_stopping=False, random_state=0).fit(X[:16])


def cmd_demo(args):
    from ._registry import NoiseInjector
    from .evaluation import compare_reducers

    defaults = DATASET_DEFAULTS[args.dataset]
    n_train = args.n_train if args.n_train is not None else defaults["n_train"]
    n_test = args.n_test if args.n_test is not None else defaults["n_test"]
    settings = {"max_epochs": args.max_epochs or defaults["max_epochs"],
                "random_state": args.random_state, "verbose": int(args.verbose > 0)}
    if args.quick:  # tiny settings for tests and smoke runs
        n_train, n_test = min(n_train or 300, 300), min(n_test or 100, 100)
        settings.update(max_epochs=args.max_epochs or 2, hidden_layer_sizes=(32,))
    names = [m.strip() for m in args.models.split(",")] if args.models \
        else list(DEMO_MODELS)
    lookup = {m.lower(): m for m in DEMO_MODELS}
    unknown = [m for m in names if m.lower() not in lookup]
    if unknown or not names:
        raise CLIError(f"unknown model(s) {unknown} in --models; choose from "
                       f"{', '.join(DEMO_MODELS)}.")
    names = [lookup[m.lower()] for m in names]
    out = _check_output(args.out, "--out", folder=True) if args.out else None

    X_train, y_train, X_test, y_test, image_shape = _load_data(
        args.dataset, root=args.data_dir, n_train=n_train, n_test=n_test,
        random_state=args.random_state)
    k = args.n_components
    if not 1 <= k <= X_train.shape[1]:
        raise CLIError(f"--n-components must be between 1 and {X_train.shape[1]} "
                       f"(the number of features); got {k}.")
    _progress(f"skae demo: {args.dataset}, {len(X_train)} training and {len(X_test)} "
              f"test images of {'x'.join(map(str, image_shape))}, n_components={k}")
    noise = NoiseInjector("gaussian", NOISE_LEVEL, clip=(0.0, 1.0))
    if set(names) != {"PCA"}:
        _warm_up_torch(X_train)
    report = compare_reducers(
        {name: _make_model(DEMO_MODELS[name], k, image_shape, settings) for name in names},
        X_train, y_train, X_test=X_test, y_test=y_test, noise=noise,
        random_state=args.random_state, verbose=1)
    models = report.estimators_
    X_noisy = noise.set_params(random_state=args.random_state).fit_transform(X_test)
    table = str(report)
    notes = f"n_components={k} for every model; {report.notes}"
    print(table)
    print(notes)
    outliers = None
    if not args.no_outliers:
        outliers, outlier_text = demo_outliers(X_train, y_train, X_test, y_test, k,
                                               image_shape, settings, args.random_state)
        print()
        print(outlier_text)
        table += "\n\n" + outlier_text
    if out is not None:
        written = write_demo_figures(out, models, X_test, y_test, X_noisy, image_shape,
                                     args.random_state)
        if outliers is not None:
            import matplotlib.pyplot as plt

            fig = outliers.plot(next(iter(outliers.scores)))
            fig.savefig(out / "outliers.png", dpi=100, bbox_inches="tight")
            plt.close(fig)
            written.append("outliers.png")
        (out / "results.txt").write_text(table + "\n\n" + notes + "\n")
        _progress(f"wrote {out / 'results.txt'} and {len(written)} figures to {out}: "
                  f"{', '.join(written)}")
    return 0


class PCAReconstructionDetector:
    """PCA's reconstruction error as an outlier score (the demo's baseline).

    ``score_samples`` is minus the mean squared reconstruction error, higher
    for more normal samples, as :func:`skae.evaluation.outlier_report` reads it.
    """

    def __init__(self, n_components=8, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def get_params(self, deep=True):
        return {"n_components": self.n_components, "random_state": self.random_state}

    def set_params(self, **params):
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        k = min(self.n_components, *np.shape(X))
        self.pca_ = PCA(k, random_state=self.random_state).fit(X)
        return self

    def score_samples(self, X):
        rec = self.pca_.inverse_transform(self.pca_.transform(X))
        return -np.mean((np.asarray(X, dtype=np.float64) - rec) ** 2, axis=1)


def demo_outliers(X_train, y_train, X_test, y_test, k, image_shape, settings,
                  random_state):
    """The demo's outlier section: one-class protocol on every class.

    Returns the :class:`~skae.evaluation.OutlierReport` and the printed text
    (a table of each detector's mean AUROC and average precision).
    """
    from sklearn.ensemble import IsolationForest

    from ._registry import AutoencoderOutlierDetector, AutoencoderTransformer
    from ._utils import format_table
    from .evaluation import one_class_scenarios, outlier_report

    ae = AutoencoderTransformer(n_components=k, image_shape=image_shape, **settings)
    detectors = {
        "AE detector": AutoencoderOutlierDetector(ae, random_state=random_state),
        "IsolationForest": IsolationForest(random_state=random_state),
        "PCA recon error": PCAReconstructionDetector(k, random_state=random_state),
    }
    scenarios = one_class_scenarios(X_train, y_train, X_test, y_test)
    _progress(f"outlier detection: one-class protocol on {len(scenarios)} classes ...")
    report = outlier_report(detectors, scenarios)
    means = report.mean()
    rows = [[name, f"{m['auroc']:.4f}", f"{m['average_precision']:.4f}", f"{m['fit_s']:.2f}"]
            for name, m in means.items()]
    text = (f"outlier detection, one-class protocol: fit on the training images of one "
            f"class, score all {len(X_test)} test images; mean over the "
            f"{len(scenarios)} classes\n"
            + format_table(["detector", "AUROC", "AP (outliers)", "fit time (s)"], rows))
    return report, text


def write_demo_figures(out, models, X_test, y_test, X_noisy, image_shape, random_state):
    """Save the demo's figures (PNG) into ``out``; return the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .evaluation import reconstruct, robustness_report
    from .plotting import (
        plot_history,
        plot_latent_grid,
        plot_latent_space,
        plot_reconstructions,
        plot_robustness,
        plot_samples,
    )

    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save_figure(fig, name):
        fig.savefig(out / name, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(name)

    n = 10
    for inputs, name, title in [
            ({"original": X_test[:n]}, "reconstructions.png",
             "reconstructions of test images"),
            ({"original": X_test[:n], "noisy": X_noisy[:n]}, "denoising.png",
             f"denoising (gaussian noise {NOISE_LEVEL})")]:
        source = list(inputs.values())[-1]
        rows = {**inputs, **{m: reconstruct(est, source) for m, est in models.items()}}
        save_figure(plot_reconstructions(rows, n_images=n, image_shape=image_shape,
                                         title=title), name)
    fig, axes = plt.subplots(1, len(models), figsize=(4.6 * len(models), 4.2),
                             squeeze=False)
    for ax, (name, est) in zip(axes[0], models.items()):
        plot_latent_space(est.transform(X_test), y=y_test, ax=ax, title=name,
                          random_state=random_state)
    save_figure(fig, "latent_space.png")
    neural = {name: est for name, est in models.items() if hasattr(est, "history_")}
    if neural:
        save_figure(plot_history(neural, title="training history"), "history.png")
    for name, est in models.items():
        if hasattr(est, "sample"):
            save_figure(plot_samples(est, 64, image_shape=image_shape,
                                     random_state=random_state), f"samples_{name}.png")
            if est.n_components >= 2:  # the two most used latent dimensions
                dims = np.argsort(np.var(est.transform(X_test), axis=0))[::-1][:2]
                save_figure(plot_latent_grid(est, 15, dims=sorted(dims.tolist()),
                                             image_shape=image_shape),
                            f"latent_grid_{name}.png")
    noises = [("gaussian", 0.1), ("gaussian", 0.2), ("gaussian", 0.3), ("gaussian", 0.5),
              ("salt_and_pepper", 0.05), ("salt_and_pepper", 0.1),
              ("salt_and_pepper", 0.2), ("mask", 0.1), ("mask", 0.3), ("mask", 0.5)]
    report = robustness_report(models, X_test, noises=noises, random_state=random_state)
    # one colour per model (and the noisy input), one line style per kind
    save_figure(plot_robustness(report, by="input", style="kind",
                                title="reconstruction error of noisy test images"),
                "robustness.png")
    return written


# ----------------------------------------------------------------- fit
def cmd_fit(args):
    from ._persistence import save
    from .evaluation import reconstruction_error

    output = _check_output(args.output, "-o/--output")
    defaults = DATASET_DEFAULTS[args.dataset]
    X_train, _, X_test, _, image_shape = _load_data(
        args.dataset, root=args.data_dir, n_train=args.n_train,
        n_test=defaults["n_test"], random_state=args.random_state)
    est = _make_model(FIT_MODELS[args.model], args.n_components, image_shape,
                      {"random_state": args.random_state, "verbose": int(args.verbose > 0)})
    params = _parse_set(args.set)
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    try:
        est.set_params(**params)
    except ValueError as exc:
        raise CLIError(f"--set: {exc}") from None
    _progress(f"skae fit: {type(est).__name__} ({args.model}, n_components="
              f"{args.n_components}) on {len(X_train)} {args.dataset} images ...")
    start = time.perf_counter()
    try:
        est.fit(X_train)
    except (ValueError, TypeError) as exc:  # bad --set values, checked by sklearn
        raise CLIError(str(exc)) from None
    seconds = time.perf_counter() - start
    output.absolute().parent.mkdir(parents=True, exist_ok=True)
    save(est, output)
    print(f"{type(est).__name__}: {est.n_iter_} epochs in {seconds:.1f} s; "
          f"test reconstruction MSE {reconstruction_error(est, X_test):.4f} "
          f"({len(X_test)} test images); saved to {output}")
    return 0


# ----------------------------------------------------------------- reconstruct
def _load_model(path):
    """A fitted model that reconstructs, from a file written by skae.save."""
    from ._persistence import load
    from ._validation import is_fitted

    if not path.is_file():
        raise CLIError(f"model file {path} not found.")
    try:
        model = load(path)
    except Exception as exc:  # noqa: BLE001 - any failure means "not a model file"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise CLIError(f"cannot load model {path} (expected a file written by "
                       f"skae.save or `skae fit`): {reason}") from None
    name = type(model).__name__
    if not (hasattr(model, "reconstruct") or hasattr(model, "inverse_transform")):
        raise CLIError(f"the {name} in {path} does not reconstruct images; expected "
                       f"an autoencoder (e.g. from `skae fit`).")
    if not is_fitted(model):
        raise CLIError(f"the {name} in {path} is not fitted; train it first (e.g. "
                       f"with `skae fit`).")
    return model


def cmd_reconstruct(args):
    from ._utils import image_shape_of
    from .datasets import read_mat_images, write_mat_images
    from .evaluation import mse, reconstruct

    output = _check_output(args.output, "-o/--output")
    input_path = Path(args.input)
    if not input_path.is_file():
        raise CLIError(f"input file {input_path} not found.")
    model = _load_model(Path(args.model))
    n_features = int(model.n_features_in_)
    scale = "auto" if args.scale == "auto" else int(args.scale)
    try:
        X, layout = read_mat_images(
            input_path, n_features, key=args.key, scale=scale,
            image_shape=image_shape_of(n_features, getattr(model, "image_shape_", None)))
    except ValueError as exc:
        raise CLIError(str(exc).replace("key=NAME", "--key NAME")) from None
    key, scale = layout.key, f"{layout.scale:g}"
    if getattr(model, "loss_", None) == "bce" and (X.min() < 0 or X.max() > 1):
        raise CLIError(f"the model was trained on values in [0, 1] but {key!r} holds "
                       f"values in [{X.min():.4g}, {X.max():.4g}] after scaling "
                       f"(--scale {scale}); for 0-255 data pass --scale 255.")
    shape = "x".join(map(str, layout.shape))
    _progress(f"reconstructing {len(X)} images from {input_path}:{key} ({shape} "
              f"{layout.dtype}) with {type(model).__name__} ...")
    try:  # e.g. finite values too large for the model's float32
        rec = np.asarray(reconstruct(model, X), dtype=np.float64)
    except ValueError as exc:
        raise CLIError(f"cannot reconstruct {key!r}: {exc}") from None
    error = mse(rec, X)
    try:
        output.absolute().parent.mkdir(parents=True, exist_ok=True)
        write_mat_images(output, rec, layout)
    except OSError as exc:
        raise CLIError(f"cannot write {output}: {exc}") from None
    unit = "pixel values scaled to [0, 1]" if scale == "255" else "the input's units"
    print(f"reconstructed {len(X)} images; MSE {error:.6f} ({unit}); wrote "
          f"{output} (variable {key!r}, shape {shape}, {layout.dtype})")
    return 0


# ----------------------------------------------------------------- parser
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_data_args(p, n_train_help):
    p.add_argument("--dataset", choices=DATASET_NAMES, default="digits",
                   help="digits: sklearn's bundled 8x8 digits (no download); "
                        "fashion-mnist / mnist: 28x28 images from local IDX files "
                        "(see --data-dir) (default: %(default)s)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the MNIST/Fashion-MNIST IDX files (default: "
                        "$SKAE_FASHION_MNIST_DIR / $SKAE_MNIST_DIR, $SKAE_DATA, "
                        "~/.skae/datasets, /usr/share/datasets/fashion-mnist)")
    p.add_argument("--n-train", type=_positive_int, metavar="N", help=n_train_help)
    p.add_argument("--random-state", type=int, default=0, metavar="SEED",
                   help="seed for the data split, the models and the noise "
                        "(default: %(default)s)")
    p.add_argument("--threads", type=_positive_int, metavar="N",
                   help="torch CPU threads (default: 1 for digits, whose tiny "
                        "matrices gain nothing from threads and lose much on a busy "
                        "machine; torch's default, e.g. $OMP_NUM_THREADS, otherwise)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="print each training epoch")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skae",
        description="Autoencoders as scikit-learn estimators: compare them with PCA "
                    "(demo), train and save one (fit), reconstruct images in a "
                    "MATLAB file (reconstruct).",
        epilog="Run 'skae COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"skae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="fit PCA and skae's autoencoders and print a comparison table",
        description="Fit PCA, AutoencoderTransformer (AE), DenoisingAE (DAE) and "
                    "VAETransformer (VAE) with the same n_components and print one "
                    "table: reconstruction MSE on held-out test images, accuracy of "
                    "a LogisticRegression probe on the codes, MSE of the "
                    "reconstruction of noisy test images (gaussian noise 0.2, "
                    "clipped) against the clean ones, epochs and fit time. Then "
                    "an outlier-detection table: AutoencoderOutlierDetector next to "
                    "IsolationForest and PCA reconstruction error, fitted on one "
                    "class and scored on all test images (mean AUROC over the "
                    "classes). With --out, also save figures there.")
    _add_data_args(demo, "training images (default: all 1347 of digits' 75%% split; "
                         "10000 for fashion-mnist/mnist)")
    demo.add_argument("--n-test", type=_positive_int, metavar="N",
                      help="test images (default: digits' 450; 2000 for "
                           "fashion-mnist/mnist)")
    demo.add_argument("--n-components", type=_positive_int, default=8, metavar="K",
                      help="latent size of every model (default: %(default)s)")
    demo.add_argument("--max-epochs", type=_positive_int, metavar="N",
                      help="epoch limit of the neural models, which stop early on a "
                           "validation split (default: 100 for digits, 20 otherwise)")
    demo.add_argument("--models", metavar="LIST",
                      help=f"comma-separated subset of {','.join(DEMO_MODELS)} "
                           f"(default: all)")
    demo.add_argument("--out", metavar="DIR",
                      help="save results.txt and figures (reconstructions, denoising, "
                           "latent space, training history, VAE samples and latent "
                           "grid, robustness, outlier scores) as PNG files in DIR")
    demo.add_argument("--no-outliers", action="store_true",
                      help="skip the outlier-detection table (AutoencoderOutlierDetector "
                           "vs IsolationForest and PCA reconstruction error, one-class "
                           "protocol on every class)")
    demo.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)

    fit = sub.add_parser(
        "fit", help="train one autoencoder and save it with skae.save",
        description="Train an autoencoder on a dataset's training split and save it "
                    "with skae.save (a file that loads without pickle). Prints the "
                    "reconstruction MSE on the test split.")
    _add_data_args(fit, "train on a stratified random subset of N images "
                        "(default: the whole training split)")
    fit.add_argument("--model", choices=list(FIT_MODELS), default="ae",
                     help="ae: dense AutoencoderTransformer; conv-ae: convolutional; "
                          "dae: DenoisingAE; vae: VAETransformer (default: %(default)s)")
    fit.add_argument("--n-components", type=_positive_int, default=32, metavar="K",
                     help="latent size (default: %(default)s)")
    fit.add_argument("--max-epochs", type=_positive_int, metavar="N",
                     help="epoch limit (default: the estimator's, 30)")
    fit.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="any other estimator parameter, e.g. --set lr=0.003 --set "
                          "hidden_layer_sizes=256,64 (repeatable; values are Python "
                          "literals)")
    fit.add_argument("-o", "--output", required=True, metavar="MODEL",
                     help="file to write the trained model to")
    fit.set_defaults(func=cmd_fit)

    rec = sub.add_parser(
        "reconstruct", help="reconstruct images stored in a MATLAB .mat file",
        description="Read images from a MATLAB .mat file, reconstruct them with a "
                    "saved model and write them under the same variable name, in "
                    "the same layout and type, to OUTPUT.mat; print the MSE. Layouts: "
                    "N x F or F x N (F = the model's number of features, e.g. 784), "
                    "N x H x W or H x W x N (e.g. 28 x 28 x N as MATLAB stores image "
                    "stacks), or one H x W image. Integer types (e.g. uint8 0-255) "
                    "are divided by 255 for the model and written back rounded to "
                    "the same type; floats are used and written as they are.")
    rec.add_argument("model", metavar="MODEL", help="model file from `skae fit` or "
                                                    "skae.save")
    rec.add_argument("input", metavar="INPUT.mat", help="MATLAB file (v4 to v7.2)")
    rec.add_argument("-o", "--output", required=True, metavar="OUTPUT.mat",
                     help="MATLAB file to write")
    rec.add_argument("--key", metavar="NAME",
                     help="variable holding the images (default: input_images, or the "
                          "file's only variable)")
    rec.add_argument("--scale", choices=("auto", "255", "1"), default="auto",
                     help="divide the values by 255 before reconstructing (and "
                          "multiply back after): auto = for integer types only "
                          "(default: %(default)s)")
    rec.set_defaults(func=cmd_reconstruct)
    return parser


def main(argv=None):
    """Run the ``skae`` command (``skae --help`` lists its commands).

    Parameters
    ----------
    argv : list of str, default=None
        The command-line arguments after ``skae``; None reads ``sys.argv``.

    Returns
    -------
    status : int
        The exit status: 0 on success, 1 on an error (reported as one line
        on stderr), 130 when interrupted; bad arguments exit with status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    threads = _set_threads(args)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"skae {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:  # e.g. a dataset that is not installed
        print(f"skae {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"skae {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if threads is not None:  # leave the process as it was (in-process calls)
            import torch

            torch.set_num_threads(threads)


def _set_threads(args):
    """Apply --threads (or 1 thread for digits); return the previous count."""
    n = getattr(args, "threads", None)
    if n is None and getattr(args, "dataset", None) == "digits":
        n = 1
    if n is None:
        return None
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    return previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
