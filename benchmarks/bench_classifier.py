"""Classifier benchmark: EncoderClassifier vs logistic regression and a from-scratch net.

Fashion-MNIST, train on the 60k training images, test on the 10k test images.
Test accuracy and fit time of:

* ``LogisticRegression`` on raw pixels;
* ``LogisticRegression`` on ``PCA(32)`` codes;
* ``LogisticRegression`` on the codes of the pretrained autoencoder (32);
* ``EncoderClassifier`` with that autoencoder's encoder frozen;
* ``EncoderClassifier`` fine-tuning it;
* the same network (encoder + head) from scratch, with the encoder's
  weights re-initialised (PyTorch's default init, as at construction), trained
  with the same settings for the same wall-clock budget as the pretrained
  route (pretraining + fine-tuning), or until its early stopping ends it.

The autoencoder is ``AutoencoderTransformer(n_components=32,
architecture="conv")`` (``--architecture dense`` for the dense one) with its
defaults; it is pretrained once, on the training images only (no labels), and
shared by the AE-code rows (``--pretrained PATH`` keeps it in a skae model file
and reuses it on the next run with the same setting, with its recorded
pretraining time). Classifiers use their defaults (``random_state=0``) except
the head's ``--dropout`` and the ``--weight-decay``; logistic regressions use
``max_iter=1000`` on standardised codes (raw pixels are already in [0, 1]).

After each epoch the fine-tuned, frozen and scratch classifiers record their
test accuracy (a skorch callback; not used for training or early stopping),
printed as a per-epoch table and plotted against epochs and against
wall-clock seconds (pretraining counted for the pretrained routes) into
``docs/classifier_accuracy.png``
(``out/bench_classifier/`` with ``--quick``).

``--n-labels N`` measures the label-scarce case: the autoencoder (and PCA)
still learn from all training images without labels, but every classifier
and logistic regression gets only a stratified subset of N labelled images;
the plot is then ``classifier_accuracy_<N>labels.png``.

Published anchors (Fashion-MNIST benchmark): LogisticRegression 0.842,
MLPClassifier 0.871, SVC (rbf) 0.897. Targets (issue 5): frozen >= 0.87,
fine-tuned >= 0.91, and the fine-tuned classifier reaches the scratch
network's final test accuracy in less than half the scratch network's epochs.

Usage::

    python benchmarks/bench_classifier.py            # full (long: a conv AE on 60k)
    python benchmarks/bench_classifier.py --quick    # smoke run: 3k/1k images, 2 epochs
    python benchmarks/bench_classifier.py --dropout 0.5 --pretrained /tmp/ae32.skae
    python benchmarks/bench_classifier.py --n-labels 1000 --pretrained /tmp/ae32.skae
"""

import argparse
import copy
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
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

import skae  # noqa: E402
from skae import AutoencoderTransformer, EncoderClassifier  # noqa: E402

from _data import load_data  # noqa: E402  (benchmarks/_data.py)

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"frozen": 0.87, "fine-tuned": 0.91}
ANCHORS = "LogisticRegression 0.842, MLPClassifier 0.871, SVC (rbf) 0.897"


class TestAccuracy(Callback):
    """Record the test accuracy of the net's module after every epoch.

    ``X`` is what the trained module takes (images, or codes for a frozen
    encoder, whose head is trained on precomputed codes) and ``y`` the encoded
    labels. The value goes into the history as ``test_acc`` (so it reaches
    ``history_``); it plays no part in training.
    """

    def __init__(self, X, y):
        self.X = X
        self.y = y

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        was_training = module.training
        module.eval()
        device = next(module.parameters()).device
        X = np.asarray(self.X, dtype=np.float32)
        correct = 0
        with torch.inference_mode():
            for start in range(0, len(X), 2048):
                xb = torch.from_numpy(X[start:start + 2048]).to(device)
                pred = module(xb).argmax(1).cpu().numpy()
                correct += int((pred == self.y[start:start + 2048]).sum())
        module.train(was_training)
        net.history.record("test_acc", correct / len(X))


