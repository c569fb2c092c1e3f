"""Exploration (issue 2): does a richer conv autoencoder reach the k = 32 targets on CPU?

A plain PyTorch loop (not a skae estimator) trains a conv autoencoder with
what skae's conv blocks lack: a stride-1 layer at full resolution on both
ends (16 channels) and BatchNorm after every convolution, around skae's
default stride-2 blocks (32, 64) and a 32-wide code. Same recipe as skae's
defaults otherwise: Adam lr 1e-3, BCE on logits, batch 128, on the 60k
Fashion-MNIST training images; then the test MSE and bench_quality's probe
(LogisticRegression on standardised codes).

Usage::

    python benchmarks/explore_richer_conv.py bn 18     # BatchNorm, 18 epochs (~13 min on 2 cores)
    python benchmarks/explore_richer_conv.py plain 18  # without BatchNorm
"""
import sys, time, numpy as np, torch
from torch import nn
from torch.nn import functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skae.datasets import load_fashion_mnist

bn = sys.argv[1] == "bn" if len(sys.argv) > 1 else True
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
torch.manual_seed(0)
Xtr, ytr = load_fashion_mnist("train", return_X_y=True)
Xte, yte = load_fashion_mnist("test", return_X_y=True)
def block(conv, c):
    return [conv, nn.BatchNorm2d(c), nn.ReLU()] if bn else [conv, nn.ReLU()]
enc = nn.Sequential(*block(nn.Conv2d(1, 16, 3, 1, 1), 16), *block(nn.Conv2d(16, 32, 3, 2, 1), 32),
                    *block(nn.Conv2d(32, 64, 3, 2, 1), 64), nn.Flatten(), nn.Linear(3136, 32))
dec = nn.Sequential(nn.Linear(32, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                    *block(nn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=1), 32),
                    *block(nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), 16),
                    nn.Conv2d(16, 1, 3, 1, 1), nn.Flatten())
model = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), enc, dec)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
X = torch.from_numpy(Xtr)
g = torch.Generator().manual_seed(1)
start = time.perf_counter()
for ep in range(epochs):
    model.train(); t = time.perf_counter(); tot = 0.0
    perm = torch.randperm(len(X), generator=g)
    for i in range(0, len(X), 128):
        xb = X[perm[i:i + 128]]
        loss = F.binary_cross_entropy_with_logits(model(xb), xb)
        opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item() * len(xb)
    print(f"epoch {ep + 1} loss {tot / len(X):.5f} {time.perf_counter() - t:.1f}s", flush=True)
fit = time.perf_counter() - start
model.eval()
with torch.inference_mode():
    def codes(A): return torch.cat([model[1](model[0](torch.from_numpy(A[i:i + 2048]))) for i in range(0, len(A), 2048)]).numpy()
    Zte = codes(Xte); Ztr = codes(Xtr)
    rec = torch.sigmoid(torch.cat([model[2](torch.from_numpy(Zte[i:i + 2048])) for i in range(0, len(Zte), 2048)])).numpy()
mse = float(np.mean((rec.astype(np.float64) - Xte) ** 2))
acc = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Ztr, ytr).score(Zte, yte)
print(f"RESULT bn={bn} epochs={epochs} test MSE {mse:.4f} probe {acc:.3f} fit {fit:.0f}s")
