"""One search space, four ways to run it: serially, in joblib workers, on a
dask cluster, and by successive halving over epochs.

A grid of conv autoencoders on a Fashion-MNIST subset (``--n-train`` training
images, 3-fold CV, scored by sklearn's default: minus the reconstruction
error), then the chosen model's test score on ``--n-test`` held-out images:

* ``GridSearchCV(n_jobs=1)``: one process, torch's 2 threads;
* ``GridSearchCV(n_jobs=2)``: 2 joblib (loky) workers, which joblib limits
  to one thread each (cores // n_jobs);
* ``GridSearchCV(n_jobs=-1)`` under ``joblib.parallel_config("dask")`` on a
  ``LocalCluster(n_workers=2, threads_per_worker=1)`` (dask's nanny sets one
  thread per worker), first with the nanny's environment less
  ``MALLOC_TRIM_THRESHOLD_``, then with dask's defaults (which set it to
  65536, and that slows torch's allocations);
* ``HalvingGridSearchCV(resource="max_epochs", factor=3)`` with ``n_jobs=2``.

Each route's wall time includes starting its workers (importing torch once
per worker). Run it with nothing else on the machine.

Usage::

    python benchmarks/bench_search.py [--n-train 6000] [--n-test 2000] [--epochs 9] [--quick]
"""

import argparse
import time

import numpy as np
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV

from skae import AutoencoderTransformer

from _data import load_data

GRID = {"n_components": [16, 32], "hidden_layer_sizes": [(16, 32), (32, 64)]}


def base(epochs):
    return AutoencoderTransformer(architecture="conv", max_epochs=epochs,
                                  early_stopping=False, random_state=0)


def timed(make_search, X, X_test, run=None):
    search = make_search()
    start = time.perf_counter()
    (run or (lambda: search.fit(X)))()
    wall = time.perf_counter() - start
    return search, wall, search.best_estimator_.score(X_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="a smoke run (tiny data)")
    parser.add_argument("--routes", default="serial,loky,dask-malloc,dask,halving",
                        help="which routes to run, comma-separated")
    args = parser.parse_args(argv)
    chosen = args.routes.split(",")
    if args.quick:
        args.n_train, args.n_test, args.epochs = 600, 200, 1

    X_train, _, X_test, _, name = load_data(quick=False)
    rng = np.random.RandomState(0)
    X = X_train[rng.choice(len(X_train), args.n_train, replace=False)]
    X_test = X_test[rng.choice(len(X_test), args.n_test, replace=False)]
    print(f"{name}: {len(X)} training images, {len(X_test)} test images, grid "
          f"{GRID}, {args.epochs} epochs, cv=3", flush=True)

    routes = {}
    if "serial" in chosen:
        routes["GridSearchCV, n_jobs=1"] = timed(
            lambda: GridSearchCV(base(args.epochs), GRID, cv=3), X, X_test)
    if "loky" in chosen:
        routes["GridSearchCV, n_jobs=2 (loky)"] = timed(
            lambda: GridSearchCV(base(args.epochs), GRID, cv=3, n_jobs=2), X, X_test)

    import dask
    import distributed
    from joblib import parallel_config

    def on_dask(search, environ=None):
        def run():
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ or
                                  dask.config.get("distributed.nanny.pre-spawn-environ")}), \
                    distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                             processes=True, dashboard_address=None) as cluster, \
                    distributed.Client(cluster), parallel_config("dask"):
                search.fit(X)
        return run

    if "dask-malloc" in chosen:
        # dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, which
        # fixes glibc's mmap threshold at 128 KiB: torch's large buffers are
        # then mapped and unmapped on every allocation. Without it (run before
        # the default cluster, whose nanny leaves the variable in this
        # process's environment, where later workers would inherit it):
        environ = {k: v for k, v in
                   dask.config.get("distributed.nanny.pre-spawn-environ").items()
                   if k != "MALLOC_TRIM_THRESHOLD_"}
        search = GridSearchCV(base(args.epochs), GRID, cv=3, n_jobs=-1)
        routes["GridSearchCV on dask, nanny without MALLOC_TRIM_"] = timed(
            lambda: search, X, X_test, run=on_dask(search, environ))
    if "dask" in chosen:
        search = GridSearchCV(base(args.epochs), GRID, cv=3, n_jobs=-1)
        routes["GridSearchCV on dask LocalCluster(2x1), default"] = timed(lambda: search, X, X_test,
                                                                 run=on_dask(search))
    if "halving" in chosen:
        routes["HalvingGridSearchCV(max_epochs), n_jobs=2"] = timed(
            lambda: HalvingGridSearchCV(base(args.epochs), GRID, resource="max_epochs",
                                        min_resources=max(1, args.epochs // 3),
                                        max_resources=args.epochs, factor=3, cv=3, n_jobs=2,
                                        random_state=0), X, X_test)

    first = next(iter(routes.values()))[1]
    print(f"\n{'route':<44}{'wall s':>8}{'speed-up':>10}{'fits':>6}{'fit s':>8}"
          f"{'test MSE':>10}  best")
    for route, (search, wall, score) in routes.items():
        best = {k: v for k, v in search.best_params_.items() if k in GRID}
        fit_times = np.asarray(search.cv_results_["mean_fit_time"])
        print(f"{route:<44}{wall:>8.1f}{first / wall:>9.2f}x{fit_times.size * 3:>6}"
              f"{fit_times.mean():>8.1f}{-score:>10.5f}  {best}")
    print("\nspeed-up: against the first route run; fits: CV fits (3 per candidate and "
          "round); fit s: the mean seconds of one CV fit, inside its worker")


if __name__ == "__main__":
    main()
