"""VAE benchmark: VAETransformer beside PCA and AutoencoderTransformer.

Fashion-MNIST, train on the 60k training images, evaluate on the 10k test
images, at ``n_components`` 2, 8 and 32. Every estimator uses its defaults
(``random_state=0``). Reported per method and size:

* test MSE: mean squared error of the reconstruction of the test images (for
  the VAE, the decoding of the posterior mean, i.e. ``reconstruct``);
* test ELBO: ``VAETransformer.score`` on the test images, the mean ELBO per
  image in nats (Bernoulli likelihood, posterior-mean reconstruction term +
  analytic KL, beta = 1); not defined for PCA and the plain autoencoder;
* probe: accuracy on the test labels of a logistic regression (standardised
  codes, ``LogisticRegression(max_iter=1000)``) trained on the training codes;
* fit seconds and epochs trained.

Targets from issue 4: test MSE <= 0.030 at n_components=2 (PCA: 0.046) and
<= 0.016 at 8. Figures: 64 samples from the prior of the VAE with
``--samples-n`` components, and the decoded 2-D latent grid of the
``n_components=2`` VAE, saved as PNGs (``docs/`` for a full run,
``out/bench_vae/`` with ``--quick`` unless ``--figdir`` says otherwise).

Usage::

    python benchmarks/bench_vae.py            # full (long: 6 networks on 60k images)
    python benchmarks/bench_vae.py --quick    # smoke run: 3k/1k images, 2 epochs
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from skae import AutoencoderTransformer, VAETransformer  # noqa: E402
from skae.evaluation import probe_accuracy  # noqa: E402
from skae.plotting import plot_latent_grid, plot_samples  # noqa: E402

from _data import load_data  # noqa: E402  (benchmarks/_data.py)

TARGET_MSE = {2: 0.030, 8: 0.016}
ROOT = Path(__file__).resolve().parent.parent


def evaluate(name, est, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    est.fit(X_train)
    fit_s = time.perf_counter() - start
    Z_train, Z_test = est.transform(X_train), est.transform(X_test)
    if hasattr(est, "reconstruct"):
        rec = est.reconstruct(X_test)
    else:
        rec = est.inverse_transform(Z_test)
    diff = rec.astype(np.float64) - X_test.astype(np.float64)
    return {
        "method": name,
        "n_components": est.n_components,
        "test_mse": float(np.mean(diff * diff)),
        "test_elbo": float(est.score(X_test)) if isinstance(est, VAETransformer) else None,
        "probe_acc": probe_accuracy(Z_train, y_train, Z_test, y_test, max_iter=1000),
        "fit_s": fit_s,
        "epochs": getattr(est, "n_iter_", None),
    }


def markdown_table(rows):
    lines = ["| n_components | method | test MSE | test ELBO (nats) | probe acc. "
             "| fit s | epochs |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        elbo = "—" if r["test_elbo"] is None else f"{r['test_elbo']:.1f}"
        epochs = "—" if r["epochs"] is None else str(r["epochs"])
        lines.append(f"| {r['n_components']} | {r['method']} | {r['test_mse']:.4f} | {elbo} "
                     f"| {r['probe_acc']:.3f} | {r['fit_s']:.1f} | {epochs} |")
    return "\n".join(lines)


def vae_terms_table(vaes, X_probe):
    lines = ["| n_components | epochs | valid recon (nats) | valid KL (nats) "
             "| active dims (KL > 0.01) |",
             "|---:|---:|---:|---:|---:|"]
    for n, vae in vaes.items():
        best = min(vae.history_, key=lambda h: h.get("valid_loss", h["train_loss"]))
        recon = best.get("valid_recon", best["train_recon"])
        kl = best.get("valid_kl", best["train_kl"])
        lines.append(f"| {n} | {vae.n_iter_} | {recon:.1f} | {kl:.1f} "
                     f"| {active_dims(vae, X_probe)} / {n} |")
    return "\n".join(lines)


def active_dims(vae, X):
    """Latent dimensions whose mean KL over the rows of X exceeds 0.01 nats."""
    with torch.no_grad():
        mean, logvar = vae.encoder_.stats(torch.from_numpy(np.asarray(X, np.float32)))
    kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean(0)
    return int((kl > 0.01).sum())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3k train / 1k test images, 2 epochs")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 8, 32],
                        help="n_components values (default: 2 8 32)")
    parser.add_argument("--samples-n", type=int, default=8,
                        help="n_components of the VAE whose samples are saved")
    parser.add_argument("--figdir", default=None,
                        help="where the PNGs go (default: docs/, out/bench_vae/ "
                             "with --quick)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)

    figdir = Path(args.figdir or (ROOT / ("out/bench_vae" if args.quick else "docs")))
    figdir.mkdir(parents=True, exist_ok=True)
    extra = dict(max_epochs=2) if args.quick else {}

    X_train, y_train, X_test, y_test, data_name = load_data(args.quick)
    print(f"data: {data_name}, train {X_train.shape}, test {X_test.shape}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, threads {torch.get_num_threads()}")
    if args.quick:
        print("quick run: max_epochs=2, numbers are NOT representative")

    rows, vaes = [], {}
    for n in args.sizes:
        rows.append(evaluate("PCA", PCA(n_components=n, random_state=0),
                             X_train, y_train, X_test, y_test))
        rows.append(evaluate("AutoencoderTransformer",
                             AutoencoderTransformer(n_components=n, random_state=0, **extra),
                             X_train, y_train, X_test, y_test))
        vae = VAETransformer(n_components=n, random_state=0, **extra)
        rows.append(evaluate("VAETransformer", vae, X_train, y_train, X_test, y_test))
        vaes[n] = vae
        print(f"done n_components={n}", flush=True)

    print(f"\n### Fashion-MNIST reconstructions, codes and ELBO ({data_name})\n")
    print(markdown_table(rows))
    print("\n### VAE loss terms at the restored epoch (validation split)\n")
    print(vae_terms_table(vaes, X_test[:2000]))
    print()
    for n, target in TARGET_MSE.items():
        vae_row = next((r for r in rows if r["method"] == "VAETransformer"
                        and r["n_components"] == n), None)
        if vae_row is not None:
            ok = "met" if vae_row["test_mse"] <= target else "NOT met"
            print(f"target VAE test MSE <= {target} at n_components={n}: "
                  f"{vae_row['test_mse']:.4f} ({ok})")

    saved = []
    if args.samples_n in vaes:
        fig = plot_samples(vaes[args.samples_n], 64, random_state=0,
                           title=f"VAETransformer(n_components={args.samples_n}): "
                                 f"64 samples from the prior")
        saved.append(figdir / "vae_samples.png")
        fig.savefig(saved[-1], dpi=100)
        plt.close(fig)
    if 2 in vaes:
        fig = plot_latent_grid(vaes[2], n=15, extent=(-2.5, 2.5),
                               title="VAETransformer(n_components=2): decoded latent grid")
        saved.append(figdir / "vae_latent_grid.png")
        fig.savefig(saved[-1], dpi=100)
        plt.close(fig)
    for path in saved:
        print(f"saved {path}")
    if args.json:
        Path(args.json).write_text(json.dumps({"data": data_name, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
