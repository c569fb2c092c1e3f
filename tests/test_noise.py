"""NoiseInjector and the one corruption function it shares with DenoisingAE."""

import numpy as np
import pytest
import torch

import skae._noise as noise_module
from skae import NoiseInjector
from skae._noise import corrupt

RNG = np.random.RandomState(0)
X_UNIT = RNG.uniform(0.05, 0.95, size=(400, 64)).astype(np.float32)


def test_gaussian_adds_scaled_standard_normal():
    Xn = NoiseInjector("gaussian", 0.5, random_state=0).transform(X_UNIT)
    z = (Xn - X_UNIT) / 0.5
    assert abs(z.mean()) < 0.02
    assert abs(z.std() - 1) < 0.02
    assert np.array_equal(NoiseInjector("gaussian", 0.0).transform(X_UNIT), X_UNIT)


def test_uniform_adds_scaled_unit_uniform():
    d = NoiseInjector("uniform", 0.3, random_state=0).transform(X_UNIT) - X_UNIT
    assert d.min() >= 0 and d.max() < 0.3 + 1e-6
    assert abs(d.mean() - 0.15) < 0.005


@pytest.mark.parametrize("clip", [None, (0.0, 1.0)])
def test_salt_and_pepper_uses_clip_bounds_else_data_range(clip):
    Xn = NoiseInjector("salt_and_pepper", 0.2, clip=clip, random_state=0).transform(X_UNIT)
    changed = Xn != X_UNIT
    low, high = clip if clip is not None else (X_UNIT.min(), X_UNIT.max())
    assert set(np.unique(Xn[changed])) <= {np.float32(low), np.float32(high)}
    # about half salt, half pepper, on about the fraction `level`
    assert abs(changed.mean() - 0.2) < 0.01
    assert abs((Xn[changed] == np.float32(high)).mean() - 0.5) < 0.03


def test_flip_maps_v_to_one_minus_v_on_the_fraction():
    Xn = NoiseInjector("flip", 0.25, random_state=0).transform(X_UNIT)
    changed = Xn != X_UNIT
    assert abs(changed.mean() - 0.25) < 0.01
    np.testing.assert_allclose(Xn[changed], 1 - X_UNIT[changed], rtol=1e-6)


def test_mask_zeroes_the_fraction():
    Xn = NoiseInjector("mask", 0.4, random_state=0).transform(X_UNIT)
    changed = Xn != X_UNIT
    assert abs(changed.mean() - 0.4) < 0.01
    assert np.all(Xn[changed] == 0)


@pytest.mark.parametrize("shape, side", [((8, 8), 3), ((2, 6, 5), 4), ((8, 8), None)])
def test_occlusion_zeroes_one_square_per_sample(shape, side):
    full = (1, *shape) if len(shape) == 2 else shape
    X = np.ones((50, int(np.prod(full))))
    Xn = NoiseInjector("occlusion", 1.0, patch_size=side, image_shape=shape,
                       random_state=0).transform(X)
    side = side or -(-min(full[1:]) // 2)
    images = Xn.reshape(50, *full)
    positions = set()
    for img in images:
        zero = img == 0
        assert zero.sum() == full[0] * side * side
        # the same square on every channel
        assert all(np.array_equal(zero[0], zero[c]) for c in range(full[0]))
        rows, cols = np.nonzero(zero[0])
        assert rows.max() - rows.min() + 1 == side and cols.max() - cols.min() + 1 == side
        positions.add((rows.min(), cols.min()))
    assert len(positions) > 1  # random positions


def test_occlusion_level_is_the_fraction_of_samples():
    X = np.ones((1000, 16))
    Xn = NoiseInjector("occlusion", 0.3, patch_size=2, image_shape=(4, 4),
                       random_state=0).transform(X)
    occluded = (Xn == 0).any(axis=1)
    assert abs(occluded.mean() - 0.3) < 0.05


def test_clip():
    Xn = NoiseInjector("gaussian", 1.0, clip=(0, 1), random_state=0).transform(X_UNIT)
    assert Xn.min() == 0 and Xn.max() == 1


def test_list_of_levels_gives_each_sample_one_level():
    Xn = NoiseInjector("gaussian", [0.0, 1.0], random_state=0).transform(X_UNIT)
    clean = np.all(Xn == X_UNIT, axis=1)
    assert 0.35 < clean.mean() < 0.65
    assert np.all((Xn[~clean] - X_UNIT[~clean]).std(axis=1) > 0.7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", noise_module.KINDS)
def test_input_untouched_dtype_kept_and_reproducible(kind, dtype):
    X = X_UNIT.astype(dtype)
    X_copy = X.copy()
    X.setflags(write=False)
    ni = NoiseInjector(kind, 0.3, image_shape=(8, 8), random_state=42)
    Xn = ni.fit_transform(X)
    assert Xn.dtype == dtype
    assert not np.shares_memory(Xn, X)
    assert np.array_equal(X, X_copy)
    assert not np.array_equal(Xn, X)
    assert np.array_equal(Xn, ni.transform(X))  # same int seed, same noise
    other = NoiseInjector(kind, 0.3, image_shape=(8, 8), random_state=43).transform(X)
    assert not np.array_equal(Xn, other)


def test_random_state_none_or_instance_gives_new_noise_each_call():
    assert not np.array_equal(NoiseInjector().transform(X_UNIT),
                              NoiseInjector().transform(X_UNIT))
    ni = NoiseInjector(random_state=np.random.RandomState(0))
    assert not np.array_equal(ni.transform(X_UNIT), ni.transform(X_UNIT))


def test_no_global_rng_leak():
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    NoiseInjector("salt_and_pepper", 0.1, random_state=0).transform(X_UNIT)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])


