"""Start-up cost: ``import skae`` and the ``skae`` command, beside what they build on.

Each statement runs in a fresh interpreter (``python -c``), several times;
reported: the median wall time of the whole process and its peak resident
memory (ru_maxrss of the child). The reference rows show what a bare
interpreter, numpy, scikit-learn and torch cost by themselves.

Usage::

    python benchmarks/bench_import.py            # 7 runs of each
    python benchmarks/bench_import.py --runs 3
"""

import argparse
import platform
import subprocess
import sys
import time

import numpy as np

CASES = [
    ("python (nothing imported)", "pass"),
    ("import numpy", "import numpy"),
    ("import sklearn", "import sklearn"),
    ("import sklearn.decomposition", "import sklearn.decomposition"),
    ("import torch", "import torch"),
    ("import skae", "import skae"),
    ("skae --help", "from skae.cli import main; main(['--help'])"),
    ("skae fit --help", "from skae.cli import main; main(['fit', '--help'])"),
    ("skae fit (usage error)", "from skae.cli import main; main(['fit'])"),
    ("from skae import AutoencoderTransformer",
     "from skae import AutoencoderTransformer"),
]


def seconds_of(code):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; median of "
          f"{args.runs} fresh interpreters\n")
    print("| what | seconds | peak RSS (MB) |")
    print("|---|---:|---:|")
    for label, code in CASES:
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: measure each
        # case's memory in a child of its own (a fresh Python that runs it once)
        probe = ("import resource, subprocess, sys; subprocess.run([sys.executable, '-c', "
                 f"{code!r}], capture_output=True); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        rss_kb = int(subprocess.run([sys.executable, "-c", probe], capture_output=True,
                                    text=True, check=True).stdout)
        seconds = np.median([seconds_of(code) for _ in range(args.runs)])
        print(f"| {label} | {seconds:.2f} | {rss_kb / 1024:.0f} |", flush=True)


if __name__ == "__main__":
    main()
