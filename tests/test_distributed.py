"""Data-parallel training over torch.distributed (``distributed=True``),
launched as users launch it: ``torchrun`` with 2 CPU processes over gloo."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import skae
from skae import AutoencoderTransformer
from skae._training import BatchIterator, TensorData, process_group
from skae.datasets import load_digits

PARAMS = dict(n_components=8, hidden_layer_sizes=(32,), max_epochs=6, batch_size=64,
              random_state=0)

SCRIPT = textwrap.dedent("""
    import json, os, sys
    import skae
    from skae import {cls}
    from skae.datasets import load_digits

    X, _ = load_digits(return_X_y=True)
    est = {cls}(distributed=True, **{params!r}).fit(X)
    rank = int(os.environ["RANK"])
    out = sys.argv[1]
    skae.save(est, os.path.join(out, f"rank{{rank}}.skae"))
    with open(os.path.join(out, f"rank{{rank}}.json"), "w") as f:
        json.dump(est.history_, f)
""")


def _torchrun(tmp_path, cls="AutoencoderTransformer", params=PARAMS):
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT.format(cls=cls, params=params))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", "2", str(script), str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]


def _curve(history):
    return np.array([[h["train_loss"], h["valid_loss"]] for h in history])


@pytest.mark.slow
def test_two_processes_follow_the_single_process_fit(tmp_path):
    """Each process trains on half of every 64-row batch and DDP averages the
    gradients: the loss curve is the single-process one at the same global
    batch size, up to float rounding (measured: 1.5e-4 relative at most)."""
    histories = _torchrun(tmp_path)
    # the losses are averaged over the processes: the same history in both
    assert [dict(h, dur=0) for h in histories[0]] == [dict(h, dur=0) for h in histories[1]]
    X, _ = load_digits(return_X_y=True)
    single = AutoencoderTransformer(**PARAMS).fit(X)
    np.testing.assert_allclose(_curve(histories[0]), _curve(single.history_), rtol=2e-3)

    # every process ends with the same ordinary estimator, which loads on one CPU
    models = [skae.load(tmp_path / f"rank{r}.skae") for r in (0, 1)]
    assert models[0].distributed and models[0].device_ == "cpu"
    np.testing.assert_array_equal(models[0].transform(X), models[1].transform(X))
    np.testing.assert_allclose(models[0].transform(X), single.transform(X), atol=2e-2)
    models[0].partial_fit(X)  # alone: no launcher, no process group
    assert models[0].n_iter_ == PARAMS["max_epochs"] + 1


def test_without_a_launcher_training_runs_alone(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert process_group(True, "cpu") == (0, 1, "cpu")
    assert process_group(False, "cpu") == (0, 1, "cpu")
    X, _ = load_digits(return_X_y=True)
    a = AutoencoderTransformer(distributed=True, **PARAMS).fit(X)
    b = AutoencoderTransformer(**PARAMS).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_each_process_gets_an_equal_share_of_every_batch():
    X = torch.arange(10.0).reshape(10, 1)
    shares = [list(BatchIterator(TensorData(X), 4, shard=(r, 2))) for r in (0, 1)]
    rows = [[xb.flatten().tolist() for xb, _ in share] for share in shares]
    # batches [0..3], [4..7], [8, 9]: each process takes its half of each
    assert rows == [[[0, 1], [4, 5], [8]], [[2, 3], [6, 7], [9]]]
    odd = [list(BatchIterator(TensorData(torch.arange(5.0)[:, None]), 5, shard=(r, 2)))
           for r in (0, 1)]
    assert [len(b[0][0]) for b in odd] == [2, 2]  # the fifth row is skipped by both
