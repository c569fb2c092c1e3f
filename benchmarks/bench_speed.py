"""Training speed: skae vs a plain PyTorch loop vs plain skorch, and what moves it.

The same network, trained the same number of epochs by each runner, in
alternating rounds in one process (so that machine noise hits all runners
alike). Reported: seconds per epoch (whole ``fit`` divided by epochs, so set-up
costs are included), ratios to the plain loop, and achieved GFLOP/s against
the sgemm rate measured here (2048x2048 float32 matmul). FLOPs are counted
from the layers' shapes: 2 per multiply-add forward, 4 backward.

Models (``--models``; each is skae's own modules, built by skae, so every
runner trains the very same network):

* ``dense``: the default dense model at k = 32, 784-512-256-32 and mirror;
* ``conv``: the default conv model at k = 32, (32, 64) channels;
* ``digits``: 64-32-8 and mirror on digits, where per-batch overhead dominates.

Every runner minimises the default loss (binary cross-entropy on the logits),
with Adam at lr 1e-3 and the default batch size 128. skae runs with its
defaults except ``early_stopping=False`` (no validation split: every runner
does one pass over the same data per epoch); plain skorch is
``NeuralNetRegressor`` with ``train_split=None``. ``--precision bfloat16``
adds skae with ``precision="bfloat16"`` (and the plain loop under
``torch.autocast``) to the rounds.

``--levers`` times one plain-loop epoch of the conv model under each lever the
faster-fits work considered (memory format, batch size, fused Adam, bfloat16
autocast, ``torch.compile``), each on 100 batches after warm-up.

Usage::

    python benchmarks/bench_speed.py                       # dense, conv, digits
    python benchmarks/bench_speed.py --precision bfloat16  # + mixed precision runners
    python benchmarks/bench_speed.py --levers              # the conv levers only
    python benchmarks/bench_speed.py --quick               # a smoke run
"""

import argparse
import platform
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from skae import AutoencoderTransformer
from skae._modules import AutoencoderModule, build_encoder_decoder
from skae.datasets import load_digits, load_fashion_mnist

from _compute import multiply_adds, sgemm_gflops  # noqa: E402  (benchmarks/_compute.py)

MODELS = {
    "dense": dict(architecture="dense", hidden=(512, 256), k=32),
    "conv": dict(architecture="conv", hidden=(32, 64), k=32),
    "digits": dict(architecture="dense", hidden=(32,), k=8),
}


def build(spec, n_features, seed):
    torch.manual_seed(seed)
    side = int(round(n_features ** 0.5))
    enc, dec = build_encoder_decoder(spec["architecture"], n_features, spec["k"],
                                     spec["hidden"], (1, side, side), "relu", 0.0)
    return AutoencoderModule(enc, dec)


def train_flops_per_sample(module, n_features):
    """6 x the multiply-adds of one sample: 2 FLOP per multiply-add forward, 4 backward."""
    return 6 * multiply_adds(module, n_features)


def plain_loop(X, spec, epochs, batch_size, seed, precision="float32"):
    model = build(spec, X.shape[1], seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt = torch.from_numpy(X)
    gen = torch.Generator().manual_seed(seed)
    amp = dict(device_type="cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16")
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            xb = Xt[perm[start:start + batch_size]]
            opt.zero_grad()
            with torch.autocast(**amp):
                out = model(xb)
            loss = F.binary_cross_entropy_with_logits(out.float(), xb)
            loss.backward()
            opt.step()
    return loss.item()


def plain_skorch(X, spec, epochs, batch_size, seed, precision="float32"):
    from skorch import NeuralNetRegressor

    net = NeuralNetRegressor(build(spec, X.shape[1], seed), criterion=nn.BCEWithLogitsLoss,
                             optimizer=torch.optim.Adam, lr=1e-3, batch_size=batch_size,
                             max_epochs=epochs, train_split=None, verbose=0)
    net.fit(X, X)
    return net.history[-1, "train_loss"]


def skae_fit(X, spec, epochs, batch_size, seed, precision="float32"):
    ae = AutoencoderTransformer(n_components=spec["k"], architecture=spec["architecture"],
                                hidden_layer_sizes=spec["hidden"], batch_size=batch_size,
                                max_epochs=epochs, early_stopping=False, device="cpu",
                                precision=precision, random_state=seed)
    ae.fit(X)
    return ae.history_[-1]["train_loss"]


RUNNERS = {"plain loop": plain_loop, "skorch": plain_skorch, "skae": skae_fit}


def compare(name, X, spec, epochs, batch_size, rounds, sgemm, precisions):
    runs = [(key, p) for p in precisions for key in RUNNERS
            if p == "float32" or key != "skorch"]
    times = {run: [] for run in runs}
    for r in range(rounds):
        for run in (runs if r % 2 == 0 else list(reversed(runs))):
            key, precision = run
            start = time.perf_counter()
            RUNNERS[key](X, spec, epochs, batch_size, seed=r, precision=precision)
            times[run].append((time.perf_counter() - start) / epochs)
    flop = train_flops_per_sample(build(spec, X.shape[1], 0), X.shape[1]) * len(X)
    base = np.median(times[("plain loop", "float32")])
    print(f"\n### {name}: {spec['architecture']} {spec['hidden']}, k = {spec['k']}, "
          f"{len(X)} samples, batch {batch_size}, {epochs} epochs x {rounds} rounds "
          f"(median); {flop / len(X) / 1e6:.1f} MFLOP per sample per epoch\n")
    print("| runner | precision | s / epoch | ratio to plain loop (float32) | GFLOP/s "
          "| % of fp32 sgemm |")
    print("|---|---|---:|---:|---:|---:|")
    rows = {}
    for run in runs:
        sec = float(np.median(times[run]))
        rows[run] = flop / sec / 1e9
        print(f"| {run[0]} | {run[1]} | {sec:.3f} | {sec / base:.3f} | {rows[run]:.1f} | "
              f"{rows[run] / sgemm:.0%} |")
    return rows


def lever_epoch_seconds(X, opts, n_batches):
    """Seconds of one plain-loop conv epoch over X under the lever ``opts``."""
    bs = opts.get("batch_size", 128)
    model = build(MODELS["conv"], X.shape[1], 0)
    if opts.get("channels_last"):
        model = model.to(memory_format=torch.channels_last)
    adam = {k: opts[k] for k in ("fused", "foreach") if k in opts}
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, **adam)
    forward = torch.compile(model) if opts.get("compile") else model
    amp = dict(device_type="cpu", dtype=torch.bfloat16, enabled=opts.get("bf16", False))
    Xt = torch.from_numpy(X)

    def step(i):
        xb = Xt[(i * bs) % (len(Xt) - bs):][:bs]
        opt.zero_grad()
        with torch.autocast(**amp):
            out = forward(xb)
        F.binary_cross_entropy_with_logits(out.float(), xb).backward()
        opt.step()

    for i in range(5):  # warm-up (and compilation)
        step(i)
    start = time.perf_counter()
    for i in range(n_batches):
        step(i)
    return (time.perf_counter() - start) / (n_batches * bs) * len(X)


