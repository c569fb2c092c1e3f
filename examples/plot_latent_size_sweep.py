"""
Latent size: autoencoder vs PCA
===============================

How much does a non-linear autoencoder gain over PCA at the same code size?
We fit :class:`~sklearn.decomposition.PCA` and
:class:`~skae.AutoencoderTransformer` with the same ``n_components`` and
compare their reconstruction error (mean squared error per pixel) on held-out
images, for code sizes from 2 to 32 on the bundled digits (2 to 80 on
Fashion-MNIST).

The autoencoder's advantage is largest for small codes, where a curved
manifold fits the data much better than a flat subspace. As the code grows,
PCA keeps more and more of the variance (it is exact once ``n_components``
reaches the number of pixels) while the autoencoder's error is limited by
its training: on the small digits set (1347 training images of 64 pixels)
PCA overtakes it from about 16 components.

Run it as a script with ``--dataset fashion-mnist`` (or ``mnist``) for the
28x28 datasets; ``--quick`` (or ``SKAE_EXAMPLES_QUICK=1``) shrinks the run to
the part that the tests check.
"""

# %%
# Settings and data
# -----------------
# ``load_train_test`` returns a stratified train/test split (digits) or the
# official splits (MNIST-like sets, subsampled here to keep the run short), as
# float32 images in [0, 1], flattened.
import time

import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.datasets import load_train_test, parse_example_args
from skae.evaluation import reconstruction_error
from skae.plotting import plot_reconstructions

args = parse_example_args()  # --dataset digits|fashion-mnist|mnist, --quick
quick = args.quick
digits = args.dataset == "digits"

if digits:
    sizes = [2, 4, 8, 16, 32]
    n_train = n_test = None
else:
    sizes = [2, 5, 10, 20, 40, 80]
    n_train, n_test = 10_000, 2_000
ae_params = dict(max_epochs=30, random_state=0)
if quick:  # the two ends of the sweep, with the same autoencoder
    sizes = [sizes[0], sizes[-1]]
    n_train, n_test = (None, None) if digits else (2_000, 500)

X_train, y_train, X_test, y_test, image_shape = load_train_test(
    args.dataset, n_train=n_train, n_test=n_test)
print(f"{args.dataset}: {X_train.shape[0]} training and {X_test.shape[0]} test "
      f"images of {image_shape}")

# %%
# Sweep the code size
# -------------------
# Both models see the same training images; the error is measured on the test
# images with :func:`skae.evaluation.reconstruction_error`, which works for
# any transformer with an ``inverse_transform`` (PCA included).
results = {"PCA": [], "autoencoder": []}
models = {}
for k in sizes:
    pca = PCA(n_components=k, random_state=0).fit(X_train)
    start = time.perf_counter()
    ae = AutoencoderTransformer(n_components=k, **ae_params).fit(X_train)
    seconds = time.perf_counter() - start
    results["PCA"].append(reconstruction_error(pca, X_test))
    results["autoencoder"].append(reconstruction_error(ae, X_test))
    models[k] = {"PCA": pca, "autoencoder": ae}
    print(f"n_components={k:3d}  PCA MSE={results['PCA'][-1]:.4f}  "
          f"autoencoder MSE={results['autoencoder'][-1]:.4f}  "
          f"({ae.n_iter_} epochs, {seconds:.1f} s)")

# %%
# Reconstruction error against code size
# --------------------------------------
fig, ax = plt.subplots(figsize=(6, 4))
for name, errors in results.items():
    ax.plot(sizes, errors, marker="o", label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(sizes, [str(k) for k in sizes])
ax.set_xlabel("n_components")
ax.set_ylabel("test MSE per pixel")
ax.set_title(f"Reconstruction error on {args.dataset}")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# What the difference looks like
# ------------------------------
# At the smallest code size, the autoencoder's reconstructions keep the shape
# of each digit where PCA's blur into an average.
k = sizes[0]
fig = plot_reconstructions(
    {"original": X_test,
     f"PCA ({k})": models[k]["PCA"].inverse_transform(models[k]["PCA"].transform(X_test)),
     f"autoencoder ({k})": models[k]["autoencoder"].reconstruct(X_test)},
    n_images=10, image_shape=image_shape,
    title=f"Reconstructions with n_components={k}")

plt.show()
