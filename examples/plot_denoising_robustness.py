"""
Denoising: robustness to every kind of noise
============================================

A plain autoencoder learns to reproduce its input, noise included; a
:class:`~skae.DenoisingAE` is trained on freshly corrupted input to
reproduce the *clean* input, so it learns to undo the corruption. Here both
(and PCA, as a linear baseline) reconstruct test images corrupted by each kind
of noise that :class:`~skae.NoiseInjector` offers, at several levels, and
:func:`skae.evaluation.robustness_report` tabulates the error of each
reconstruction against the clean images.

The denoising autoencoder is trained on Gaussian noise only (a mix of levels
from 0 to 0.5, 0 meaning clean input); the table shows how far that
training carries over to the other kinds of corruption.

Run it as a script with ``--dataset fashion-mnist`` (or ``mnist``) for the
28x28 datasets; ``--quick`` (or ``SKAE_EXAMPLES_QUICK=1``) shrinks the run to
the part that the tests check.
"""

# %%
# Settings and data
# -----------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer, DenoisingAE, NoiseInjector
from skae.datasets import load_train_test, parse_example_args
from skae.evaluation import robustness_report
from skae.plotting import plot_reconstructions

args = parse_example_args()  # --dataset digits|fashion-mnist|mnist, --quick
quick = args.quick
digits = args.dataset == "digits"

n_train, n_test = (None, None) if digits else (10_000, 2_000)
params = dict(n_components=16 if digits else 32, max_epochs=40, random_state=0)
if quick:  # the same models, on fewer images of the 28x28 sets
    n_train, n_test = (None, None) if digits else (2_000, 500)

X_train, y_train, X_test, y_test, image_shape = load_train_test(
    args.dataset, n_train=n_train, n_test=n_test)

# %%
# Three models with the same code size
# ------------------------------------
# ``noise_level=[0.0, 0.1, 0.3, 0.5]`` gives each training image one of these
# Gaussian noise levels, drawn anew at every epoch.
pca = PCA(n_components=params["n_components"], random_state=0).fit(X_train)
ae = AutoencoderTransformer(**params).fit(X_train)
dae = DenoisingAE(noise="gaussian", noise_level=[0.0, 0.1, 0.3, 0.5], **params).fit(X_train)
models = {"pca": pca, "ae": ae, "dae": dae}

# %%
# The robustness table
# --------------------
# Every kind of noise at two or three levels. Additive noises are clipped to
# the images' range [0, 1]; occlusion blanks one square on every image, its
# level being the fraction of the image area covered: 0.25 is half the image
# side (14x14 on 28x28 images, as in the denoising studies; 4x4 on the 8x8
# digits). ``mse_noisy`` is the error of the corrupted input itself,
# ``mse_<model>`` the error of each model's reconstruction of it, both
# against the clean images (lower is better).
clip = {"clip": (0.0, 1.0)}
noises = [
    ("gaussian", 0.1, clip), ("gaussian", 0.3, clip), ("gaussian", 0.5, clip),
    ("uniform", 0.3, clip), ("uniform", 0.6, clip),
    ("salt_and_pepper", 0.1, clip), ("salt_and_pepper", 0.3, clip),
    ("occlusion", 0.25, {"image_shape": image_shape}),
    ("flip", 0.1), ("flip", 0.3),
    ("mask", 0.3), ("mask", 0.6),
]
report = robustness_report(models, X_test, noises=noises, random_state=0)
print(report)

# %%
# The same table as bars (``report.plot()`` draws it as curves against the
# noise level instead):
fig, ax = plt.subplots(figsize=(10, 4))
labels = report["noise"]
x = np.arange(len(labels))
columns = ["mse_noisy", "mse_pca", "mse_ae", "mse_dae"]
for i, column in enumerate(columns):
    ax.bar(x + (i - 1.5) * 0.2, report[column], width=0.2,
           label=column.removeprefix("mse_"))
ax.set_xticks(x, labels, rotation=30, ha="right")
ax.set_ylabel("MSE against the clean images")
ax.set_title(f"Reconstruction of corrupted test images ({args.dataset})")
ax.grid(axis="y", alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# What the models make of noisy images
# ------------------------------------
# Under strong Gaussian noise, PCA and the plain autoencoder pass part of the
# noise on while the denoising autoencoder restores clean strokes; masked
# pixels are filled in by both autoencoders, and PCA cannot. (PCA's
# reconstructions are clipped to the pixel range [0, 1] for display.)
#
# The price of denoising is a slightly worse reconstruction of *clean*
# images (the ``clean`` row of the table): the model spends some of its
# capacity on undoing noise that is not there.
rows = {"clean": X_test}
for kind, level in [("gaussian", 0.5), ("mask", 0.6)]:
    X_noisy = NoiseInjector(kind, level, clip=(0.0, 1.0), random_state=0).transform(X_test)
    rows[f"{kind} {level}"] = X_noisy
    rows[f"{kind}: PCA"] = np.clip(pca.inverse_transform(pca.transform(X_noisy)), 0, 1)
    rows[f"{kind}: AE"] = ae.reconstruct(X_noisy)
    rows[f"{kind}: DAE"] = dae.denoise(X_noisy)
fig = plot_reconstructions(rows, n_images=10, image_shape=image_shape,
                           title="Clean, corrupted and reconstructed test images")
# sphinx_gallery_thumbnail_number = 2

# %%
# The answer
# ----------
# From the table: the strongest Gaussian noise (the kind the denoising
# autoencoder was trained on), and on how many of the corruptions each model
# gives the lowest error.
strong = max((row for row in report.rows if row["kind"] == "gaussian"),
             key=lambda row: row["level"])
wins = {name: 0 for name in models}
for row in report.rows[1:]:  # every corruption, without the clean row
    wins[min(models, key=lambda name: row[f"mse_{name}"])] += 1
best_at_strong = min(models, key=lambda name: strong[f"mse_{name}"])
names = {"pca": "PCA", "ae": "the plain autoencoder", "dae": "the denoising autoencoder"}
answer = (f"under Gaussian noise {strong['level']}, {names[best_at_strong]} restores "
          f"the test images best (MSE {strong[f'mse_{best_at_strong}']:.4f}; noisy input "
          f"{strong['mse_noisy']:.4f}, PCA {strong['mse_pca']:.4f}, plain autoencoder "
          f"{strong['mse_ae']:.4f}, denoising autoencoder {strong['mse_dae']:.4f}), and "
          f"the denoising autoencoder has the lowest error on {wins['dae']} of the "
          f"{len(report) - 1} corruptions.")
print("Answer:", answer)

plt.show()
