"""Reconstruction quality: PCA vs dense and conv autoencoders on Fashion-MNIST.

Each model is fitted on the 60k training images and evaluated on the 10k test
images at n_components 2, 8 and 32:

* test MSE: mean squared error of ``inverse_transform(transform(X_test))``;
* probe accuracy: a LogisticRegression (on standardised codes) trained on the
  training codes, scored on the test codes;
* fit time in seconds.

Models (``--models``): ``pca``; ``dense`` and ``conv``, an
``AutoencoderTransformer`` of that architecture; ``dae-dense`` and
``dae-conv``, a ``DenoisingAE`` (its noise set through ``--params``, e.g.
``{"noise": "mask", "noise_level": 0.3}``). skae models use their defaults
(only ``n_components``, ``architecture`` and ``random_state`` are set)
unless ``--max-epochs`` or ``--params`` (a JSON dict of the estimator's
parameters) say otherwise. ``--cosine`` adds
skorch's ``LRScheduler`` with a cosine decay of the learning rate to zero
over ``max_epochs`` (through the estimators' ``callbacks`` parameter).

``--time-budget S`` draws quality against time instead: each configuration
of ``CONFIGS`` (or those named by ``--configs``) at k = 32 trains until it has
spent S seconds (or its epochs end), its test MSE measured after every epoch
(the measuring is not counted in the seconds); the table lists the curve
points and ``--figdir`` gets the figure, PCA's test MSE as the reference line.

Usage::

    python benchmarks/bench_quality.py                       # everything
    python benchmarks/bench_quality.py --models dense --ks 32
    python benchmarks/bench_quality.py --quick               # smoke run on digits
    python benchmarks/bench_quality.py --models conv --ks 32 \
        --params '{"hidden_layer_sizes": [32, 64, 128], "max_epochs": 60}'
    python benchmarks/bench_quality.py --models conv --ks 32 --cosine \
        --params '{"lr": 0.002, "max_epochs": 55}'
    python benchmarks/bench_quality.py --models dae-conv --ks 32 \
        --params '{"noise": "mask", "noise_level": 0.3, "max_epochs": 40}'
    python benchmarks/bench_quality.py --time-budget 150 --figdir docs
"""

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from skorch.callbacks import Callback, LRScheduler

from skae import AutoencoderTransformer, DenoisingAE
from skae.datasets import load_digits, load_fashion_mnist
from skae.evaluation import probe_accuracy

MODELS = ("pca", "dense", "conv", "dae-dense", "dae-conv")

COSINE = {"lr_schedule": "cosine", "lr": 2e-3, "max_epochs": 20}
#: the configurations ``--time-budget`` compares: (model, parameters)
CONFIGS = {
    "conv, defaults": ("conv", {}),
    "conv, cosine lr 2e-3, 20 epochs": ("conv", COSINE),
    "conv, bfloat16": ("conv", {"precision": "bfloat16"}),
    "dense, defaults": ("dense", {}),
    "dense, bfloat16": ("dense", {"precision": "bfloat16"}),
}


def make_model(kind, k, params):
    if kind == "pca":
        return PCA(n_components=k, random_state=0)
    if kind.startswith("dae-"):
        return DenoisingAE(n_components=k, architecture=kind[4:], random_state=0, **params)
    return AutoencoderTransformer(n_components=k, architecture=kind, random_state=0, **params)


def evaluate(kind, k, data, params):
    X_train, y_train, X_test, y_test = data
    model = make_model(kind, k, params)
    start = time.perf_counter()
    model.fit(X_train)
    fit_time = time.perf_counter() - start
    Z_test = model.transform(X_test)
    rec = model.inverse_transform(Z_test)
    mse = float(np.mean((rec.astype(np.float64) - X_test) ** 2))
    acc = probe_accuracy(model.transform(X_train), y_train, Z_test, y_test)
    epochs = getattr(model, "n_iter_", "")
    return dict(model=kind, k=k, mse=mse, acc=acc, fit=fit_time, epochs=epochs)


class QualityCurve(Callback):
    """After every epoch: record (seconds of training so far, test MSE); stop
    training (as Ctrl-C would) once ``budget`` seconds are spent."""

    def __init__(self, X_test, budget, start):
        self.X_test, self.budget, self.start = X_test, budget, start
        self.points, self.paused = [], 0.0

    def on_epoch_end(self, net, **kwargs):
        begin = time.perf_counter()
        seconds = begin - self.start - self.paused
        module = net.module_
        module.eval()
        with torch.inference_mode():
            X = torch.from_numpy(self.X_test)
            rec = torch.cat([torch.sigmoid(module(X[i:i + 1000]))
                             for i in range(0, len(X), 1000)])
        module.train()
        self.points.append((len(net.history), seconds,
                            float(torch.mean((rec.double() - X.double()) ** 2))))
        self.paused += time.perf_counter() - begin
        if seconds >= self.budget:
            raise KeyboardInterrupt


