"""Compute accounting shared by the speed benchmarks (run them as ``python benchmarks/X.py``)."""

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
