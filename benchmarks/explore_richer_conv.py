"""Exploration (issue 2): does a richer conv autoencoder reach the k = 32 targets on CPU?

A plain PyTorch loop (not a skae estimator) trains a conv autoencoder with
what skae's conv blocks lack: a stride-1 layer at full resolution on both
ends (16 channels) and BatchNorm after every convolution, around skae's
default stride-2 blocks (32, 64) and a 32-wide code. Same recipe as skae's
defaults otherwise: Adam lr 1e-3, BCE on logits, batch 128, on the 60k
Fashion-MNIST training images; then the test MSE and skae.evaluation's
probe_accuracy (LogisticRegression on standardised codes).

Usage::

    python benchmarks/explore_richer_conv.py bn 18     # BatchNorm, 18 epochs (~13 min on 2 cores)
    python benchmarks/explore_richer_conv.py plain 18  # without BatchNorm
"""
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from skae._training import predict_batches
from skae.evaluation import probe_accuracy

from _data import load_data  # benchmarks/_data.py

bn = sys.argv[1] == "bn" if len(sys.argv) > 1 else True
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
torch.manual_seed(0)
Xtr, ytr, Xte, yte, _ = load_data(quick=False)


def block(conv, channels):
    return [conv, nn.BatchNorm2d(channels), nn.ReLU()] if bn else [conv, nn.ReLU()]


encoder = nn.Sequential(
    nn.Unflatten(1, (1, 28, 28)),
    *block(nn.Conv2d(1, 16, 3, 1, 1), 16),       # full resolution, stride 1
    *block(nn.Conv2d(16, 32, 3, 2, 1), 32),      # skae's stride-2 blocks
    *block(nn.Conv2d(32, 64, 3, 2, 1), 64),
    nn.Flatten(), nn.Linear(3136, 32))
decoder = nn.Sequential(
    nn.Linear(32, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
    *block(nn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=1), 32),
    *block(nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), 16),
    nn.Conv2d(16, 1, 3, 1, 1), nn.Flatten())      # full resolution, stride 1
model = nn.Sequential(encoder, decoder)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
X = torch.from_numpy(Xtr)
g = torch.Generator().manual_seed(1)
start = time.perf_counter()
for ep in range(epochs):
    model.train()
    t, total = time.perf_counter(), 0.0
    perm = torch.randperm(len(X), generator=g)
    for i in range(0, len(X), 128):
        xb = X[perm[i:i + 128]]
        loss = F.binary_cross_entropy_with_logits(model(xb), xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    print(f"epoch {ep + 1} loss {total / len(X):.5f} {time.perf_counter() - t:.1f}s",
          flush=True)
fit = time.perf_counter() - start

model.eval()
Ztr = predict_batches(encoder, Xtr, 32, "cpu", np.float32)
Zte = predict_batches(encoder, Xte, 32, "cpu", np.float32)
rec = predict_batches(lambda z: torch.sigmoid(decoder(z)), Zte, 784, "cpu", np.float64)
mse = float(np.mean((rec - Xte) ** 2))
acc = probe_accuracy(Ztr, ytr, Zte, yte)
print(f"RESULT bn={bn} epochs={epochs} test MSE {mse:.4f} probe {acc:.3f} fit {fit:.0f}s")
