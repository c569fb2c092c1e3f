"""Inference memory: transform 500k x 784 float32 with bounded extra memory.

Builds X (500k x 784 float32, 1.57 GB), fits a default-size dense
autoencoder briefly on a slice, then measures how much the process's resident
memory grows while ``transform`` and ``score_samples`` run over all of X
(sampled every 5 ms in a thread). The growth must stay near the output size
plus a few batches of activations, never a copy of X.

Usage::

    python benchmarks/bench_memory.py [--n-samples 500000]
"""

import argparse

import numpy as np

from skae import AutoencoderTransformer
from skae._training import INFERENCE_BATCH_SIZE

from _compute import peak_growth


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=500_000)
    args = parser.parse_args(argv)
    n, d, k = args.n_samples, 784, 32
    X = np.random.RandomState(0).uniform(size=(n, d)).astype(np.float32)
    ae = AutoencoderTransformer(n_components=k, max_epochs=1, early_stopping=False,
                                random_state=0).fit(X[:2000])
    mb = 1024 ** 2
    batch_in = INFERENCE_BATCH_SIZE * d * 4
    print(f"X: {n} x {d} float32 = {X.nbytes / mb:.0f} MiB; inference batch "
          f"{INFERENCE_BATCH_SIZE} rows = {batch_in / mb:.1f} MiB of input\n")
    print("| call | output (MiB) | peak RSS growth (MiB) | growth - output (MiB) | time (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, fn in [("transform", lambda: ae.transform(X)),
                     ("score_samples", lambda: ae.score_samples(X))]:
        out, growth, elapsed = peak_growth(fn)
        print(f"| {name} | {out.nbytes / mb:.1f} | {growth / mb:.1f} | "
              f"{(growth - out.nbytes) / mb:.1f} | {elapsed:.1f} |")
        del out


if __name__ == "__main__":
    main()
