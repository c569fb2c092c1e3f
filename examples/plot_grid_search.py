"""
Grid search: PCA and an autoencoder in one GridSearchCV
=======================================================

Because :class:`~skae.AutoencoderTransformer` is an ordinary scikit-learn
transformer, it can replace :class:`~sklearn.decomposition.PCA` as a step of
a :class:`~sklearn.pipeline.Pipeline`, and one
:class:`~sklearn.model_selection.GridSearchCV` can tune both: the step itself
is a grid parameter. Here the search runs 3-fold cross-validation over the
autoencoder's code size, learning rate, dropout and number of epochs, next to
PCA with the same code sizes.

Each candidate is scored twice (multi-metric scoring): the accuracy of a
logistic regression on the codes, and minus the reconstruction error of the
reduction step. The search refits the candidate with the best accuracy.

Run it as a script with ``--dataset fashion-mnist`` (or ``mnist``) for the
28x28 datasets (much longer); ``--quick`` (or ``SKAE_EXAMPLES_QUICK=1``)
shrinks the run to the part that the tests check.
"""

# %%
# Settings and data
# -----------------
import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skae import AutoencoderTransformer
from skae.datasets import load_train_test, parse_example_args
from skae.evaluation import compare_reducers, reconstruction_error

args = parse_example_args()  # --dataset digits|fashion-mnist|mnist, --quick
quick = args.quick
digits = args.dataset == "digits"

n_train, n_test = (None, None) if digits else (5_000, 2_000)
sizes = [8, 16] if digits else [16, 32]
ae_grid = {
    "reduce__n_components": sizes,
    "reduce__lr": [1e-3, 1e-2],
    "reduce__dropout": [0.0, 0.1],
    "reduce__max_epochs": [10, 30],
    "reduce__batch_size": [32],  # any other parameter can join the grid the same way
}
# a small network keeps the 16 autoencoder candidates x 3 folds affordable
hidden = (128,) if digits else (256,)
if quick:
    n_train, n_test = (None, None) if digits else (2_000, 500)
    sizes = sizes[:1]
    ae_grid = {"reduce__n_components": sizes, "reduce__lr": [1e-2],
               "reduce__max_epochs": [2, 30]}

X_train, y_train, X_test, y_test, image_shape = load_train_test(
    args.dataset, n_train=n_train, n_test=n_test)
print(f"{args.dataset}: {X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# One pipeline, two kinds of reduction step
# -----------------------------------------
# The grid is a list of two dicts: one puts PCA in the ``reduce`` step, the
# other the autoencoder with its own parameters (``reduce__<param>``).
pipe = Pipeline([("reduce", PCA()), ("clf", LogisticRegression(max_iter=1000))])
param_grid = [
    {"reduce": [PCA(random_state=0)], "reduce__n_components": sizes},
    {"reduce": [AutoencoderTransformer(hidden_layer_sizes=hidden, random_state=0)],
     **ae_grid},
]


def neg_reconstruction_mse(pipeline, X, y=None):
    """Minus the MSE of the reduction step's reconstruction (higher is better)."""
    return -reconstruction_error(pipeline[:-1], X)


search = GridSearchCV(pipe, param_grid, cv=3,
                      scoring={"accuracy": "accuracy",
                               "reconstruction": neg_reconstruction_mse},
                      refit="accuracy")
start = time.perf_counter()
search.fit(X_train, y_train)
n_candidates = len(search.cv_results_["params"])
print(f"{n_candidates} candidates x 3 folds in {time.perf_counter() - start:.0f} s")

# %%
# The results table
# -----------------
# ``cv_results_`` holds both metrics for every candidate; the best ones by
# cross-validated accuracy:
results = pd.DataFrame(search.cv_results_)
results["model"] = [type(p["reduce"]).__name__ for p in results["params"]]
columns = ["model"] + [f"param_{k}" for k in ae_grid] + [
    "mean_test_accuracy", "mean_test_reconstruction", "mean_fit_time"]
table = results.sort_values("rank_test_accuracy")[columns]
table.columns = [c.replace("param_reduce__", "").replace("mean_test_", "") for c in columns]
with pd.option_context("display.width", 160, "display.max_columns", 20):
    print(table.head(10).to_string(index=False))

# %%
# The best of each kind:
for model, rows in results.groupby("model"):
    best = rows.loc[rows["mean_test_accuracy"].idxmax()]
    print(f"{model:24s} best CV accuracy {best['mean_test_accuracy']:.3f}  "
          f"(reconstruction MSE {-best['mean_test_reconstruction']:.4f}) "
          f"with {dict((k, v) for k, v in best['params'].items() if k != 'reduce')}")
print(f"refitted best: {search.best_params_['reduce'].__class__.__name__}, "
      f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Accuracy against reconstruction error
# -------------------------------------
# Every candidate is a point. A better reconstruction usually goes with a
# better classifier on the codes, but not always: the search tells which
# matters for your task.
fig, ax = plt.subplots(figsize=(6.5, 4.5))
# sphinx_gallery_thumbnail_number = 1
markers = {"PCA": "s", "AutoencoderTransformer": "o"}
for (model, k), rows in results.groupby(["model", "param_reduce__n_components"]):
    ax.scatter(-rows["mean_test_reconstruction"], rows["mean_test_accuracy"],
               marker=markers[model], color=f"C{sizes.index(k)}", edgecolor="k",
               s=60 if model == "PCA" else 30, label=f"{model}, n_components={k}")
ax.set_xscale("log")
ax.set_xlabel("cross-validated reconstruction MSE (lower is better)")
ax.set_ylabel("cross-validated accuracy")
ax.set_title(f"GridSearchCV candidates on {args.dataset}")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# The best of each kind, side by side
# -----------------------------------
# :func:`skae.evaluation.compare_reducers` refits the best PCA and the best
# autoencoder of the search (by CV accuracy) on all training images and
# measures both on the test images: reconstruction error, the error of the
# reconstruction of a noisy copy, a linear probe's accuracy on the codes,
# trustworthiness of the codes and fit time.
winners = {}
for model, rows in results.groupby("model"):
    params = rows.loc[rows["mean_test_accuracy"].idxmax(), "params"]
    winners[model] = clone(params["reduce"]).set_params(
        **{key.removeprefix("reduce__"): value for key, value in params.items()
           if key != "reduce"})
comparison = compare_reducers(winners, X_train, y_train, X_test=X_test, y_test=y_test,
                              random_state=0)
print(comparison)
print(comparison.notes)
fig = comparison.plot(["mse", "noisy_mse", "probe_acc", "fit_s"],
                      title=f"The best PCA and the best autoencoder on {args.dataset}")

# %%
# The answer
# ----------
best_of = {model: rows["mean_test_accuracy"].max() for model, rows in results.groupby("model")}
winner = type(search.best_params_["reduce"]).__name__
answer = (f"of {n_candidates} candidates, the best by 3-fold CV accuracy is "
          f"{'an autoencoder' if winner == 'AutoencoderTransformer' else 'PCA'} with "
          f"{search.best_params_['reduce__n_components']} components "
          f"({best_of[winner]:.3f}; best "
          f"{'PCA' if winner == 'AutoencoderTransformer' else 'autoencoder'} "
          f"{max(v for k, v in best_of.items() if k != winner):.3f}); refitted on all "
          f"training images it scores {search.score(X_test, y_test):.3f} on the test images.")
print("Answer:", answer)

plt.show()
