"""
Hyperparameter search with Optuna
=================================

:class:`~sklearn.model_selection.GridSearchCV` tries every combination; a
sequential optimiser such as `Optuna <https://optuna.org>`_ picks each new
trial from the results of the previous ones (a tree-structured Parzen
estimator here) and stops unpromising trials early (pruning). skae
estimators need nothing special: an objective function fits one with the
trial's parameters and returns its validation error, and a small skorch
callback (through the ``callbacks`` parameter) reports the validation loss
after every epoch so that Optuna can prune.

This example needs the optional ``optuna`` package
(``pip install "skae[optuna]"``); without it, it says so and exits.

Run it as a script with ``--dataset fashion-mnist`` (or ``mnist``) for the
28x28 datasets; ``--quick`` (or ``SKAE_EXAMPLES_QUICK=1``) shrinks the run to
the part that the tests check.
"""

# %%
# Settings and data
# -----------------
import sys

try:
    import optuna
except ImportError:
    print("This example needs optuna, an optional dependency of skae: "
          "pip install 'skae[optuna]' (or pip install optuna).")
    sys.exit(0)

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from skae import AutoencoderTransformer
from skae.datasets import load_train_test, parse_example_args
from skae.evaluation import reconstruction_error

args = parse_example_args()  # --dataset digits|fashion-mnist|mnist, --quick
quick = args.quick
digits = args.dataset == "digits"

n_train, n_test = (None, None) if digits else (10_000, 2_000)
n_components = 8 if digits else 32
n_trials, max_epochs = (30, 60) if digits else (20, 30)
widths = {"small": (128,), "medium": (256, 128), "large": (512, 256)}
if quick:
    n_train, n_test = (None, None) if digits else (2_000, 500)
    n_trials, max_epochs = 5, 30

X_train, y_train, X_test, y_test, image_shape = load_train_test(
    args.dataset, n_train=n_train, n_test=n_test)
# trials are compared on a validation split of the training images
X_fit, X_val = train_test_split(X_train, test_size=0.2, random_state=0)
optuna.logging.set_verbosity(optuna.logging.WARNING)

# %%
# Pruning callback
# ----------------
# After each epoch, report the validation loss (the one the autoencoder's
# early stopping watches) to the trial, and stop the fit when Optuna judges
# the trial hopeless. skae deep-copies the callbacks at fit; this one shares
# its trial instead of copying it.


class OptunaPruning(Callback):
    def __init__(self, trial):
        self.trial = trial

    def __deepcopy__(self, memo):
        return self

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        self.trial.report(net.history[-1, "valid_loss"], step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch}")


# %%
# The objective
# -------------
# The code size is fixed (a larger code always reconstructs better); the
# search tunes how the autoencoder is trained.
def make_autoencoder(params, callbacks=None):
    return AutoencoderTransformer(
        n_components=n_components, hidden_layer_sizes=widths[params["width"]],
        lr=params["lr"], weight_decay=params["weight_decay"],
        dropout=params["dropout"], batch_size=params["batch_size"],
        max_epochs=max_epochs, patience=10, random_state=0, callbacks=callbacks)


def objective(trial):
    params = {
        "width": trial.suggest_categorical("width", list(widths)),
        "lr": trial.suggest_float("lr", 1e-4, 3e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-7, 1e-3, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.3),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
    }
    ae = make_autoencoder(params, callbacks=[OptunaPruning(trial)]).fit(X_fit)
    return reconstruction_error(ae, X_val)


study = optuna.create_study(
    direction="minimize", sampler=optuna.samplers.TPESampler(seed=0),
    pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5))
study.optimize(objective, n_trials=n_trials)

states = [t.state for t in study.trials]
print(f"{n_trials} trials: {states.count(optuna.trial.TrialState.COMPLETE)} complete, "
      f"{states.count(optuna.trial.TrialState.PRUNED)} pruned")
print(f"best validation MSE {study.best_value:.4f} with {study.best_params}")

# %%
# The best parameters on the test images
# --------------------------------------
# Refit with the best parameters on all training images and compare with
# the default autoencoder and with PCA at the same code size. On digits both
# autoencoders reconstruct far better than PCA (about half its error); the
# tuned one gains little over the default here.
best = make_autoencoder(study.best_params).fit(X_train)
default = AutoencoderTransformer(n_components=n_components, max_epochs=max_epochs,
                                 random_state=0).fit(X_train)
pca = PCA(n_components=n_components).fit(X_train)
test_mse = {}
for name, model in [("PCA", pca), ("default autoencoder", default),
                    ("tuned autoencoder", best)]:
    test_mse[name] = reconstruction_error(model, X_test)
    print(f"{name:20s} test MSE {test_mse[name]:.4f}")

# %%
# The search, trial by trial
# --------------------------
# Left: each complete trial's validation error and the best so far (pruned
# trials have no final value). Right: the error against the learning rate,
# the parameter that matters most here.
complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
numbers = np.array([t.number for t in complete])
values = np.array([t.value for t in complete])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
# sphinx_gallery_thumbnail_number = 1
ax1.scatter(numbers, values, label="trial")
ax1.step(numbers, np.minimum.accumulate(values), where="post", color="C1",
         label="best so far")
ax1.set_xlabel("trial")
ax1.set_ylabel("validation MSE")
ax1.set_yscale("log")
ax1.legend()
sc = ax2.scatter([t.params["lr"] for t in complete], values,
                 c=[t.params["dropout"] for t in complete], cmap="viridis")
fig.colorbar(sc, ax=ax2, label="dropout")
ax2.set_xscale("log")
ax2.set_yscale("log")
ax2.set_xlabel("learning rate")
ax2.set_ylabel("validation MSE")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
fig.suptitle(f"Optuna search on {args.dataset} (n_components={n_components})")
fig.tight_layout()

# %%
# The answer
# ----------
tuned, default_mse, pca_mse = (test_mse["tuned autoencoder"], test_mse["default autoencoder"],
                               test_mse["PCA"])
answer = (f"after {n_trials} trials ({states.count(optuna.trial.TrialState.PRUNED)} "
          f"pruned), the tuned autoencoder's test MSE is {tuned:.4f}, against "
          f"{default_mse:.4f} for the default autoencoder and {pca_mse:.4f} for PCA with "
          f"the same {n_components} components ({abs(1 - tuned / pca_mse):.0%} "
          f"{'below' if tuned < pca_mse else 'above'} PCA's).")
print("Answer:", answer)

plt.show()
