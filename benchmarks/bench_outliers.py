"""Outlier-detection benchmark: AutoencoderOutlierDetector vs classical detectors.

Fashion-MNIST, one-class protocol: for each class c, a detector is fitted on
the training images of class c only (6000) and scores the full test set
(10 000 images); the AUROC measures how well the scores separate class c
(inliers, 1000 images) from the nine other classes (outliers). The table gives
the mean and per-class AUROC and the mean fit time of:

* PCA reconstruction error (``PCA(k)``, minus the squared error of the
  reconstruction), for several ``k``;
* ``IsolationForest`` (defaults, ``random_state=0``);
* ``OneClassSVM`` (defaults: RBF, ``gamma="scale"``, ``nu=0.5``), on at most
  ``--ocsvm-max-train`` training images (a random subset; default 6000, all:
  about 2 s per class on the reference machine);
* ``LocalOutlierFactor(novelty=True)`` (defaults, 20 neighbours);
* PyOD's ``AutoEncoder`` (optional: ``pip install pyod``; its defaults, 10
  epochs, ``verbose=0``), skipped with a note when it is missing or fails;
* skae's ``AutoencoderOutlierDetector`` with each ``anomaly_score``: one
  autoencoder per class is trained (the detector's default one, or
  ``--ae`` settings) and each score reuses it (a fitted autoencoder passed to
  the detector is used as is), so the scores differ only in how the same
  model is read; the fit time of a score row is the autoencoder's training
  time plus the score's own fit. A ``VAETransformer`` of the same settings
  gives the ``elbo`` row (and ``--dae`` a ``DenoisingAE`` the ``DAE`` rows).
  The row marked ``(default)`` is ``AutoencoderOutlierDetector()`` as
  constructed with no argument (but ``--max-epochs``, when given).

``--contaminated 0.05`` runs the contaminated-training variant: 5% of each
training set are images of the other classes (drawn at random from their
training images), the rest the 6000 images of class c.

Usage::

    python benchmarks/bench_outliers.py --dae                # full run (a few minutes)
    # runs of parts of the classes, printed as one table
    python benchmarks/bench_outliers.py --classes 0,1,2,3,4 --json a.json
    python benchmarks/bench_outliers.py --classes 5,6,7,8,9 --json b.json
    python benchmarks/bench_outliers.py --merge a.json b.json
    python benchmarks/bench_outliers.py --contaminated 0.05  # contaminated training
    python benchmarks/bench_outliers.py --classes 0,1 --max-epochs 2 --n-train 1000  # smoke
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

import skae
from skae import AutoencoderOutlierDetector, AutoencoderTransformer, DenoisingAE, VAETransformer
from skae._outlier import DEFAULT_AUTOENCODER

sys.path.insert(0, os.path.dirname(__file__))
from _data import load_data  # noqa: E402

DEFAULT_SCORE = AutoencoderOutlierDetector().anomaly_score
SKAE_SCORES = ("reconstruction", "standardized", "mse", "denoising", "latent", "combined")


def pca_scorer(k):
    def fit(X):
        pca = PCA(k, random_state=0).fit(X)
        return lambda T: -np.mean((pca.inverse_transform(pca.transform(T)) - T) ** 2, axis=1)
    return fit


def sklearn_scorer(make):
    def fit(X):
        return make().fit(X).score_samples
    return fit


def ocsvm_scorer(max_train):
    def fit(X):
        if len(X) > max_train:
            X = X[np.random.RandomState(0).choice(len(X), max_train, replace=False)]
        return OneClassSVM().fit(X).score_samples
    return fit


def pyod_scorer():
    def fit(X):
        from pyod.models.auto_encoder import AutoEncoder

        model = AutoEncoder(verbose=0, random_state=0).fit(X)
        return lambda T: -model.decision_function(T)  # pyod: higher = more abnormal
    return fit


def baselines(args):
    out = {f"PCA({k})": pca_scorer(k) for k in args.pca}
    out["IsolationForest"] = sklearn_scorer(lambda: IsolationForest(random_state=0))
    out["OneClassSVM" + (f" ({args.ocsvm_max_train} train)" if args.ocsvm_max_train < 6000
                         else "")] = ocsvm_scorer(args.ocsvm_max_train)
    out["LOF(novelty)"] = sklearn_scorer(lambda: LocalOutlierFactor(novelty=True))
    if not args.no_pyod:
        out["PyOD AutoEncoder"] = pyod_scorer()
    return out


def run_class(c, X_train, y_train, X_test, y_test, args, rng):
    """{method: (auroc, fit seconds)} for class c."""
    X_c = X_train[y_train == c]
    if args.n_train:
        X_c = X_c[:args.n_train]
    if args.contaminated:
        n_other = int(round(len(X_c) * args.contaminated / (1 - args.contaminated)))
        others = np.flatnonzero(y_train != c)
        X_c = np.concatenate([X_c, X_train[rng.choice(others, n_other, replace=False)]])
    inlier = (y_test == c).astype(int)
    results = {}

    def measure(name, fit, extra_s=0.0):
        if args.methods and not any(m.lower() in name.lower() for m in args.methods):
            return
        start = time.perf_counter()
        try:
            score = fit(X_c)
        except Exception as exc:  # noqa: BLE001 - an optional baseline may break
            results[name] = (None, None, f"{type(exc).__name__}: {exc}"[:200])
            print(f"  class {c} {name}: FAILED {exc}", file=sys.stderr, flush=True)
            return
        fit_s = time.perf_counter() - start + extra_s
        auroc = float(roc_auc_score(inlier, score(X_test)))
        results[name] = (auroc, fit_s, None)
        print(f"  class {c} {name}: AUROC {auroc:.4f} fit {fit_s:.1f}s", file=sys.stderr,
              flush=True)

    for name, fit in baselines(args).items():
        measure(name, fit)

    settings = dict(DEFAULT_AUTOENCODER, **args.ae)
    if args.max_epochs:
        settings["max_epochs"] = args.max_epochs
    label = "skae " + (f"({', '.join(f'{k}={v}' for k, v in args.ae.items())}) "
                       if args.ae else "")
    if not args.methods or any(m.lower() in "skae" for m in args.methods):
        start = time.perf_counter()
        ae = AutoencoderTransformer(**settings, random_state=0).fit(X_c)
        train_s = time.perf_counter() - start
        print(f"  class {c} AE trained in {train_s:.1f}s ({ae.n_iter_} epochs)",
              file=sys.stderr, flush=True)
        for kind in SKAE_SCORES:
            default = " (default)" if kind == DEFAULT_SCORE and not args.ae else ""
            measure(label + kind + default, _reuse(ae, kind), train_s)
        if not args.no_vae:
            start = time.perf_counter()
            vae = VAETransformer(**settings, random_state=0).fit(X_c)
            vae_s = time.perf_counter() - start
            for kind in ("elbo", "combined"):
                measure(f"skae VAE {kind}", _reuse(vae, kind), vae_s)
        if args.dae:
            start = time.perf_counter()
            dae = DenoisingAE(**settings, random_state=0).fit(X_c)
            dae_s = time.perf_counter() - start
            for kind in ("reconstruction", "combined"):
                measure(f"skae DAE {kind}", _reuse(dae, kind), dae_s)
    return results


def _reuse(autoencoder, kind):
    """A detector's fit on the already trained autoencoder (its training time is
    added to the row's fit time by the caller)."""
    def fit(X):
        return AutoencoderOutlierDetector(autoencoder, anomaly_score=kind,
                                          random_state=0).fit(X).score_samples
    return fit


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="epochs of the skae autoencoders (default: their own)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="use only this many training images per class (smoke runs)")
    parser.add_argument("--n-test", type=int, default=None,
                        help="score a random subset of the test set (smoke runs)")
    parser.add_argument("--contaminated", type=float, default=0.0,
                        help="fraction of other-class images mixed into each training set")
    parser.add_argument("--pca", default="8,16,32", help="PCA sizes")
    parser.add_argument("--ocsvm-max-train", type=int, default=6000,
                        help="OneClassSVM trains on a random subset of this size")
    parser.add_argument("--ae", default="{}",
                        help="JSON settings of the skae autoencoders, on top of the "
                             "detector's default ones")
    parser.add_argument("--methods", default=None,
                        help="comma-separated substrings: run only the matching methods")
    parser.add_argument("--no-pyod", action="store_true")
    parser.add_argument("--no-vae", action="store_true")
    parser.add_argument("--dae", action="store_true", help="also a DenoisingAE's rows")
    parser.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                        help="print one table from the --json files of several runs "
                             "(e.g. classes 0-4 and 5-9 run separately)")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()
    args.pca = [int(k) for k in args.pca.split(",") if k]
    args.ae = json.loads(args.ae)
    args.methods = [m.strip() for m in args.methods.split(",")] if args.methods else None
    classes = [int(c) for c in args.classes.split(",")]
    warnings.filterwarnings("ignore", category=FutureWarning)
    if args.merge:
        return merge(args)

    X_train, y_train, X_test, y_test, name = load_data(False)
    if args.n_test:
        keep = np.random.RandomState(0).choice(len(X_test), args.n_test, replace=False)
        X_test, y_test = X_test[keep], y_test[keep]
    rng = np.random.RandomState(0)
    start = time.perf_counter()
    per_class = {}
    for c in classes:
        res = run_class(c, X_train, y_train, X_test, y_test, args, rng)
        per_class[c] = res
    total = time.perf_counter() - start
    report(per_class, classes, args, name, total)


