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
"""

import argparse
import json
import platform
import time

import numpy as np
import torch
from sklearn.decomposition import PCA
from skorch.callbacks import LRScheduler

from skae import AutoencoderTransformer, DenoisingAE
from skae.datasets import load_digits, load_fashion_mnist
from skae.evaluation import probe_accuracy

MODELS = ("pca", "dense", "conv", "dae-dense", "dae-conv")


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
