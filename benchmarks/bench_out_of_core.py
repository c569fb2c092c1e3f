"""Out-of-core fit and transform: an np.memmap larger than half the machine's memory.

Writes Fashion-MNIST's training images, tiled with a little noise, to a
float32 memmap of ``--rows`` x 784 (4M rows: 12.5 GB), then times one epoch
of the default dense ``AutoencoderTransformer`` (no early stopping) and a
``transform`` over all of it, sampling the process's anonymous memory
(``RssAnon``: what the process itself holds, not the page cache of the
file) every 20 ms. For comparison, the same fit and transform on the first
``--compare-rows`` rows, once as a memmap and once loaded in memory (the
in-memory path holds X as one tensor).

Usage::

    python benchmarks/bench_out_of_core.py [--rows 4000000] [--compare-rows 500000]
        [--dir /var/tmp] [--keep] [--ab ROUNDS]

``--ab 2 --compare-rows 200000`` runs only the comparison on 200k rows,
memmap and in-memory alternating, twice (memmap first), to check the order.
"""

import argparse
import os
import time

import numpy as np

from skae import AutoencoderTransformer

from _compute import peak_growth, rss_anon
from _data import load_data

MB = 2**20


def write_memmap(path, rows, images, seed=0):
    """Tile ``images`` into a float32 memmap of ``rows`` rows, with noise."""
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, images.shape[1]))
    rng = np.random.RandomState(seed)
    step = len(images)
    for start in range(0, rows, step):
        stop = min(start + step, rows)
        block = images[: stop - start] + rng.normal(0, 0.02, (stop - start, images.shape[1]))
        X[start:stop] = np.clip(block, 0, 1)
    X.flush()
    del X
    return np.memmap(path, dtype=np.float32, mode="r", shape=(rows, images.shape[1]))


def run(name, X, rows):
    est = AutoencoderTransformer(max_epochs=1, early_stopping=False, random_state=0)
    _, fit_mem, fit_s = peak_growth(lambda: est.fit(X), rss_anon, 0.02)
    Z, tr_mem, tr_s = peak_growth(lambda: est.transform(X), rss_anon, 0.02)
    return dict(data=name, rows=rows, fit_rows_s=rows / fit_s, fit_mb=fit_mem / MB,
                transform_rows_s=rows / tr_s, transform_mb=tr_mem / MB,
                out_mb=Z.nbytes / MB, fit_s=fit_s, transform_s=tr_s)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--compare-rows", type=int, default=500_000)
    parser.add_argument("--dir", default="/var/tmp")
    parser.add_argument("--keep", action="store_true", help="keep the memmap file")
    parser.add_argument("--ab", type=int, default=0, metavar="ROUNDS",
                        help="only the --compare-rows runs, alternating memmap and "
                             "in-memory for ROUNDS rounds (memmap first)")
    args = parser.parse_args(argv)
    if args.ab:
        args.rows = args.compare_rows

    images = load_data(quick=False)[0]
    path = os.path.join(args.dir, f"skae_bench_{args.rows}x784.f32")
    start = time.perf_counter()
    big = write_memmap(path, args.rows, images)
    print(f"wrote {path}: {big.nbytes / 2**30:.1f} GiB in {time.perf_counter() - start:.0f} s",
          flush=True)
    try:
        n = args.compare_rows
        if args.ab:
            rows = []
            for _ in range(args.ab):
                rows += [run("memmap", big[:n], n), run("in memory (np.array)",
                                                        np.array(big[:n]), n)]
            rows = [r for r in rows if r["data"].startswith("in memory")] + \
                [r for r in rows if r["data"] == "memmap"]
        else:
            rows = [run("in memory (np.array)", np.array(big[:n]), n),
                    run("memmap", big[:n], n),
                    run("memmap", big, args.rows)]
    finally:
        if not args.keep:
            os.remove(path)
    print(f"\n{'data':<22}{'rows':>10}{'fit rows/s':>12}{'fit +MB':>9}"
          f"{'transform rows/s':>18}{'transform +MB':>15}{'codes MB':>10}")
    for r in rows:
        print(f"{r['data']:<22}{r['rows']:>10,}{r['fit_rows_s']:>12,.0f}{r['fit_mb']:>9,.0f}"
              f"{r['transform_rows_s']:>18,.0f}{r['transform_mb']:>15,.0f}{r['out_mb']:>10,.0f}")
    ref = rows[0]
    for r in rows[1:]:
        print(f"{r['data']} {r['rows']:,} rows: fit at {r['fit_rows_s'] / ref['fit_rows_s']:.2f}x"
              f" and transform at {r['transform_rows_s'] / ref['transform_rows_s']:.2f}x the "
              f"in-memory rows/s")


if __name__ == "__main__":
    main()