def time_budget(budget, names, data, figdir):
    X_train, _, X_test, _ = data
    pca = PCA(n_components=32, random_state=0).fit(X_train)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2))
    print(f"PCA(32) test MSE: {pca_mse:.4f}\n")
    print("| configuration | epoch | seconds | test MSE |")
    print("|---|---:|---:|---:|")
    curves = {}
    for name in names:
        kind, params = CONFIGS[name]
        start = time.perf_counter()
        curve = QualityCurve(X_test, budget, start)
        model = make_model(kind, 32, dict(params, callbacks=[("curve", curve)]))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "training was interrupted")
            model.fit(X_train)
        curve = dict(model.net_.callbacks_)["curve"]  # fit copies its callbacks
        curves[name] = curve.points
        for epoch, seconds, mse in curve.points:
            print(f"| {name} | {epoch} | {seconds:.0f} | {mse:.4f} |", flush=True)
    if figdir:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, points in curves.items():
            ax.plot([p[1] for p in points], [p[2] for p in points], marker=".", label=name)
        ax.axhline(pca_mse, color="k", ls="--", label="PCA(32)")
        ax.set(xlabel="training seconds (2 CPU cores)", ylabel="test MSE",
               title=f"Fashion-MNIST, k = 32: quality against time (budget {budget:.0f} s)",
               ylim=(0.006, 0.0165))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = os.path.join(figdir, "quality_vs_time.png")
        fig.savefig(path, dpi=110)
        print(f"\nfigure: {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="pca,dense,conv",
                        help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--ks", default="2,8,32")
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--params", default="{}",
                        help="JSON dict of AutoencoderTransformer parameters, e.g. "
                             "'{\"hidden_layer_sizes\": [32, 64, 128]}'")
    parser.add_argument("--quick", action="store_true", help="digits, 2 epochs")
    parser.add_argument("--cosine", action="store_true",
                        help="decay the learning rate to 0 over max_epochs (cosine)")
    parser.add_argument("--time-budget", type=float, default=None, metavar="S",
                        help="quality-against-time curves of CONFIGS at k = 32, S seconds each")
    parser.add_argument("--configs", default=None,
                        help=f"with --time-budget: ';'-separated, of {'; '.join(CONFIGS)}")
    parser.add_argument("--figdir", default=None, help="with --time-budget: write the figure here")
    args = parser.parse_args(argv)
    unknown = set(args.models.split(",")) - set(MODELS)
    if unknown:
        parser.error(f"unknown --models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    params = json.loads(args.params)
    if "hidden_layer_sizes" in params:
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])

    if args.quick:
        X, y = load_digits(return_X_y=True)
        data = (X[:1400], y[:1400], X[1400:], y[1400:])
        args.max_epochs = 2
    else:
        X_train, y_train = load_fashion_mnist("train", return_X_y=True)
        X_test, y_test = load_fashion_mnist("test", return_X_y=True)
        data = (X_train, y_train, X_test, y_test)
    if args.time_budget is not None:
        names = list(CONFIGS) if args.configs is None else args.configs.split(";")
        if set(names) - set(CONFIGS):
            parser.error(f"unknown --configs {sorted(set(names) - set(CONFIGS))}")
        return time_budget(args.time_budget, names, data, args.figdir)
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    if args.cosine:
        t_max = params.get("max_epochs", AutoencoderTransformer().max_epochs)
        params["callbacks"] = [("lr_cosine", LRScheduler("CosineAnnealingLR", T_max=t_max))]

    print(f"machine: {platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; train {len(data[0])}, test {len(data[2])}; "
          f"autoencoder parameters {params or 'defaults'}\n")
    print("| model | n_components | test MSE | probe accuracy | fit time (s) | epochs |")
    print("|---|---:|---:|---:|---:|---:|")
    for k in [int(v) for v in args.ks.split(",")]:
        for kind in args.models.split(","):
            r = evaluate(kind, k, data, params)
            print(f"| {r['model']} | {r['k']} | {r['mse']:.4f} | {r['acc']:.3f} | "
                  f"{r['fit']:.0f} | {r['epochs']} |", flush=True)


if __name__ == "__main__":
    main()