def test_batched_transform_matches_and_is_reproducible(monkeypatch):
    monkeypatch.setattr(noise_module, "BATCH_SIZE", 64)
    ni = NoiseInjector("mask", 0.5, random_state=0)
    Xn = ni.transform(X_UNIT)
    assert np.array_equal(Xn, ni.transform(X_UNIT))
    # the noise of different batches differs
    m = Xn == 0
    assert not np.array_equal(m[:64], m[64:128])
    assert abs(m.mean() - 0.5) < 0.02


def test_stateless_transform_without_fit_and_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X_UNIT[:5, :3], columns=["a", "b", "c"])
    ni = NoiseInjector(random_state=0).set_output(transform="pandas")
    out = ni.fit_transform(df)
    assert list(out.columns) == ["a", "b", "c"]
    assert NoiseInjector().transform(X_UNIT).shape == X_UNIT.shape


def test_corrupt_returns_new_tensor_with_per_sample_levels():
    x = torch.full((4, 5), 0.5)
    level = torch.tensor([0.0, 1.0, 0.0, 1.0])
    out = corrupt(x, "mask", level, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, torch.full((4, 5), 0.5))
    assert torch.equal(out[[0, 2]], x[[0, 2]])
    assert torch.all(out[[1, 3]] == 0)
    with pytest.raises(ValueError, match="Unknown noise kind 'blur'"):
        corrupt(x, "blur", 0.1, generator=torch.Generator())


@pytest.mark.parametrize("params, X, match", [
    (dict(kind="blur"), X_UNIT, "'kind' parameter"),
    (dict(level=-0.1), X_UNIT, "'level' parameter"),
    (dict(level=[0.1, -0.2]), X_UNIT, "level must be >= 0"),
    (dict(kind="mask", level=1.5), X_UNIT, "must lie in \\[0, 1\\]"),
    (dict(kind="occlusion"), X_UNIT, "needs image_shape"),
    (dict(kind="occlusion", image_shape=(8, 8), patch_size=9), X_UNIT, "larger than"),
    (dict(kind="occlusion", image_shape=(4, 4)), X_UNIT, "holds 16 values"),
    (dict(clip=(1, 0)), X_UNIT, "low <= high"),
    (dict(clip=(0, 1, 2)), X_UNIT, "clip must be"),
    ({}, np.array([[0.0, np.nan]]), "NaN"),
])
def test_bad_input_clear_errors(params, X, match):
    with pytest.raises(ValueError, match=match):
        NoiseInjector(**params).fit(X)
    with pytest.raises(ValueError, match=match):
        NoiseInjector(**params).transform(X)
