"""Inference speed: ``transform`` of a fitted model, rows per second and GFLOP/s.

A default dense and a default conv ``AutoencoderTransformer`` (k = 32, fitted
for 1 epoch on Fashion-MNIST's training images: the speed of inference does not
depend on how well the weights are trained) and ``PCA(32)`` transform 1M rows
(Fashion-MNIST's training images tiled, float32, 3.1 GB). Reported: seconds,
rows per second, and for the networks the achieved GFLOP/s of the encoder's
forward pass (2 FLOP per multiply-add of its layers) against the float32 sgemm
rate measured here (2048x2048 matmul). A plain ``torch`` forward of the same
encoder over the same rows in batches of 256 and of 4096 (no padding, no
output array) shows what skae's batching costs.

Usage::

    python benchmarks/bench_inference.py               # 1M rows (about 3 minutes)
    python benchmarks/bench_inference.py --rows 100000
"""

import argparse
import platform
import time

import numpy as np
import torch
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae._training import INFERENCE_BATCH_SIZE
from skae.datasets import load_fashion_mnist

from _compute import multiply_adds, sgemm_gflops  # noqa: E402  (benchmarks/_compute.py)


def forward_flops_per_row(module, n_features):
    """2 FLOP per multiply-add of one row's forward pass."""
    return 2 * multiply_adds(module, n_features)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def plain_forward(encoder, X, batch_size):
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            encoder(torch.from_numpy(X[start:start + batch_size]))


def network_rows(arch, ae, X, sgemm):
    encoder = ae.encoder_.eval()
    flop = forward_flops_per_row(encoder, X.shape[1])
    runs = [("transform", lambda: ae.transform(X))]
    runs += [(f"plain forward, batch {bs}", lambda bs=bs: plain_forward(encoder, X, bs))
             for bs in (256, 4096)]
    for what, fn in runs:
        sec = timed(fn)
        gflops = flop * len(X) / sec / 1e9
        print(f"| {arch} (k = 32) | {what} | {sec:.2f} | {len(X) / sec:,.0f} | "
              f"{gflops:.1f} | {gflops / sgemm:.0%} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    train = load_fashion_mnist("train", return_X_y=True)[0]
    X = np.resize(train, (args.rows, train.shape[1]))
    sgemm = sgemm_gflops()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; sgemm 2048x2048: {sgemm:.1f} GFLOP/s; "
          f"{args.rows} rows x {X.shape[1]} float32; skae pads every inference batch to "
          f"{INFERENCE_BATCH_SIZE} rows\n")
    print("| model | what | seconds | rows / s | GFLOP/s | % of sgemm |")
    print("|---|---|---:|---:|---:|---:|")

    pca = PCA(n_components=32, random_state=0).fit(train)
    sec = timed(lambda: pca.transform(X))
    print(f"| PCA(32) | transform | {sec:.2f} | {args.rows / sec:,.0f} | | |", flush=True)

    for arch in ("dense", "conv"):
        ae = AutoencoderTransformer(n_components=32, architecture=arch, max_epochs=1,
                                    early_stopping=False, device="cpu",
                                    random_state=0).fit(train)
        network_rows(arch, ae, X, sgemm)

if __name__ == "__main__":
    main()
