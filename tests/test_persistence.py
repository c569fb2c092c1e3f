"""skae.save / skae.load: round trips, one clear error for every bad file, atomic saves,
for single estimators and for pipelines holding them."""

import hashlib
import io
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from itertools import islice

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

import skae
import skae._persistence as persistence
from skae import (
    AutoencoderTransformer,
    DenoisingAE,
    EncoderClassifier,
    ModelFileError,
    NoiseInjector,
    VAETransformer,
)
from skae._validation import is_fitted
from skae.datasets import load_digits

X, Y = (a[:300] for a in load_digits(return_X_y=True))
TINY = dict(hidden_layer_sizes=(8,), max_epochs=1, random_state=0)


def torch_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def with_header(payload, version=persistence.ESTIMATOR_VERSION):
    """``payload`` behind a valid skae header (right length and checksum)."""
    digest = hashlib.sha256(payload).hexdigest().encode()
    return persistence._HEADER.pack(b"SKAE", version, len(payload), digest) + payload


def contents(data):
    """The dict stored in a model file's bytes."""
    return torch.load(io.BytesIO(data[persistence._HEADER.size:]), weights_only=True)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    ae = AutoencoderTransformer(n_components=2, **TINY).fit(X)
    path = tmp_path_factory.mktemp("model") / "ae.skae"
    skae.save(ae, path)
    return path, ae


# ------------------------------------------------------------------ round trips
def _simple_params(est):
    return {k: v for k, v in est.get_params().items() if not isinstance(v, BaseEstimator)}


@pytest.mark.parametrize("make", [
    lambda: AutoencoderTransformer(n_components=2, **TINY).fit(X),
    lambda: AutoencoderTransformer(n_components=2, architecture="conv", **TINY).fit(X),
    lambda: DenoisingAE(n_components=2, noise="salt_and_pepper", noise_level=0.1,
                        **TINY).fit(X),
    lambda: VAETransformer(n_components=2, **TINY).fit(X),
    lambda: EncoderClassifier(AutoencoderTransformer(n_components=2, **TINY),
                              max_epochs=1, random_state=0).fit(X, Y),
    lambda: NoiseInjector("gaussian", 0.2, clip=(0, 1), random_state=0).fit(X),
], ids=["dense-ae", "conv-ae", "denoising", "vae", "classifier", "noise"])
def test_round_trip_every_estimator(tmp_path, make):
    est = make()
    path = tmp_path / "m.skae"
    skae.save(est, path)
    assert path.read_bytes()[:6] == b"SKAE\x02\x00"
    loaded = skae.load(path)
    assert type(loaded) is type(est) and _simple_params(loaded) == _simple_params(est)
    method = "predict_proba" if isinstance(est, EncoderClassifier) else "transform"
    np.testing.assert_allclose(getattr(loaded, method)(X), getattr(est, method)(X),
                               rtol=1e-6, atol=1e-7)
    assert os.listdir(tmp_path) == ["m.skae"]  # no temporary file left behind


def test_format_1_files_still_load(tmp_path, model_file):
    path, ae = model_file
    old = dict(contents(path.read_bytes()), format_version=1)
    torch.save(old, tmp_path / "old.skae")  # how skae wrote files before format 2
    np.testing.assert_array_equal(skae.load(tmp_path / "old.skae").transform(X),
                                  ae.transform(X))


