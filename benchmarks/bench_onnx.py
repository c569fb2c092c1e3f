"""ONNX inference speed: onnxruntime against skae's own ``transform`` on the CPU.

A default dense and a default conv ``AutoencoderTransformer(n_components=32)``
(fitted for one epoch on 10000 Fashion-MNIST training images: speed does not
depend on the weights) and a pipeline of the dense one with a
``LogisticRegression`` (``predict_proba``) run on Fashion-MNIST test images,
float32, one row per call (batch 1: a service answering single requests) and
4096 rows per call. skae's side is ``transform`` (``predict_proba`` for the
pipeline); onnxruntime's is ``InferenceSession.run`` on the graph from
``skae.to_onnx``, with its default threads (one per core) and torch with its
default threads; the pipeline runs once more with numpy's BLAS limited to
one thread (threadpoolctl). Reported: rows per second (median of
``--rounds`` rounds), and the largest difference between the two outputs.

Usage::

    python benchmarks/bench_onnx.py                # about 2 minutes on 2 cores
    python benchmarks/bench_onnx.py --quick        # digits when Fashion-MNIST is missing
"""

import argparse
import os
import platform
import statistics
import subprocess
import time

import numpy as np
import onnxruntime as ort
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

import skae
from skae import AutoencoderTransformer

from _data import load_data


def rows_per_second(fn, chunks, rounds):
    """Median rows/s of calling ``fn`` on every chunk, over ``rounds`` rounds."""
    fn(chunks[0])  # warm-up (first-call allocations, lazy initialisation)
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for chunk in chunks:
            fn(chunk)
        rates.append(sum(len(c) for c in chunks) / (time.perf_counter() - start))
    return statistics.median(rates)


def compare(name, skae_fn, onnx_model, X, n_single, n_big, rounds):
    session = ort.InferenceSession(onnx_model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    output = -1 if len(session.get_outputs()) > 1 else 0  # the probabilities

    def onnx_fn(x):
        return session.run(None, {input_name: x})[output]

    diff = float(np.max(np.abs(onnx_fn(X[:4096]) - skae_fn(X[:4096]))))
    for batch, n_rows in ((1, n_single), (4096, n_big)):
        chunks = [X[i:i + batch] for i in range(0, n_rows, batch)]
        ours = rows_per_second(skae_fn, chunks, rounds)
        theirs = rows_per_second(onnx_fn, chunks, rounds)
        print(f"| {name} | {batch} | {ours:,.0f} | {theirs:,.0f} | {theirs / ours:.1f}x | "
              f"{diff:.1e} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer rows and rounds (digits without Fashion-MNIST)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    X_train, y_train, X_test, _, data = load_data(args.quick)
    X_train, y_train = X_train[:10000], y_train[:10000]
    X = np.resize(X_test, (8 * 4096, X_test.shape[1])).astype(np.float32)
    n_single, n_big = (200, 4096) if args.quick else (1000, 8 * 4096)
    rounds = 1 if args.quick else args.rounds
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
          f"{ort.__version__}; {data}; commit {commit}\n")
    print("| model | batch | skae rows / s | onnxruntime rows / s | speed-up | max abs diff |")
    print("|---|---:|---:|---:|---:|---:|")
    fast = dict(n_components=32, max_epochs=1, early_stopping=False, device="cpu",
                random_state=0)
    dense = AutoencoderTransformer(**fast).fit(X_train)
    compare("dense AE, transform", dense.transform, skae.to_onnx(dense), X, n_single, n_big,
            rounds)
    conv = AutoencoderTransformer(architecture="conv", **fast).fit(X_train)
    compare("conv AE, transform", conv.transform, skae.to_onnx(conv), X, n_single // 2,
            n_big // 2, rounds)
    pipe = make_pipeline(dense, LogisticRegression(max_iter=200))
    pipe.fit(X_train, y_train)  # refits the dense AE the same way (same seed)
    onnx_pipe = skae.to_onnx(pipe, X[:1], options={"zipmap": False})
    compare("dense AE + LogisticRegression, predict_proba", pipe.predict_proba, onnx_pipe, X,
            n_single, n_big, rounds)
    # numpy's BLAS threads (LogisticRegression) and torch's OpenMP threads take
    # turns in skae's pipeline; limiting BLAS to one thread shows what that costs
    with threadpool_limits(1, user_api="blas"):
        compare("the same, BLAS limited to 1 thread", pipe.predict_proba, onnx_pipe, X,
                n_single, n_big, rounds)


if __name__ == "__main__":
    main()