def merge(args):
    """One table from the per-class results of several ``--json`` files."""
    per_class, classes, total, commits = {}, [], 0.0, set()
    for path in args.merge:
        with open(path) as f:
            run = json.load(f)
        for row in run["rows"]:
            for c, auroc in zip(run["classes"], row["per_class"]):
                per_class.setdefault(c, {})[row["method"]] = (auroc, row["fit_s"], row["error"])
        classes += run["classes"]
        total += run["total_s"]
        commits.add(run["commit"])
        for key in ("contaminated", "ocsvm_max_train", "max_epochs", "ae"):
            setattr(args, key, run["args"][key])
    print(f"merged {args.merge} (commits {sorted(commits)})")
    report(per_class, classes, args, "Fashion-MNIST", total)


def report(per_class, classes, args, name, total):
    methods = list(dict.fromkeys(m for res in per_class.values() for m in res))
    rows = []
    for m in methods:
        aurocs = [per_class[c].get(m, (None,))[0] for c in classes]
        fits = [per_class[c].get(m, (None, None))[1] for c in classes]
        errors = {per_class[c][m][2] for c in classes if m in per_class[c]} - {None}
        ok = [a for a in aurocs if a is not None]
        rows.append({"method": m, "mean": float(np.mean(ok)) if len(ok) == len(aurocs)
                     else None, "per_class": aurocs,
                     # mean fit time per class (a merged run: mean of the runs' means)
                     "fit_s": float(np.mean([f for f in fits if f is not None]))
                     if any(f is not None for f in fits) else None,
                     "error": sorted(errors)[0] if errors else None})
    best = max((r["mean"] for r in rows if r["mean"] is not None), default=None)
    # SKAE_COMMIT names the commit of a snapshot run outside the git work tree
    commit = os.environ.get("SKAE_COMMIT") or subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
        cwd=os.path.dirname(__file__) or ".").stdout.strip()
    print(f"\n{name}, one-class protocol, classes {classes}, "
          f"contaminated={args.contaminated}, skae max_epochs={args.max_epochs}, "
          f"OneClassSVM on {args.ocsvm_max_train} images, skae {skae.__version__} ({commit}), "
          f"{platform.processor() or platform.machine()}, torch threads "
          f"{__import__('torch').get_num_threads()}, total {total / 60:.1f} min")
    print("| method | mean AUROC | " + " | ".join(str(c) for c in classes)
          + " | fit (s) |")
    print("|---|---:|" + "---:|" * len(classes) + "---:|")
    for r in rows:
        cells = ["-" if a is None else f"{a:.3f}" for a in r["per_class"]]
        mean = "failed" if r["mean"] is None else f"{r['mean']:.4f}"
        if r["mean"] is not None and r["mean"] == best:
            mean = f"**{mean}**"
        fit = "-" if r["fit_s"] is None else f"{r['fit_s']:.1f}"
        print(f"| {r['method']} | {mean} | " + " | ".join(cells) + f" | {fit} |")
    for r in rows:
        if r["error"]:
            print(f"note: {r['method']} failed: {r['error']}")
    ref = next((r for r in rows if r["method"] == "PCA(16)"), None)
    if ref is not None:
        for r in rows:
            if r["method"].startswith("skae") and r["mean"] is not None:
                wins = sum(a > b for a, b in zip(r["per_class"], ref["per_class"]))
                print(f"{r['method']}: beats PCA(16) on {wins}/{len(classes)} classes")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "classes": classes, "args": vars(args),
                       "commit": commit, "total_s": total}, f, indent=1)


if __name__ == "__main__":
    main()