class TimeBudget(Callback):
    """Stop training once the epochs' summed ``dur`` exceeds ``seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_epoch_end(self, net, **kwargs):
        if sum(row["dur"] for row in net.history) >= self.seconds:
            raise KeyboardInterrupt  # skorch ends fit cleanly (and restores the best)


def logistic(Z_train, y_train, Z_test, y_test, scale=True):
    clf = LogisticRegression(max_iter=1000)
    if scale:
        clf = make_pipeline(StandardScaler(), clf)
    start = time.perf_counter()
    clf.fit(Z_train, y_train)
    return float(clf.score(Z_test, y_test)), time.perf_counter() - start


def fit_classifier(clf, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    curve = [(row["epoch"], row["test_acc"], row["dur"]) for row in clf.history_
             if "test_acc" in row]
    return float(clf.score(X_test, y_test)), fit_s, clf.n_iter_, curve


def scratch_copy(autoencoder, seed=0):
    """A deep copy of a fitted autoencoder whose encoder is re-initialised."""
    fresh = copy.deepcopy(autoencoder)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for module in fresh.encoder_.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return fresh


def pretrain(args, k, X_train, extra):
    """The autoencoder (fitted on X_train, no labels) and its fit seconds.

    With ``--pretrained FILE``, an autoencoder saved there by an earlier run
    with the same architecture, size and data is reused (with the pretraining
    time that run measured); otherwise it is fitted and saved there.
    """
    setting = dict(architecture=args.architecture, n_components=k, quick=args.quick)
    cache = Path(args.pretrained) if args.pretrained else None
    meta = cache.with_suffix(cache.suffix + ".json") if cache else None
    if cache and cache.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        if saved["setting"] == setting:
            print(f"loaded the pretrained autoencoder from {cache}")
            return skae.load(cache), saved["pretrain_s"]
        print(f"{cache} holds another setting ({saved['setting']}): pretraining anew")
    ae = AutoencoderTransformer(n_components=k, architecture=args.architecture,
                                random_state=0, **extra)
    start = time.perf_counter()
    ae.fit(X_train)  # no labels
    pretrain_s = time.perf_counter() - start
    if cache:
        skae.save(ae, cache)
        meta.write_text(json.dumps({"setting": setting, "pretrain_s": pretrain_s}))
    return ae, pretrain_s


def first_epoch_reaching(curve, level):
    for epoch, acc, _ in curve:
        if acc >= level:
            return epoch
    return None


def markdown_table(rows):
    lines = ["| method | test acc. | fit s | pretraining s | epochs |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        pre = "—" if r["pretrain_s"] is None else f"{r['pretrain_s']:.0f}"
        epochs = "—" if r["epochs"] is None else str(r["epochs"])
        lines.append(f"| {r['method']} | {r['acc']:.3f} | {r['fit_s']:.1f} | {pre} "
                     f"| {epochs} |")
    return "\n".join(lines)


def epoch_table(curves):
    """Test accuracy per epoch of each curve, one column per epoch."""
    n = max((len(c) for c in curves.values()), default=0)
    lines = ["| epoch | " + " | ".join(str(e) for e in range(1, n + 1)) + " |",
             "|---|" + "---:|" * n]
    for label, curve in curves.items():
        accs = {epoch: acc for epoch, acc, _ in curve}
        lines.append(f"| {label} | " + " | ".join(
            f"{accs[e]:.3f}" if e in accs else "" for e in range(1, n + 1)) + " |")
    return "\n".join(lines)


def plot_curves(curves, pretrain_s, scratch_final, path):
    fig, (ax_e, ax_t) = plt.subplots(1, 2, figsize=(11, 4))
    for label, curve in curves.items():
        if not curve:
            continue
        epochs, accs, durs = zip(*curve)
        offset = 0.0 if label == "from scratch" else pretrain_s
        ax_e.plot(epochs, accs, marker=".", label=label)
        ax_t.plot(offset + np.cumsum(durs), accs, marker=".", label=label)
    for ax in (ax_e, ax_t):
        ax.axhline(scratch_final, color="grey", ls="--", lw=1,
                   label=f"scratch final ({scratch_final:.3f})")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    ax_e.set_xlabel("epoch (classifier training)")
    ax_t.set_xlabel("wall-clock seconds (pretraining included)")
    ax_e.legend(loc="lower right")
    fig.suptitle("EncoderClassifier: pretrained encoder vs the same network from scratch")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3k train / 1k test images, 2 epochs")
    parser.add_argument("--architecture", choices=["conv", "dense"], default="conv")
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--figdir", default=None,
                        help="where the PNG goes (default: docs/, out/bench_classifier/ "
                             "with --quick)")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--dropout", type=float, default=0.0,
                        help="dropout in the classifiers' head (default: 0, the default)")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--pretrained", default=None,
                        help="skae model file: the autoencoder is loaded from it when it "
                             "exists, else pretrained and saved there")
    parser.add_argument("--n-labels", type=int, default=None,
                        help="give the classifiers only a stratified subset of N labelled "
                             "training images (the autoencoder still pretrains on all)")
    args = parser.parse_args(argv)

    figdir = Path(args.figdir or (ROOT / ("out/bench_classifier" if args.quick else "docs")))
    figdir.mkdir(parents=True, exist_ok=True)
    extra = dict(max_epochs=2) if args.quick else {}
    k = args.n_components

    X_train, y_train, X_test, y_test, data_name = load_data(args.quick)
    print(f"data: {data_name}, train {X_train.shape}, test {X_test.shape}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, threads {torch.get_num_threads()}, CUDA "
          f"{torch.cuda.is_available()}")
    if args.quick:
        print("quick run: max_epochs=2, numbers are NOT representative")
    labelled = np.arange(len(X_train))
    if args.n_labels:
        labelled = train_test_split(labelled, train_size=args.n_labels, stratify=y_train,
                                    random_state=0)[0]
        print(f"classifiers see {len(labelled)} labelled training images; the "
              f"autoencoder and PCA learn from all {len(X_train)} without labels")
    X_lab, y_lab = X_train[labelled], y_train[labelled]
    rows = []

    def row(method, acc, fit_s, pretrain_s=None, epochs=None):
        rows.append(dict(method=method, acc=acc, fit_s=fit_s, pretrain_s=pretrain_s,
                         epochs=epochs))
        print(f"{method}: acc {acc:.4f}, fit {fit_s:.1f} s", flush=True)

    acc, fit_s = logistic(X_lab, y_lab, X_test, y_test, scale=False)
    row("LogisticRegression, raw pixels", acc, fit_s)

    start = time.perf_counter()
    pca = PCA(n_components=k, random_state=0).fit(X_train)
    pca_s = time.perf_counter() - start
    acc, fit_s = logistic(pca.transform(X_lab), y_lab, pca.transform(X_test), y_test)
    row(f"LogisticRegression, PCA({k}) codes", acc, fit_s, pca_s)

    ae, pretrain_s = pretrain(args, k, X_train, extra)
    print(f"pretrained {ae!r}: {ae.n_iter_} epochs, {pretrain_s:.1f} s", flush=True)
    Z_train, Z_test = ae.transform(X_train), ae.transform(X_test)
    acc, fit_s = logistic(Z_train[labelled], y_lab, Z_test, y_test)
    row(f"LogisticRegression, AE({k}) codes", acc, fit_s, pretrain_s)

    head = dict(dropout=args.dropout, weight_decay=args.weight_decay)
    print(f"classifier settings: {head}")
    classes = np.unique(y_train)
    y_test_enc = np.searchsorted(classes, y_test)
    curves, results = {}, {}
    settings = [("frozen", True, ae, Z_test.astype(np.float32)),
                ("fine-tuned", False, ae, X_test)]
    for label, freeze, auto, X_eval in settings:
        clf = EncoderClassifier(auto, freeze_encoder=freeze, random_state=0,
                                callbacks=[TestAccuracy(X_eval, y_test_enc)], **head, **extra)
        acc, fit_s, epochs, curve = fit_classifier(clf, X_lab, y_lab, X_test, y_test)
        row(f"EncoderClassifier, {label} (AE pretrained)", acc, fit_s, pretrain_s, epochs)
        curves[f"pretrained, {label}"], results[label] = curve, acc

    budget = pretrain_s + rows[-1]["fit_s"]
    scratch = EncoderClassifier(scratch_copy(ae), freeze_encoder=False, random_state=0,
                                max_epochs=10_000, **head,
                                callbacks=[TestAccuracy(X_test, y_test_enc),
                                           TimeBudget(budget)])
    acc, fit_s, scratch_epochs, curve = fit_classifier(scratch, X_lab, y_lab, X_test, y_test)
    row(f"same network from scratch ({budget:.0f} s budget)", acc, fit_s, None,
        scratch_epochs)
    curves["from scratch"] = curve

    labels = f", {len(labelled)} labelled images" if args.n_labels else ""
    print(f"\n### EncoderClassifier on Fashion-MNIST ({data_name}; {args.architecture} "
          f"autoencoder, n_components={k}{labels})\n")
    print(markdown_table(rows))
    print("\nTest accuracy per epoch (recorded after each epoch, not used for training):\n")
    print(epoch_table(curves))
    print(f"\nPublished anchors: {ANCHORS}.")
    for label, target in TARGETS.items():
        ok = "met" if results[label] >= target else "NOT met"
        print(f"target {label} >= {target}: {results[label]:.4f} ({ok})")
    reach = first_epoch_reaching(curves["pretrained, fine-tuned"], acc)
    scratch_reach = first_epoch_reaching(curve, acc)
    if reach is None:
        verdict = "NOT met: the fine-tuned classifier never reached it"
    else:
        verdict = "met" if reach < scratch_epochs / 2 else "NOT met"
        verdict = f"epoch {reach} vs scratch's {scratch_epochs} epochs ({verdict})"
    print(f"target: fine-tuned reaches scratch's final test accuracy {acc:.4f} in less "
          f"than half of scratch's epochs: {verdict}; scratch itself first reached it "
          f"at epoch {scratch_reach}")

    suffix = f"_{len(labelled)}labels" if args.n_labels else ""
    path = figdir / f"classifier_accuracy{suffix}.png"
    plot_curves(curves, pretrain_s, acc, path)
    print(f"saved {path}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"data": data_name, "n_labels": len(labelled), "rows": rows, "curves": curves,
             "budget_s": budget, "fine_tuned_reach_epoch": reach,
             "scratch_epochs": scratch_epochs},
            indent=2))


if __name__ == "__main__":
    main()
