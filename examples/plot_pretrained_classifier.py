"""
Transfer learning: a classifier on a pretrained encoder
=======================================================

An autoencoder learns from images without labels. When labels are scarce,
its encoder is a good start for a classifier:
:class:`~skae.EncoderClassifier` puts a small dense head on top of a
pretrained encoder and trains either the head alone (``freeze_encoder=True``:
fast, the codes are computed once) or the whole network
(``freeze_encoder=False``: fine-tuning).

Here the autoencoder is pretrained once on *all* training images (no labels),
and the classifiers see only a few labelled images: from 2 per class up to
the whole training set (5 per class on the 28x28 sets). With so few labels
the accuracy depends on which images are labelled, so each count below the
whole set is averaged over 3 random draws of them. The baselines are the
same network trained from random weights
(:class:`~sklearn.neural_network.MLPClassifier` with the encoder's and the
head's layer sizes) and a logistic regression on the pixels.

Run it as a script with ``--dataset fashion-mnist`` (or ``mnist``) for the
28x28 datasets; ``--quick`` (or ``SKAE_EXAMPLES_QUICK=1``) shrinks the run to
the part that the tests check.
"""

# %%
# Settings and data
# -----------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skae import AutoencoderTransformer, EncoderClassifier
from skae.datasets import load_train_test, parse_example_args

args = parse_example_args()  # --dataset digits|fashion-mnist|mnist, --quick
quick = args.quick
digits = args.dataset == "digits"

n_train, n_test = (None, None) if digits else (20_000, 2_000)
n_components = 16 if digits else 32
ae_params = dict(max_epochs=30, random_state=0)
label_counts = [20, 50, 100, 200, 500, None] if digits else [50, 100, 500, 2_000, None]
clf_epochs = 60
n_draws = 3
if quick:
    n_train, n_test = (None, None) if digits else (2_000, 500)
    label_counts = label_counts[:1]  # the fewest labels, where the claims are

X_train, y_train, X_test, y_test, image_shape = load_train_test(
    args.dataset, n_train=n_train, n_test=n_test)

# %%
# Pretrain once, without labels
# -----------------------------
# A fitted autoencoder passed to :class:`~skae.EncoderClassifier` is reused
# as is (its encoder is copied, never modified), so one pretraining serves
# every classifier below.
ae = AutoencoderTransformer(n_components=n_components, **ae_params).fit(X_train)
print(f"autoencoder: {ae.n_iter_} epochs, test MSE {-ae.score(X_test):.4f}")

# %%
# Classifiers on a growing number of labels
# -----------------------------------------
# Few labels leave no room for a validation split, so every network trains
# for a fixed number of epochs (``early_stopping=False``). Draw ``i`` labels
# its images and initialises the networks with ``random_state=i``.
head = (128,)
clf_params = dict(hidden_layer_sizes=head, batch_size=32, max_epochs=clf_epochs,
                  early_stopping=False)
scratch_sizes = tuple(ae.hidden_layer_sizes_) + (n_components,) + head


def make_classifiers(seed, n_labels):
    return {
        "frozen encoder": EncoderClassifier(ae, freeze_encoder=True, random_state=seed,
                                            **clf_params),
        "fine-tuned encoder": EncoderClassifier(ae, freeze_encoder=False,
                                                random_state=seed, **clf_params),
        "same network from scratch": MLPClassifier(
            scratch_sizes, batch_size=min(32, n_labels), max_iter=clf_epochs,
            random_state=seed),
        "logistic regression (pixels)": LogisticRegression(max_iter=2000),
    }


accuracy = {name: [] for name in make_classifiers(0, len(X_train))}
sizes = []
for n in label_counts:
    everything = n is None or n >= len(X_train)
    draws = {name: [] for name in accuracy}
    for seed in range(1 if everything else n_draws):
        if everything:
            X_lab, y_lab = X_train, y_train
        else:
            X_lab, _, y_lab, _ = train_test_split(X_train, y_train, train_size=n,
                                                  stratify=y_train, random_state=seed)
        for name, clf in make_classifiers(seed, len(X_lab)).items():
            with warnings.catch_warnings():  # MLPClassifier stops at max_iter on purpose
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X_lab, y_lab)
            draws[name].append(clf.score(X_test, y_test))
    sizes.append(len(X_lab))
    line = [f"{len(X_lab):6d} labels:"]
    for name, scores in draws.items():
        accuracy[name].append(float(np.mean(scores)))
        line.append(f"{name} {accuracy[name][-1]:.3f}")
    print("  ".join(line))

# %%
# Test accuracy against the number of labels
# -------------------------------------------
# With the fewest labels, the frozen encoder beats the same network trained
# from scratch: it brings what the autoencoder learned from all the
# unlabelled images, and only the small head has to be learned from the
# labels. Fine-tuning needs more labels to pay off; with all of them it
# matches the network from scratch. On the small and easy digits, though, a
# logistic regression on the 64 pixels is as good as any network: transfer
# pays off on harder images with more pixels (run this example with
# ``--dataset fashion-mnist``; the benchmarks page has the Fashion-MNIST
# numbers with all 60,000 labels).
fig, ax = plt.subplots(figsize=(6.5, 4.5))
# sphinx_gallery_thumbnail_number = 1
for name, values in accuracy.items():
    ax.plot(sizes, values, marker="o", label=name)
ax.set_xscale("log")
ax.set_xlabel("labelled training images")
ax.set_ylabel("test accuracy")
ax.set_title(f"Pretrained encoder vs from scratch ({args.dataset})")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# The answer
# ----------
# With the fewest labels, where pretraining matters most:
acc = {name: values[0] for name, values in accuracy.items()}
frozen, scratch = acc["frozen encoder"], acc["same network from scratch"]
answer = (f"with {sizes[0]} labelled images, the frozen pretrained encoder's test accuracy "
          f"is {frozen:.3f}, {abs(frozen - scratch):.3f} "
          f"{'above' if frozen > scratch else 'below'} the same network trained from "
          f"scratch ({scratch:.3f}; mean of {n_draws} draws of the labels); a logistic "
          f"regression on the pixels scores {acc['logistic regression (pixels)']:.3f}.")
print("Answer:", answer)

plt.show()
