"""The ``skae`` command: ``skae demo``, ``skae fit`` and ``skae reconstruct``.

Run ``skae --help`` or ``skae <command> --help``. Progress goes to stderr,
results (the comparison table, the MSE) to stdout; errors print one line on
stderr and exit with status 1 (2 for bad command-line arguments).
"""

import argparse
import ast
import sys
import time
from pathlib import Path

import numpy as np

from .datasets import DATASET_NAMES as DATASETS, MIN_SUBSET_SIZE

__all__ = ["main"]

# per-dataset defaults: training / test subset sizes (None = all) and epochs
DATASET_DEFAULTS = {
    "digits": {"n_train": None, "n_test": None, "max_epochs": 100},
    "fashion-mnist": {"n_train": 10000, "n_test": 2000, "max_epochs": 20},
    "mnist": {"n_train": 10000, "n_test": 2000, "max_epochs": 20},
}
NOISE_LEVEL = 0.2  # gaussian noise of the demo's noisy-input column (clipped to [0, 1])


class CLIError(Exception):
    """An error reported as one line on stderr (no traceback)."""


def _progress(message):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------- data
def _load_data(name, *, root, n_train, n_test, random_state):
    """:func:`skae.datasets.load_train_test`, with its size check named after the flags."""
    from .datasets import load_train_test

    for flag, n in (("--n-train", n_train), ("--n-test", n_test)):
        if n is not None and n < MIN_SUBSET_SIZE:
            raise CLIError(f"{flag} must be at least {MIN_SUBSET_SIZE}; got {n}.")
    return load_train_test(name, n_train=n_train, n_test=n_test, root=root,
                           random_state=random_state)


# ----------------------------------------------------------------- models
def _neural(cls_name, **fixed):
    def make(k, image_shape, settings):
        import skae

        return getattr(skae, cls_name)(n_components=k, image_shape=image_shape,
                                       **fixed, **settings)
    return make


def _pca(k, image_shape, settings):
    from sklearn.decomposition import PCA

    return PCA(n_components=k, random_state=settings.get("random_state"))


# The demo's models, in table order: name -> factory(k, image_shape, settings).
# Adding a model is one line.
DEMO_MODELS = {
    "PCA": _pca,
    "AE": _neural("AutoencoderTransformer"),
    "DAE": _neural("DenoisingAE", noise="gaussian", noise_level=NOISE_LEVEL),
    "VAE": _neural("VAETransformer"),
}

# ``skae fit --model``: name -> factory
FIT_MODELS = {
    "ae": _neural("AutoencoderTransformer", architecture="dense"),
    "conv-ae": _neural("AutoencoderTransformer", architecture="conv"),
    "dae": _neural("DenoisingAE"),
    "vae": _neural("VAETransformer"),
}


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


def _probe_accuracy(Z_train, y_train, Z_test, y_test):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return float(probe.fit(Z_train, y_train).score(Z_test, y_test))


