"""
Latent space: PCA and t-SNE views of the codes
==============================================

What does an autoencoder's code space look like? Its codes are usually wider
than two dimensions, so we look at them through a 2-D projection, coloured by
the class (which the autoencoder never saw):
a linear one (PCA), which keeps global distances, and t-SNE, which keeps
neighbourhoods. The same views of the raw pixels and of PCA codes of the same
size put the picture in context, and a k-nearest-neighbours classifier
measures how well each space keeps the classes apart.

Run it as a script with ``--dataset fashion-mnist`` (or ``mnist``) for the
28x28 datasets; ``--quick`` (or ``SKAE_EXAMPLES_QUICK=1``) shrinks the run to
the part that the tests check.
"""

# %%
# Settings and data
# -----------------
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer
from skae.datasets import FASHION_CLASSES, load_train_test, parse_example_args
from skae.plotting import plot_latent_space

args = parse_example_args()  # --dataset digits|fashion-mnist|mnist, --quick
quick = args.quick
digits = args.dataset == "digits"

n_train, n_test = (None, None) if digits else (10_000, 2_000)
n_components = 16 if digits else 32
params = dict(max_epochs=30, random_state=0)
if quick:  # the same models; fewer test images for t-SNE
    n_train, n_test = (None, 200) if digits else (2_000, 200)

X_train, y_train, X_test, y_test, image_shape = load_train_test(
    args.dataset, n_train=n_train, n_test=n_test)
names = FASHION_CLASSES if args.dataset == "fashion-mnist" else None

# %%
# Codes of the test images
# ------------------------
# Both reductions are fitted on the training images, without labels.
pca = PCA(n_components=n_components, random_state=0).fit(X_train)
ae = AutoencoderTransformer(n_components=n_components, **params).fit(X_train)
spaces = {"pixels": X_test,
          f"PCA codes ({n_components})": pca.transform(X_test),
          f"autoencoder codes ({n_components})": ae.transform(X_test)}

# %%
# How well does each space keep the classes apart? The 5-nearest-neighbours
# accuracy (5-fold cross-validation on the test codes) is a simple measure:
knn_accuracy = {}
for name, Z in spaces.items():
    knn_accuracy[name] = cross_val_score(KNeighborsClassifier(5), Z, y_test, cv=5).mean()
    print(f"{name:28s} 5-NN accuracy {knn_accuracy[name]:.3f}")

# %%
# Two projections of each space
# -----------------------------
# Top row: the first two principal components (for the PCA codes they are,
# by construction, the same as for the pixels). Bottom row: t-SNE, which
# finds the classes in all three spaces. The autoencoder was trained without
# labels and for reconstruction, not to separate classes: its codes gather
# most classes in their own regions, but its neighbourhoods are not purer
# than those of the pixels (the 5-NN accuracies above). For a code that
# serves a classifier, see the transfer-learning example.
fig, axes = plt.subplots(2, len(spaces), figsize=(5 * len(spaces), 9.5))
# sphinx_gallery_thumbnail_number = 1
for column, (name, Z) in enumerate(spaces.items()):
    for row, method in enumerate(["pca", "tsne"]):
        ax = axes[row, column]
        plot_latent_space(Z, y=y_test, method=method, target_names=names,
                          random_state=0, ax=ax,
                          title=f"{name}: {'PCA' if method == 'pca' else 't-SNE'}")
        handles, labels = ax.get_legend_handles_labels()
        ax.get_legend().remove()
fig.legend(handles, labels, loc="center right", title="class")
fig.tight_layout(rect=(0, 0, 0.92 if names is None else 0.88, 1))

# %%
# The answer
# ----------
ae_name, pca_name = f"autoencoder codes ({n_components})", f"PCA codes ({n_components})"
ranking = sorted(knn_accuracy, key=knn_accuracy.get, reverse=True)
place = ["the best", "the second best", "the worst"][ranking.index(ae_name)]
answer = (f"learned without labels, the autoencoder's {n_components}-D codes keep the "
          f"{args.dataset} classes apart (5-NN accuracy {knn_accuracy[ae_name]:.3f}, chance "
          f"{1 / len(set(y_test)):.1f}), {place} of the three spaces: pixels "
          f"{knn_accuracy['pixels']:.3f}, PCA codes {knn_accuracy[pca_name]:.3f}.")
print("Answer:", answer)

plt.show()
