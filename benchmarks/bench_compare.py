"""compare_reducers on Fashion-MNIST: PCA against dense and conv autoencoders.

What the user guide's "Choosing n_components" and "Choosing an architecture"
sections show: :func:`skae.evaluation.compare_reducers` run on a stratified
subset of Fashion-MNIST's training images (``--n-train``, default 10000) and
the official test images (``--n-test`` of them, default 2000), every
autoencoder with its defaults (``random_state=0``). Prints the report (the
markdown table and its notes) and, with ``--figdir``, saves ``report.plot()``
as ``compare_reducers_fashion.png``.

Usage::

    python benchmarks/bench_compare.py --figdir docs    # about 5 minutes
    python benchmarks/bench_compare.py --quick          # digits, 2 epochs
"""

import argparse
import os
import platform

import torch
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.datasets import load_train_test
from skae.evaluation import compare_reducers


def reducers(quick):
    epochs = {"max_epochs": 2} if quick else {}
    return {
        "PCA 8": PCA(8, random_state=0),
        "dense AE 8": AutoencoderTransformer(8, random_state=0, **epochs),
        "PCA 32": PCA(32, random_state=0),
        "dense AE 32": AutoencoderTransformer(32, random_state=0, **epochs),
        "conv AE 32": AutoencoderTransformer(32, architecture="conv", random_state=0,
                                             **epochs),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--figdir", default=None, help="save the report's figure here")
    parser.add_argument("--quick", action="store_true", help="digits, 2 epochs")
    args = parser.parse_args(argv)

    name = "digits" if args.quick else "fashion-mnist"
    X_train, y_train, X_test, y_test, _ = load_train_test(
        name, n_train=None if args.quick else args.n_train,
        n_test=None if args.quick else args.n_test, random_state=0)
    print(f"machine: {platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {name}: {len(X_train)} training and "
          f"{len(X_test)} test images\n")
    # torch imports modules at a process's first optimizer step (~2 s): not in a fit time
    AutoencoderTransformer(1, hidden_layer_sizes=(2,), max_epochs=1, early_stopping=False,
                           random_state=0).fit(X_train[:16])
    report = compare_reducers(reducers(args.quick), X_train, y_train, X_test=X_test,
                              y_test=y_test, noise=("gaussian", 0.2, {"clip": (0, 1)}),
                              random_state=0)
    print(report.to_markdown())
    print(f"\n{report.notes}")
    if args.figdir:
        path = os.path.join(args.figdir, "compare_reducers_fashion.png")
        report.plot(["mse", "noisy_mse", "trustworthiness", "probe_acc", "fit_s"],
                    title=f"compare_reducers on {name} ({len(X_train)} training "
                          f"images)").savefig(path, dpi=100)
        print(f"figure: {path}")


if __name__ == "__main__":
    main()
