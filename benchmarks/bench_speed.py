"""Training speed: skae vs a plain PyTorch loop vs plain skorch.

The same network, trained the same number of epochs by each runner, in
alternating rounds in one process (so that machine noise hits all three
alike). Reported: seconds per epoch (whole ``fit`` divided by epochs, so
validation and set-up costs are included), ratios to the plain loop, and
achieved GFLOP/s against the sgemm rate measured here (2048x2048 matmul).

* Fashion-MNIST model: 784-512-256-32 and mirror, batch 256, Adam, 60k images.
* Small model: digits, 64-32-8 and mirror, batch 256, where per-batch
  overhead dominates.

Every runner minimises the MSE of a sigmoid output (skae: ``loss="mse",
output_activation="sigmoid", early_stopping=False``); plain skorch is
``NeuralNetRegressor`` with its defaults except ``train_split=None`` (its
default holds out 20% for validation, which would make it do less training
work per epoch than the others).

Usage::

    python benchmarks/bench_speed.py            # full (about 5 minutes)
    python benchmarks/bench_speed.py --quick    # a smoke run
"""

import argparse
import platform
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from skae import AutoencoderTransformer
from skae.datasets import load_digits, load_fashion_mnist


def mlp_autoencoder(sizes):
    layers = []
    full = list(sizes) + list(reversed(sizes[:-1]))
    for i in range(len(full) - 1):
        layers.append(nn.Linear(full[i], full[i + 1]))
        if i != len(sizes) - 2 and i != len(full) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train_flops_per_sample(sizes):
    macs = 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))  # encoder + decoder
    return 6 * macs  # forward 2 FLOP/MAC, backward 4 FLOP/MAC


def plain_loop(X, sizes, epochs, batch_size, seed):
    torch.manual_seed(seed)
    model = mlp_autoencoder(sizes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt = torch.from_numpy(X)
    gen = torch.Generator().manual_seed(seed)
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            xb = Xt[perm[start:start + batch_size]]
            opt.zero_grad()
            loss = F.mse_loss(torch.sigmoid(model(xb)), xb)
            loss.backward()
            opt.step()
    return loss.item()


class SigmoidMSE(nn.Module):
    def forward(self, logits, target):
        return F.mse_loss(torch.sigmoid(logits), target)


def plain_skorch(X, sizes, epochs, batch_size, seed):
    from skorch import NeuralNetRegressor

    torch.manual_seed(seed)
    net = NeuralNetRegressor(mlp_autoencoder(sizes), criterion=SigmoidMSE,
                             optimizer=torch.optim.Adam, lr=1e-3, batch_size=batch_size,
                             max_epochs=epochs, train_split=None, verbose=0)
    net.fit(X, X)
    return net.history[-1, "train_loss"]


def skae_fit(X, sizes, epochs, batch_size, seed):
    ae = AutoencoderTransformer(n_components=sizes[-1], hidden_layer_sizes=sizes[1:-1],
                                loss="mse", output_activation="sigmoid",
                                batch_size=batch_size, max_epochs=epochs,
                                early_stopping=False, device="cpu", random_state=seed)
    ae.fit(X)
    return ae.history_[-1]["train_loss"]


RUNNERS = {"plain loop": plain_loop, "skorch": plain_skorch, "skae": skae_fit}


def sgemm_gflops(n=2048, repeats=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9


def compare(name, X, sizes, epochs, batch_size, rounds):
    times = {k: [] for k in RUNNERS}
    for r in range(rounds):
        order = list(RUNNERS) if r % 2 == 0 else list(reversed(RUNNERS))
        for key in order:
            start = time.perf_counter()
            RUNNERS[key](X, sizes, epochs, batch_size, seed=r)
            times[key].append((time.perf_counter() - start) / epochs)
    flop = train_flops_per_sample(sizes) * len(X)
    base = np.median(times["plain loop"])
    rows = []
    for key in RUNNERS:
        sec = float(np.median(times[key]))
        rows.append((key, sec, sec / base, flop / sec / 1e9))
    print(f"\n### {name}: {'-'.join(map(str, sizes))} and mirror, {len(X)} samples, "
          f"batch {batch_size}, {epochs} epochs x {rounds} rounds (median)\n")
    print("| runner | s / epoch | ratio to plain loop | GFLOP/s |")
    print("|---|---:|---:|---:|")
    for key, sec, ratio, gflops in rows:
        print(f"| {key} | {sec:.3f} | {ratio:.3f} | {gflops:.1f} |")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)

    print(f"machine: {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    sgemm = sgemm_gflops()
    print(f"sgemm 2048x2048: {sgemm:.1f} GFLOP/s")

    if args.quick:
        X = load_digits(return_X_y=True)[0]
        compare("digits (quick)", X, [64, 32, 8], epochs=5, batch_size=256, rounds=2)
        return
    X = load_fashion_mnist("train", return_X_y=True)[0]
    rows = compare("Fashion-MNIST", X, [784, 512, 256, 32], epochs=3, batch_size=256,
                   rounds=3)
    print(f"\nskae reaches {rows[2][3] / sgemm:.0%} of the sgemm rate "
          f"(plain loop {rows[0][3] / sgemm:.0%})")
    X = load_digits(return_X_y=True)[0]
    compare("digits (overhead-bound)", X, [64, 32, 8], epochs=60, batch_size=256, rounds=5)


if __name__ == "__main__":
    main()