def format_table(rows, columns):
    """Plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values):
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths)))

    return "\n".join([line(columns), line(["-" * w for w in widths])]
                     + [line(r) for r in cells])


# ----------------------------------------------------------------- demo
def cmd_demo(args):
    from .evaluation import mse, reconstruction_error
    from ._noise import NoiseInjector

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

    X_train, y_train, X_test, y_test, image_shape = _load_data(
        args.dataset, root=args.data_dir, n_train=n_train, n_test=n_test,
        random_state=args.random_state)
    k = args.n_components
    if not 1 <= k <= X_train.shape[1]:
        raise CLIError(f"--n-components must be between 1 and {X_train.shape[1]} "
                       f"(the number of features); got {k}.")
    _progress(f"skae demo: {args.dataset}, {len(X_train)} training and {len(X_test)} "
              f"test images of {'x'.join(map(str, image_shape))}, n_components={k}")
    X_noisy = NoiseInjector("gaussian", NOISE_LEVEL, clip=(0.0, 1.0),
                            random_state=args.random_state).fit_transform(X_test)

    if any(name != "PCA" for name in names):
        # torch imports some modules (torch._dynamo, ~3 s) at the first optimizer
        # step of a process; a throw-away fit keeps that out of the fit times.
        from . import AutoencoderTransformer

        AutoencoderTransformer(n_components=1, hidden_layer_sizes=(2,), max_epochs=1,
                               early_stopping=False, random_state=0).fit(X_train[:16])
    models, rows = {}, []
    for name in names:
        params = {"random_state": args.random_state} if name == "PCA" else settings
        est = DEMO_MODELS[name](k, image_shape, params)
        _progress(f"  fitting {name} ({type(est).__name__}) ...")
        start = time.perf_counter()
        est.fit(X_train)
        seconds = time.perf_counter() - start
        models[name] = est
        accuracy = _probe_accuracy(est.transform(X_train), y_train,
                                   est.transform(X_test), y_test)
        row = {
            "model": name,
            "recon MSE": f"{reconstruction_error(est, X_test):.4f}",
            "probe acc": f"{accuracy:.3f}",
            "noisy MSE": f"{reconstruction_error(est, X_noisy, X_test):.4f}",
            "epochs": str(getattr(est, "n_iter_", "-")),
            "fit time (s)": f"{seconds:.1f}",
        }
        rows.append(row)
        _progress(f"  {name}: {seconds:.1f} s, recon MSE {row['recon MSE']}, "
                  f"probe acc {row['probe acc']}, noisy MSE {row['noisy MSE']}")

    columns = ["model", "recon MSE", "probe acc", "noisy MSE", "epochs", "fit time (s)"]
    table = format_table(rows, columns)
    notes = (f"n_components={k} for every model; MSE on {len(X_test)} held-out test "
             f"images (pixels in [0, 1]); probe acc = LogisticRegression on the "
             f"standardized codes; noisy MSE = reconstruction of test images with "
             f"gaussian noise {NOISE_LEVEL} (clipped to [0, 1]) vs the clean images "
             f"(the noisy input itself: {mse(X_noisy, X_test):.4f}).")
    print(table)
    print(notes)
    if args.out:
        out = Path(args.out)
        written = write_demo_figures(out, models, X_test, y_test, X_noisy, image_shape,
                                     args.random_state)
        (out / "results.txt").write_text(table + "\n\n" + notes + "\n")
        _progress(f"wrote {out / 'results.txt'} and {len(written)} figures to {out}: "
                  f"{', '.join(written)}")
    return 0


def write_demo_figures(out, models, X_test, y_test, X_noisy, image_shape, random_state):
    """Save the demo's figures (PNG) into ``out``; return the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .evaluation import reconstruct, robustness_report
    from .plotting import (plot_history, plot_latent_grid, plot_latent_space,
                           plot_reconstructions, plot_robustness, plot_samples)

    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name):
        fig.savefig(out / name, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(name)

    n = 10
    rows = {"original": X_test[:n]}
    rows.update({name: reconstruct(est, X_test[:n]) for name, est in models.items()})
    save(plot_reconstructions(rows, n_images=n, image_shape=image_shape,
                              title="reconstructions of test images"), "reconstructions.png")
    rows = {"original": X_test[:n], "noisy": X_noisy[:n]}
    rows.update({name: reconstruct(est, X_noisy[:n]) for name, est in models.items()})
    save(plot_reconstructions(rows, n_images=n, image_shape=image_shape,
                              title=f"denoising (gaussian noise {NOISE_LEVEL})"),
         "denoising.png")
    fig, axes = plt.subplots(1, len(models), figsize=(4.6 * len(models), 4.2),
                             squeeze=False)
    for ax, (name, est) in zip(axes[0], models.items()):
        plot_latent_space(est.transform(X_test), y=y_test, ax=ax, title=name,
                          random_state=random_state)
    save(fig, "latent_space.png")
    neural = {name: est for name, est in models.items() if hasattr(est, "history_")}
    if neural:
        save(plot_history(neural, title="training history"), "history.png")
    for name, est in models.items():
        if hasattr(est, "sample"):
            save(plot_samples(est, 64, image_shape=image_shape,
                              random_state=random_state), f"samples_{name}.png")
            if est.n_components >= 2:  # the two most used latent dimensions
                dims = np.argsort(np.var(est.transform(X_test), axis=0))[::-1][:2]
                save(plot_latent_grid(est, 15, dims=sorted(dims.tolist()),
                                      image_shape=image_shape),
                     f"latent_grid_{name}.png")
    noises = [("gaussian", 0.1), ("gaussian", 0.2), ("gaussian", 0.3), ("gaussian", 0.5),
              ("salt_and_pepper", 0.05), ("salt_and_pepper", 0.1),
              ("salt_and_pepper", 0.2), ("mask", 0.1), ("mask", 0.3), ("mask", 0.5)]
    report = robustness_report(models, X_test, noises=noises, random_state=random_state)
    # long format: one colour per model (and the noisy input), one line style per kind
    clean, noisy_rows = report.rows[0], report.rows[1:]
    kinds = list(dict.fromkeys(r["kind"] for r in noisy_rows))
    sources = ["noisy"] + list(models)
    records = [{"model": "noisy input" if src == "noisy" else src, "kind": row["kind"],
                "level": row["level"], "MSE vs clean X": row[f"mse_{src}"]}
               for src in sources
               for row in [dict(clean, kind=k) for k in kinds] + noisy_rows]
    save(plot_robustness(records, by="model", clean=None,
                         title="reconstruction error of noisy test images"),
         "robustness.png")
    return written


# ----------------------------------------------------------------- fit
def cmd_fit(args):
    from . import save
    from .evaluation import reconstruction_error

    defaults = DATASET_DEFAULTS[args.dataset]
    X_train, _, X_test, _, image_shape = _load_data(
        args.dataset, root=args.data_dir, n_train=args.n_train,
        n_test=defaults["n_test"], random_state=args.random_state)
    est = FIT_MODELS[args.model](args.n_components, image_shape,
                                 {"random_state": args.random_state,
                                  "verbose": int(args.verbose > 0)})
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
    path = Path(args.output)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    save(est, path)
    print(f"{type(est).__name__}: {est.n_iter_} epochs in {seconds:.1f} s; "
          f"test reconstruction MSE {reconstruction_error(est, X_test):.4f} "
          f"({len(X_test)} test images); saved to {path}")
    return 0


# ----------------------------------------------------------------- reconstruct
def _model_image_shape(model):
    """``(H, W)`` or ``(C, H, W)`` of the model's images, or None."""
    shape = getattr(model, "image_shape_", None)
    n = int(model.n_features_in_)
    if shape is None:
        side = int(round(np.sqrt(n)))
        return (side, side) if side * side == n else None
    shape = tuple(int(s) for s in shape)
    return shape[1:] if len(shape) == 3 and shape[0] == 1 else shape


def to_rows(array, n_features, image_shape):
    """Flatten a stack of images to (N, n_features); return rows and a layout
    function that puts rows back into the input's layout.

    Accepted layouts: ``N x F``, ``F x N``, ``N x *image_shape``,
    ``*image_shape x N`` and a single image ``image_shape`` (MATLAB drops a
    trailing singleton dimension). ``N x ...`` wins when ambiguous.
    """
    a = np.asarray(array)
    shape = tuple(a.shape)
    img = tuple(image_shape) if image_shape is not None else None
    if a.ndim == 2 and shape[1] == n_features:
        return a.reshape(shape[0], n_features), lambda r: r.reshape(shape)
    if img is not None and shape == img:
        return a.reshape(1, n_features), lambda r: r.reshape(shape)
    if a.ndim == 2 and shape[0] == n_features:
        return a.T.reshape(shape[1], n_features), lambda r: r.T.reshape(shape)
    if img is not None and a.ndim == len(img) + 1:
        if shape[1:] == img:
            return a.reshape(shape[0], n_features), lambda r: r.reshape(shape)
        if shape[:-1] == img:
            moved = np.moveaxis(a, -1, 0)
            return (moved.reshape(shape[-1], n_features),
                    lambda r: np.moveaxis(r.reshape((shape[-1],) + img), 0, -1))
    if a.ndim == 1 and shape[0] == n_features:
        return a.reshape(1, n_features), lambda r: r.reshape(shape)
    expected = [f"N x {n_features}", f"{n_features} x N"]
    if img is not None:
        dims = " x ".join(map(str, img))
        expected += [f"N x {dims}", f"{dims} x N", dims]
    raise CLIError(f"images of shape {' x '.join(map(str, shape))} do not fit the "
                   f"model, which takes {n_features} values per image; expected "
                   f"{', '.join(expected)}.")


def cmd_reconstruct(args):
    from scipy.io import loadmat, savemat

    from . import load
    from .evaluation import mse, reconstruct

    model_path, input_path = Path(args.model), Path(args.input)
    if not model_path.is_file():
        raise CLIError(f"model file {model_path} not found.")
    if not input_path.is_file():
        raise CLIError(f"input file {input_path} not found.")
    try:
        model = load(model_path)
    except Exception as exc:  # noqa: BLE001 - any failure means "not a model file"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise CLIError(f"cannot load model {model_path} (expected a file written by "
                       f"skae.save or `skae fit`): {reason}") from None
    try:
        contents = loadmat(input_path)
    except NotImplementedError as exc:  # MATLAB v7.3 = HDF5
        raise CLIError(f"cannot read {input_path}: {exc} (save it from MATLAB with "
                       f"save(..., '-v7')).") from None
    except Exception as exc:  # noqa: BLE001 - scipy raises many types on bad files
        raise CLIError(f"cannot read {input_path} as a MATLAB .mat file: "
                       f"{exc or type(exc).__name__}") from None
    keys = [k for k in contents if not k.startswith("__")]
    key = args.key
    if key is None:
        if "input_images" in keys:
            key = "input_images"
        elif len(keys) == 1:
            key = keys[0]
        else:
            raise CLIError(f"{input_path} holds several variables "
                           f"({', '.join(keys) or 'none'}); choose one with --key.")
    if key not in contents or key.startswith("__"):
        raise CLIError(f"no variable {key!r} in {input_path}; available: "
                       f"{', '.join(keys) or '(none)'}.")
    array = contents[key]
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf" \
            or array.size == 0:
        raise CLIError(f"variable {key!r} is not a non-empty numeric array "
                       f"(got {getattr(array, 'dtype', type(array))}).")
    n_features = int(model.n_features_in_)
    rows, restore = to_rows(array, n_features, _model_image_shape(model))

    dtype = array.dtype
    scale = args.scale if args.scale != "auto" else \
        ("255" if dtype.kind in "iu" else "1")
    X = rows.astype(np.float32)
    if scale == "255":
        X /= 255.0
    if getattr(model, "loss_", None) == "bce" and (X.min() < 0 or X.max() > 1):
        raise CLIError(f"the model was trained on values in [0, 1] but {key!r} holds "
                       f"values in [{X.min():.4g}, {X.max():.4g}] after scaling "
                       f"(--scale {scale}); for 0-255 data pass --scale 255.")
    _progress(f"reconstructing {len(X)} images from {input_path}:{key} "
              f"({'x'.join(map(str, array.shape))} {dtype}) with "
              f"{type(model).__name__} ...")
    rec = np.asarray(reconstruct(model, X), dtype=np.float64)
    error = mse(rec, X)
    if dtype.kind in "iub":
        if scale == "255":
            rec = rec * 255.0
        info = np.iinfo(dtype) if dtype.kind in "iu" else None
        low, high = (info.min, info.max) if info else (0, 1)
        out = np.clip(np.rint(rec), low, high).astype(dtype)
    else:
        out = (rec * 255.0 if scale == "255" else rec).astype(dtype)
    out = restore(out)
    output = Path(args.output)
    try:
        savemat(output, {key: out}, do_compression=True)
    except OSError as exc:
        raise CLIError(f"cannot write {output}: {exc}") from None
    unit = "pixel values scaled to [0, 1]" if scale == "255" else "the input's units"
    print(f"reconstructed {len(X)} images; MSE {error:.6f} ({unit}); wrote "
          f"{output} (variable {key!r}, shape {'x'.join(map(str, out.shape))}, {dtype})")
    return 0


# ----------------------------------------------------------------- parser
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_data_args(p, n_train_help):
    p.add_argument("--dataset", choices=DATASETS, default="digits",
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
    from . import __version__

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
                    "clipped) against the clean ones, epochs and fit time. With "
                    "--out, also save figures there.")
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
                           "grid, robustness) as PNG files in DIR")
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
    """Run the ``skae`` command; returns the exit status."""
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
