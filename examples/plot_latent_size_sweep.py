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
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer
from skae.datasets import load_train_test, parse_example_args
from skae.evaluation import compare_reducers
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
# :func:`skae.evaluation.compare_reducers` fits every reducer on the same
# training images (without labels) and measures it on the test images: the
# reconstruction error (``recon MSE``), the error of the reconstruction of a
# noisy copy against the clean images (``noisy MSE``), how much class
# information the codes keep (``probe acc``: a logistic regression trained on
# the training codes, scored on the test codes), how faithfully the codes keep
# each image's neighbours (``trust``) and the fit time. It takes any
# transformer with an ``inverse_transform``, PCA included.
reducers = {}
for k in sizes:
    reducers[f"PCA {k}"] = PCA(n_components=k, random_state=0)
    reducers[f"autoencoder {k}"] = AutoencoderTransformer(n_components=k, **ae_params)
comparison = compare_reducers(reducers, X_train, y_train, X_test=X_test, y_test=y_test,
                              random_state=0)
print(comparison)
print(comparison.notes)

results = {"PCA": comparison["mse"][0::2], "autoencoder": comparison["mse"][1::2]}
probe = {"PCA": comparison["probe_acc"][0::2],
         "autoencoder": comparison["probe_acc"][1::2]}
models = {k: {"PCA": comparison.estimators_[f"PCA {k}"],
              "autoencoder": comparison.estimators_[f"autoencoder {k}"]} for k in sizes}

# %%
# Reconstruction error and class information against code size
# ------------------------------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
# sphinx_gallery_thumbnail_number = 1
for name in results:
    axes[0].plot(sizes, results[name], marker="o", label=name)
    axes[1].plot(sizes, probe[name], marker="o", label=name)
axes[0].set_ylabel("test MSE per pixel")
axes[0].set_title(f"Reconstruction error on {args.dataset}")
axes[1].set_ylabel("linear probe accuracy on the codes")
axes[1].set_title("Class information kept by the codes")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(k) for k in sizes])
    ax.set_xlabel("n_components")
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

# %%
# The answer
# ----------
# Where the autoencoder reconstructs better than PCA, where PCA does, and the
# largest gain, all from the comparison above.
ratio = [ae / pca for ae, pca in zip(results["autoencoder"], results["PCA"])]
best = min(range(len(sizes)), key=ratio.__getitem__)
ae_wins = [k for k, r in zip(sizes, ratio) if r < 1]
pca_wins = [k for k, r in zip(sizes, ratio) if r >= 1]


def listing(values):
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


if ae_wins:
    answer = (f"on {args.dataset}, the autoencoder reconstructs held-out images better "
              f"than PCA at {listing(ae_wins)} components (at {sizes[best]}: test MSE "
              f"{results['autoencoder'][best]:.4f} vs {results['PCA'][best]:.4f}, "
              f"{1 - ratio[best]:.0%} lower)")
    answer += f", PCA at {listing(pca_wins)}." if pca_wins else "."
else:
    answer = (f"on {args.dataset}, PCA reconstructs held-out images better than the "
              f"autoencoder at every code size tried ({listing(sizes)}).")
print("Answer:", answer)

plt.show()