LEVERS = [
    ("float32, batch 128 (the default)", {}),
    ("channels_last memory format", dict(channels_last=True)),
    ("batch 64", dict(batch_size=64)),
    ("batch 256", dict(batch_size=256)),
    ("batch 512", dict(batch_size=512)),
    ("Adam(fused=True)", dict(fused=True)),
    ("Adam(foreach=False)", dict(foreach=False)),
    ("bfloat16 autocast, batch 128", dict(bf16=True)),
    ("bfloat16 autocast, batch 256", dict(bf16=True, batch_size=256)),
    ("torch.compile", dict(compile=True)),
]


def levers(X, sgemm, n_batches=100):
    """One plain-loop conv epoch under each lever, extrapolated from n_batches."""
    flop_per_sample = train_flops_per_sample(build(MODELS["conv"], X.shape[1], 0), X.shape[1])
    print(f"\n### Levers: plain-loop conv epoch ({len(X)} samples), from {n_batches} "
          f"batches after warm-up\n")
    print("| lever | s / epoch | GFLOP/s | % of fp32 sgemm | vs default |")
    print("|---|---:|---:|---:|---:|")
    base = None
    for label, opts in LEVERS:
        try:
            sec = lever_epoch_seconds(X, opts, n_batches)
        except Exception as exc:  # noqa: BLE001 - report a lever that does not run
            print(f"| {label} | fails: {type(exc).__name__} | | | |")
            continue
        base = base or sec
        gflops = flop_per_sample * len(X) / sec / 1e9
        print(f"| {label} | {sec:.2f} | {gflops:.1f} | {gflops / sgemm:.0%} | "
              f"{base / sec:.2f}x |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dense,conv,digits",
                        help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="bfloat16: also time the mixed-precision runners")
    parser.add_argument("--levers", action="store_true",
                        help="only the conv levers table")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    unknown = set(args.models.split(",")) - set(MODELS)
    if unknown:
        parser.error(f"unknown --models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    precisions = ["float32"] if args.precision == "float32" else ["float32", "bfloat16"]

    print(f"machine: {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    sgemm = sgemm_gflops()
    print(f"sgemm 2048x2048: {sgemm:.1f} GFLOP/s float32, "
          f"{sgemm_gflops(dtype=torch.bfloat16):.1f} GFLOP/s bfloat16")

    if args.quick:
        X = load_digits(return_X_y=True)[0]
        compare("digits (quick)", X, MODELS["digits"], epochs=2, batch_size=128, rounds=2,
                sgemm=sgemm, precisions=precisions)
        levers(np.zeros((2000, 784), dtype=np.float32), sgemm, n_batches=3)
        return
    fashion = load_fashion_mnist("train", return_X_y=True)[0]
    if args.levers:
        levers(fashion, sgemm)
        return
    for name in args.models.split(","):
        if name == "digits":
            compare("digits (overhead-bound)", load_digits(return_X_y=True)[0],
                    MODELS["digits"], epochs=60, batch_size=128, rounds=5, sgemm=sgemm,
                    precisions=precisions)
        else:
            compare(f"Fashion-MNIST, {name}", fashion, MODELS[name], epochs=2,
                    batch_size=128, rounds=3, sgemm=sgemm, precisions=precisions)


if __name__ == "__main__":
    main()
