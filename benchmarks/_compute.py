"""Compute and memory accounting shared by the benchmarks (run as ``python benchmarks/X.py``)."""

import os
import threading
import time

import torch
from torch import nn


def multiply_adds(module, n_features):
    """Multiply-adds of one sample's forward pass through ``module``.

    Counted from the shapes of its Linear, Conv2d and ConvTranspose2d layers
    (a transposed convolution feeds each input pixel through its kernel).
    """
    macs = []

    def count(layer, args, out):
        if isinstance(layer, nn.Linear):
            macs.append(layer.in_features * layer.out_features)
        elif isinstance(layer, nn.ConvTranspose2d):
            kh, kw = layer.kernel_size
            macs.append(args[0][0].numel() * layer.out_channels * kh * kw)
        elif isinstance(layer, nn.Conv2d):
            kh, kw = layer.kernel_size
            macs.append(out[0].numel() * layer.in_channels * kh * kw)

    hooks = [m.register_forward_hook(count) for m in module.modules()
             if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        module(torch.zeros(1, n_features))
    for h in hooks:
        h.remove()
    return sum(macs)


def sgemm_gflops(n=2048, repeats=10, dtype=torch.float32):
    """The machine's matmul rate: an ``n x n`` by ``n x n`` product, GFLOP/s."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9


def rss_bytes():
    """The process's resident memory (anonymous and file-backed pages)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_anon():
    """The process's anonymous resident memory (``RssAnon``: what it holds
    itself, not the page cache of the files it maps)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


def peak_growth(fn, memory=rss_bytes, interval=0.005):
    """``(fn(), peak growth of memory() in bytes, seconds)``.

    ``memory()`` is sampled every ``interval`` seconds in a thread while
    ``fn`` runs.
    """
    base = memory()
    peak = [base]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], memory())
            time.sleep(interval)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    done.set()
    thread.join()
    return out, max(peak[0], memory()) - base, elapsed