# ------------------------------------------------------------------ bad files
def _flip(i=None, bit=0x10):
    """Flip one bit of byte ``i`` (by default, a byte in the middle of the payload)."""
    def flip(data):
        data = bytearray(data)
        data[len(data) // 2 if i is None else i] ^= bit
        return bytes(data)
    return flip


def _rewrite(change):
    """The model file with its stored dict rewritten by ``change``, re-checksummed."""
    def rewrite(data):
        stored = contents(data)
        change(stored)
        return with_header(torch_bytes(stored))
    return rewrite


def _reshape_a_tensor(stored):
    key = next(k for k in stored["tensors"] if k.endswith("weight"))
    stored["tensors"][key] = torch.zeros(3, 5)


def _edit_json(change):
    def edit(stored):
        desc = json.loads(stored["estimator"])
        change(desc)
        stored["estimator"] = json.dumps(desc)
    return edit


def _foreign_zip(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


HEADER = persistence._HEADER.size
BAD_FILES = {
    "empty": (lambda d: b"", r"the file is empty"),
    "truncated-in-magic": (lambda d: d[:3], r"truncated \(3 bytes, inside the header\)"),
    "truncated-in-header": (lambda d: d[:40], r"truncated \(40 bytes, inside the header\)"),
    "truncated-after-header": (lambda d: d[:HEADER], r"truncated \(0 of \d+ payload bytes"),
    "truncated-half": (lambda d: d[:len(d) // 2], r"truncated \(\d+ of \d+ payload bytes"),
    "truncated-last-byte": (lambda d: d[:-1], r"truncated \(\d+ of \d+ payload bytes"),
    "trailing-bytes": (lambda d: d + b"\0", r"damaged \(\d+ payload bytes where the header"),
    "random-bytes": (lambda d: np.random.default_rng(0).bytes(1000),
                     r"not a skae model file \(it does not start with the skae header"),
    "flipped-payload-byte": (_flip(), r"damaged \(sha256 checksum mismatch\)"),
    "flipped-magic-byte": (_flip(1), r"does not start with the skae header"),
    "flipped-version-byte": (_flip(4, bit=0x02),
                             r"header is damaged \(format version field 0\)"),
    "flipped-length-byte": (_flip(8), r"header is damaged \(payload length field"),
    "flipped-checksum-byte": (_flip(30), r"damaged \(sha256 checksum mismatch\)"),
    "foreign-zip": (_foreign_zip, r"damaged or not a skae model file \(torch.load"),
    "torch-file-not-skae": (lambda d: torch_bytes({"weights": torch.zeros(2)}),
                            r"not a skae model file \(written by skae.save\)"),
    "torch-file-not-skae-with-header": (
        lambda d: with_header(torch_bytes([1, 2])), r"not a skae model file"),
    "truncated-format-1": (lambda d: torch_bytes(contents(d))[:500],
                           r"damaged or not a skae model file \(torch.load"),
    "newer-format-version": (
        lambda d: with_header(b"a future layout", version=4),
        r"newer skae \(format version 4, this skae reads up to 3\); upgrade skae"),
    "newer-format-version-in-payload": (
        _rewrite(lambda s: s.update(format_version=4)), r"newer skae \(format version 4"),
    "invalid-format-version": (_rewrite(lambda s: s.update(format_version="2")),
                               r"invalid format version '2'"),
    "tensor-of-wrong-shape": (_rewrite(_reshape_a_tensor),
                              r"tensors do not fit the stored parameters .*size mismatch"),
    "missing-tensor": (_rewrite(lambda s: s["tensors"].popitem()),
                       r"tensors do not fit the stored parameters .*Missing key"),
    "missing-tensors-entry": (_rewrite(lambda s: s.pop("tensors")),
                              r"the entry 'tensors' is missing"),
    "missing-params-entry": (_rewrite(_edit_json(lambda d: d.pop("params"))),
                             r"the entry 'params' is missing"),
    "unknown-estimator": (_rewrite(_edit_json(lambda d: d.update(__skae_estimator__="PCA"))),
                          r"contents are inconsistent \(unknown estimator class 'PCA'\)"),
    "unknown-parameter": (_rewrite(_edit_json(lambda d: d["params"].update(foo=1))),
                          r"contents are inconsistent .*foo"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_gives_one_clear_error(tmp_path, model_file, name):
    corrupt, message = BAD_FILES[name]
    path = tmp_path / "bad.skae"
    path.write_bytes(corrupt(model_file[0].read_bytes()))
    with pytest.raises(ModelFileError, match=message) as info:
        skae.load(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"cannot load {path}: ")


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match=f"cannot load {tmp_path}: it is a directory"):
        skae.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        skae.load(tmp_path / "missing.skae")


class Evil:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


@pytest.mark.skipif(sys.platform == "win32", reason="uses touch")
@pytest.mark.parametrize("header", [True, False], ids=["format-2", "format-1"])
def test_malicious_pickle_is_refused_without_running(tmp_path, header):
    pickle.loads(pickle.dumps(Evil(tmp_path / "proof")))  # the payload does run if unpickled
    assert (tmp_path / "proof").exists()
    marker = tmp_path / "pwned"
    payload = torch_bytes({"format": "skae-model", "format_version": 2,
                           "estimator": Evil(marker), "tensors": {}})
    path = tmp_path / "evil.skae"
    path.write_bytes(with_header(payload) if header else payload)  # valid checksum
    with pytest.raises(ModelFileError, match="objects other than tensors and plain data"):
        skae.load(path)
    assert not marker.exists()


# ------------------------------------------------------------------ atomic saves
@pytest.mark.parametrize("fail_at", ["torch.save", "os.fsync", "os.replace"])
def test_failed_save_keeps_the_old_file(tmp_path, model_file, monkeypatch, fail_at):
    path = tmp_path / "ae.skae"
    path.write_bytes(model_file[0].read_bytes())
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    module, name = fail_at.split(".")
    monkeypatch.setattr({"torch": torch, "os": os}[module], name, fail)
    with pytest.raises(OSError, match="No space left"):
        skae.save(AutoencoderTransformer(n_components=5), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ae.skae"]
    assert skae.load(path).n_components == 2


def test_save_to_a_directory_or_missing_folder(tmp_path):
    (tmp_path / "d.skae").mkdir()
    with pytest.raises(OSError):
        skae.save(AutoencoderTransformer(), tmp_path / "d.skae")
    with pytest.raises(FileNotFoundError):
        skae.save(AutoencoderTransformer(), tmp_path / "no" / "m.skae")
    assert os.listdir(tmp_path) == ["d.skae"] and not os.listdir(tmp_path / "d.skae")


CHILD = textwrap.dedent("""
    import sys, time
    import skae, skae._io as skae_io
    from skae import AutoencoderTransformer
    from skae.datasets import load_digits

    path, mode = sys.argv[1:]
    X = load_digits(return_X_y=True)[0][:200]
    models = [AutoencoderTransformer(n_components=k, hidden_layer_sizes=(8,), max_epochs=1,
                                     random_state=0).fit(X) for k in (2, 3)]
    if mode == "loop":
        for i in range(10 ** 6):
            skae.save(models[i % 2], path)
            print("saved", flush=True)

    class HalfWrite:  # writes half of the first chunk, then hangs until killed
        def __init__(self, fd, mode):
            self.file = open(fd, mode)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.file.close()
        def write(self, chunk):
            self.file.write(bytes(chunk)[:len(chunk) // 2])
            self.file.flush()
            print("half-written", flush=True)
            time.sleep(600)

    if mode == "existing":
        skae.save(models[0], path)
    skae_io.open = HalfWrite
    skae.save(models[1], path)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("mode", ["absent", "existing", "loop"])
def test_killed_save_never_leaves_a_partial_file(tmp_path, mode):
    path = tmp_path / "ae.skae"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), mode],
                             stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(300, child.kill)
    watchdog.start()
    try:
        wait_for = 3 if mode == "loop" else 1
        seen = list(islice(iter(child.stdout.readline, ""), wait_for))
        assert len(seen) == wait_for, "the child died before writing"
        if mode != "loop":  # the child hangs half-way through writing its temporary file
            tmp = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            assert len(tmp) == 1 and 0 < tmp[0].stat().st_size
        child.send_signal(signal.SIGKILL)
    finally:
        watchdog.cancel()
        child.kill()
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    if mode == "absent":
        assert not path.exists()
    else:
        assert skae.load(path).n_components in ((2,) if mode == "existing" else (2, 3))
    # at most the hidden temporary file of the killed save remains beside it
    assert all(p == path or p.name.startswith(".ae.skae.") for p in tmp_path.iterdir())


# ------------------------------------------------------------------ pipelines
# A scikit-learn object holding skae estimators: the skeleton in skops' format,
# the skae estimators in skae's own, one checksummed file written atomically.
class Doubler(TransformerMixin, BaseEstimator):
    """A user's own transformer: a type skops does not trust by default."""

    built = 0  # how many were ever rebuilt by unpickling-like loading

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        return 2 * np.asarray(X)

    def __setstate__(self, state):
        type(self).built += 1
        self.__dict__.update(state)


DOUBLER = f"{__name__}.Doubler"
SEARCH_TYPES = ["sklearn.metrics._scorer._PassthroughScorer",
                "sklearn.model_selection._split.StratifiedKFold"]


def _grid_search():
    # estimators as grid values: cv_results_ holds them in numpy masked arrays
    pipe = Pipeline([("reduce", PCA()), ("clf", LogisticRegression(max_iter=200))])
    return GridSearchCV(pipe, {"reduce": [AutoencoderTransformer(n_components=k, **TINY)
                                          for k in (2, 3)]}, cv=2).fit(X, Y)


PIPELINES = {
    "scaler-ae-logreg": lambda: make_pipeline(
        StandardScaler(), AutoencoderTransformer(n_components=3, **TINY),
        LogisticRegression(max_iter=200)).fit(X, Y),
    "conv-vae-logreg": lambda: make_pipeline(
        VAETransformer(n_components=3, architecture="conv", hidden_layer_sizes=(4,),
                       max_epochs=1, random_state=0),
        LogisticRegression(max_iter=200)).fit(X, Y),
    "dae-encoder-classifier": lambda: make_pipeline(
        MinMaxScaler(), DenoisingAE(output="reconstruction", **TINY),
        EncoderClassifier(AutoencoderTransformer(n_components=2, **TINY), max_epochs=1,
                          random_state=0)).fit(X, Y),
    "column-transformer": lambda: make_pipeline(ColumnTransformer([
        ("ae", AutoencoderTransformer(n_components=2, **TINY), slice(0, 32)),
        ("noise", NoiseInjector("mask", 0.1, random_state=0), slice(32, 64))]),
        LogisticRegression(max_iter=200)).fit(X, Y),
    "best-estimator": lambda: _grid_search().best_estimator_,
    "unfitted": lambda: make_pipeline(StandardScaler(), AutoencoderTransformer(**TINY)),
}


def _same_predictions(a, b):
    if hasattr(a, "predict_proba"):
        np.testing.assert_array_equal(b.predict_proba(X), a.predict_proba(X))
    if hasattr(a, "predict"):
        np.testing.assert_array_equal(b.predict(X), a.predict(X))
    else:
        np.testing.assert_array_equal(b.transform(X), a.transform(X))


@pytest.mark.parametrize("name", PIPELINES)
def test_pipeline_round_trip(tmp_path, name):
    pipe = PIPELINES[name]()
    path = tmp_path / "pipe.skae"
    skae.save(pipe, path)
    assert path.read_bytes()[:6] == b"SKAE\x03\x00"
    loaded = skae.load(path)
    assert type(loaded) is type(pipe) and loaded is not pipe
    assert repr(loaded) == repr(pipe)
    if name == "unfitted":
        assert not is_fitted(loaded[-1])
        loaded.fit(X)  # and it trains
    else:
        _same_predictions(pipe, loaded)
    assert os.listdir(tmp_path) == ["pipe.skae"]


def test_grid_search_needs_its_types_trusted(tmp_path):
    search = _grid_search()
    path = tmp_path / "search.skae"
    skae.save(search, path)
    with pytest.raises(ModelFileError, match=r"types that skops does not trust.*"
                       + re.escape(f"pass trusted={SEARCH_TYPES!r} to skae.load")):
        skae.load(path)
    loaded = skae.load(path, trusted=SEARCH_TYPES)
    _same_predictions(search, loaded)
    # the unfitted template and the fitted best estimator stay two estimators,
    # and a step is one object wherever the pipeline refers to it
    best = loaded.best_estimator_
    assert is_fitted(best[0]) and not is_fitted(loaded.estimator[0])
    assert best.named_steps["reduce"] is best.steps[0][1]
    assert repr(loaded.best_params_) == repr(search.best_params_)
    assert loaded.best_params_["reduce"] is loaded.param_grid["reduce"][
        search.param_grid["reduce"].index(search.best_params_["reduce"])]
    assert [type(e) for e in loaded.cv_results_["param_reduce"]] == [AutoencoderTransformer] * 2
    assert [e.n_components for e in loaded.cv_results_["param_reduce"]] == [2, 3]


def test_untrusted_types_are_refused_before_anything_is_built(tmp_path):
    pipe = make_pipeline(Doubler(), AutoencoderTransformer(**TINY)).fit(X)
    path = tmp_path / "doubler.skae"
    skae.save(pipe, path)
    Doubler.built = 0
    with pytest.raises(ModelFileError, match=re.escape(f"pass trusted={[DOUBLER]!r}")):
        skae.load(path)
    assert Doubler.built == 0
    for trusted in ([DOUBLER], Doubler):  # a name, or the type itself
        loaded = skae.load(path, trusted=trusted)
        np.testing.assert_array_equal(loaded.transform(X), pipe.transform(X))


def test_a_resigned_skeleton_with_an_untrusted_type_is_refused(tmp_path, monkeypatch):
    """A file whose skops part was replaced (and re-checksummed) by one holding
    an untrusted type is refused, as skops refuses it."""
    import skops.io

    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(**TINY)).fit(X)
    path = tmp_path / "pipe.skae"
    skae.save(pipe, path)
    stored = contents(path.read_bytes())
    evil = skops.io.dumps(make_pipeline(Doubler(), StandardScaler()))
    stored["skeleton"] = torch.frombuffer(bytearray(evil), dtype=torch.uint8)
    path.write_bytes(with_header(torch_bytes(stored), version=3))
    Doubler.built = 0
    with pytest.raises(ModelFileError, match="does not trust"):
        skae.load(path)
    assert Doubler.built == 0


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory):
    pipe = PIPELINES["scaler-ae-logreg"]()
    path = tmp_path_factory.mktemp("pipe") / "pipe.skae"
    skae.save(pipe, path)
    return path, pipe


def _skeleton_bytes(change):
    def rewrite(data):
        stored = contents(data)
        skeleton = bytearray(stored["skeleton"].numpy().tobytes())
        stored["skeleton"] = torch.frombuffer(change(skeleton), dtype=torch.uint8)
        return with_header(torch_bytes(stored), version=3)
    return rewrite


def _drop_a_step(stored):
    desc = json.loads(stored["estimator"])
    desc["skae_estimators"] = []
    stored["estimator"] = json.dumps(desc)


def _resign(change):
    def rewrite(data):
        stored = contents(data)
        change(stored)
        return with_header(torch_bytes(stored), version=3)
    return rewrite


BAD_PIPELINE_FILES = {
    "empty": (lambda d: b"", r"the file is empty"),
    "truncated-in-header": (lambda d: d[:40], r"truncated \(40 bytes, inside the header\)"),
    "truncated-half": (lambda d: d[:len(d) // 2], r"truncated \(\d+ of \d+ payload bytes"),
    "truncated-last-byte": (lambda d: d[:-1], r"truncated \(\d+ of \d+ payload bytes"),
    "trailing-bytes": (lambda d: d + b"\0", r"damaged \(\d+ payload bytes where the header"),
    "flipped-payload-byte": (_flip(), r"damaged \(sha256 checksum mismatch\)"),
    "flipped-version-byte": (_flip(4, bit=0x02),
                             r"header is damaged \(format version field 1\)"),
    "flipped-checksum-byte": (_flip(30), r"damaged \(sha256 checksum mismatch\)"),
    "resigned-truncated-skeleton": (_skeleton_bytes(lambda b: b[:len(b) // 2]),
                                    r"scikit-learn part is damaged or not a skops file"),
    "resigned-garbage-skeleton": (_skeleton_bytes(lambda b: bytearray(b"junk") * 10),
                                  r"scikit-learn part is damaged or not a skops file"),
    "missing-skeleton-entry": (_resign(lambda s: s.pop("skeleton")),
                               r"the entry 'skeleton' is missing"),
    "skae-step-missing": (_resign(_drop_a_step),
                          r"contents are inconsistent .*names no saved skae estimator"),
    "skae-step-tensor-missing": (_resign(lambda s: s["tensors"].popitem()),
                                 r"tensors do not fit the stored parameters .*Missing key"),
}


@pytest.mark.parametrize("name", BAD_PIPELINE_FILES)
def test_bad_pipeline_file_gives_one_clear_error(tmp_path, pipeline_file, name):
    corrupt, message = BAD_PIPELINE_FILES[name]
    path = tmp_path / "bad.skae"
    path.write_bytes(corrupt(pipeline_file[0].read_bytes()))
    with pytest.raises(ModelFileError, match=message) as info:
        skae.load(path)
    assert str(info.value).startswith(f"cannot load {path}: ")


@pytest.mark.parametrize("fail_at", ["skops.dumps", "os.fsync", "os.replace"])
def test_failed_pipeline_save_keeps_the_old_file(tmp_path, pipeline_file, monkeypatch,
                                                 fail_at):
    import skops.io

    path = tmp_path / "pipe.skae"
    path.write_bytes(pipeline_file[0].read_bytes())
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    module, name = fail_at.split(".")
    monkeypatch.setattr({"skops": skops.io, "os": os}[module], name, fail)
    with pytest.raises((OSError, TypeError), match="No space left"):  # TypeError: skops'
        skae.save(make_pipeline(StandardScaler(), AutoencoderTransformer()), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["pipe.skae"]
    _same_predictions(pipeline_file[1], skae.load(path))


def test_what_save_refuses_and_what_it_takes(tmp_path):
    path = tmp_path / "x.skae"
    with pytest.raises(TypeError, match="not dict"):
        skae.save({"ae": AutoencoderTransformer()}, path)
    with pytest.raises(TypeError, match="cannot save the Pipeline: copying it .*lock"):
        skae.save(make_pipeline(FunctionTransformer(kw_args={"lock": threading.Lock()}),
                                AutoencoderTransformer()), path)
    assert not os.listdir(tmp_path)
    # a scikit-learn estimator without skae steps (a search's best estimator may be one)
    scaler = StandardScaler().fit(X)
    skae.save(make_pipeline(scaler), path)
    np.testing.assert_array_equal(skae.load(path).transform(X), scaler.transform(X))
    # a function skops stores by name: saved, and refused at load unless trusted
    skae.save(make_pipeline(FunctionTransformer(np.log1p), AutoencoderTransformer(**TINY)),
              path)
    assert isinstance(skae.load(path)[0].func, np.ufunc)  # numpy's ufuncs are trusted
    skae.save(make_pipeline(FunctionTransformer(_double), AutoencoderTransformer(**TINY)),
              path)
    with pytest.raises(ModelFileError, match=re.escape(f"{__name__}._double")):
        skae.load(path)
    assert skae.load(path, trusted=[f"{__name__}._double"])[0].func is _double


def _double(x):
    return 2 * x


def test_missing_skops_names_the_extra(tmp_path, pipeline_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=r"skae\[skops\]"):
        skae.save(pipeline_file[1], tmp_path / "p.skae")
    with pytest.raises(ImportError, match=r"skae\[skops\]"):
        skae.load(pipeline_file[0])
    # a single skae estimator needs no skops
    skae.save(pipeline_file[1][1], tmp_path / "ae.skae")
    assert skae.load(tmp_path / "ae.skae").n_components == 3
