"""The cost of batch-invariant inference.

skae pads every inference batch to ``INFERENCE_BATCH_SIZE`` rows so that a
row's output never depends on the other rows of the call (the kernels always
see one shape). This script measures, in one process and one thread budget,
``transform`` throughput with the fixed batch (what skae does) against large
2048-row batches (what skae did before, not batch-invariant), and the latency
of a one-row call, for the default dense and conv autoencoders on 784
features. It also checks the invariance it pays for.

Usage::

    python benchmarks/bench_batch_invariance.py [--n-samples 100000]
"""

import argparse
import time

import numpy as np

from skae import AutoencoderTransformer
from skae._training import INFERENCE_BATCH_SIZE, predict_batches


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.random((args.n_samples, 784), dtype=np.float32)
    print(f"transform of {args.n_samples} x 784 float32 (rows per second; best of 3)\n")
    print("| model | fixed batch of 256 (skae) | batches of 2048 | ratio | one row, ms |")
    print("|---|---:|---:|---:|---:|")
    checks = []
    for arch in ("dense", "conv"):
        ae = AutoencoderTransformer(architecture=arch, max_epochs=1, random_state=0)
        ae.fit(X[:2000])
        device = ae.net_.prepare_inference()

        def run(batch_size, ae=ae, device=device):
            return predict_batches(ae._encode_tensor, X, ae.n_components, device,
                                   np.float32, batch_size=batch_size)

        t_fixed = best_of(lambda: run(INFERENCE_BATCH_SIZE))
        t_big = best_of(lambda: run(2048))
        t_one = best_of(lambda ae=ae: ae.transform(X[:1]), repeat=20)
        n = args.n_samples
        print(f"| {arch} | {n / t_fixed:,.0f} | {n / t_big:,.0f} | "
              f"{t_big / t_fixed:.2f} | {1e3 * t_one:.2f} |")
        full = ae.transform(X[:5000])
        same = sum(np.array_equal(ae.transform(X[i:i + 1])[0], full[i])
                   for i in range(0, 5000, 25))
        checks.append(f"{arch}: {same} of 200 rows bitwise equal alone and in a "
                      f"5000-row call")
    print("\n" + "\n".join(checks))


if __name__ == "__main__":
    main()
