"""NoiseInjector and the one corruption function it shares with DenoisingAE."""

import numpy as np
import pytest
import torch

import skae._noise as noise_module
from skae import NoiseInjector
from skae._noise import corrupt, occlusion_side

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


X_HIGH = RNG.uniform(0.5, 1.0, size=(300, 64))  # no zeros: every 0 is the patch


def _patches(Xn, shape):
    """Per image: the side of its one zero square (0 if clean), checked square,
    contiguous and the same on every channel; and its top-left corner."""
    full = (1, *shape) if len(shape) == 2 else tuple(shape)
    out = []
    for img in Xn.reshape(len(Xn), *full):
        zero = img == 0
        assert all(np.array_equal(zero[0], zero[c]) for c in range(full[0]))
        rows, cols = np.nonzero(zero[0])
        if rows.size == 0:
            out.append((0, None))
            continue
        side = rows.max() - rows.min() + 1
        assert cols.max() - cols.min() + 1 == side and zero[0].sum() == side * side
        out.append((side, (rows.min(), cols.min())))
    return out


@pytest.mark.parametrize("shape, level, side", [
    ((8, 8), 0.25, 4), ((8, 8), 0.1, 3), ((8, 8), 1.0, 8), ((8, 8), 0.001, 1),
    ((28, 28), 0.25, 14), ((2, 6, 5), 0.3, 3), ((4, 16), 1.0, 4)])
def test_occlusion_one_patch_on_every_image_covering_the_level(shape, level, side):
    full = (1, *shape) if len(shape) == 2 else shape
    X = RNG.uniform(0.5, 1.0, size=(200, int(np.prod(full))))
    Xn = NoiseInjector("occlusion", level, image_shape=shape, random_state=0).transform(X)
    patches = _patches(Xn, shape)
    assert [s for s, _ in patches] == [side] * len(X)  # every image, the same side
    assert occlusion_side(level, *full[1:]) == side
    # outside the patch, nothing changed
    assert np.array_equal(Xn[Xn != 0], X[Xn != 0])
    if side < min(full[1:]):
        assert len({corner for _, corner in patches}) > 1  # random positions


def test_occlusion_covered_fraction_matches_level():
    X = RNG.uniform(0.5, 1.0, size=(50, 28 * 28))
    for level in (0.05, 0.1, 0.25, 0.5, 0.75):
        Xn = NoiseInjector("occlusion", level, image_shape=(28, 28),
                           random_state=0).transform(X)
        covered = (Xn == 0).mean(axis=1)
        assert np.all(covered == covered[0])
        # the nearest square: off by less than one row of pixels
        assert abs(covered[0] - level) < 2 * np.sqrt(level) / 28


def test_occlusion_side_rule():
    assert occlusion_side(0.25, 28, 28) == 14
    assert occlusion_side(0.0, 28, 28) == 0
    assert occlusion_side(0.0, 28, 28, patch_size=5) == 0  # level 0: clean
    assert occlusion_side(0.9, 28, 28, patch_size=5) == 5
    assert occlusion_side(1e-6, 28, 28) == 1  # at least one pixel
    assert occlusion_side(1.0, 4, 16) == 4  # square, at most the smaller side
    assert occlusion_side(0.25, 4, 16) == 4  # sqrt(16) = 4
    assert occlusion_side(0.140625, 4, 4) == 2  # sqrt(2.25) = 1.5: halves up
    levels = torch.tensor([0.0, 0.1, 0.25, 1.0])
    assert occlusion_side(levels, 8, 8).tolist() == [0, 3, 4, 8]
    assert occlusion_side(levels, 8, 8, patch_size=2).tolist() == [0, 2, 2, 2]


def test_occlusion_patch_size_overrides_level():
    for level in (0.01, 0.5, 1.0):
        Xn = NoiseInjector("occlusion", level, patch_size=3, image_shape=(8, 8),
                           random_state=0).transform(X_HIGH)
        assert [s for s, _ in _patches(Xn, (8, 8))] == [3] * len(X_HIGH)


@pytest.mark.parametrize("patch_size", [None, 3])
def test_occlusion_level_zero_leaves_data_unchanged(patch_size):
    ni = NoiseInjector("occlusion", 0.0, patch_size=patch_size, image_shape=(8, 8))
    assert np.array_equal(ni.transform(X_HIGH), X_HIGH)


def test_occlusion_list_of_levels_draws_one_level_per_image():
    Xn = NoiseInjector("occlusion", [0.0, 0.25, 1.0], image_shape=(8, 8),
                       random_state=0).transform(X_HIGH)
    sides = np.array([s for s, _ in _patches(Xn, (8, 8))])
    assert set(sides) == {0, 4, 8}
    for side in (0, 4, 8):
        assert 0.2 < np.mean(sides == side) < 0.45
    assert np.array_equal(Xn[sides == 0], X_HIGH[sides == 0])  # level 0: clean


def test_occlusion_reproducible_and_input_untouched():
    X = X_HIGH.copy()
    X.setflags(write=False)
    ni = NoiseInjector("occlusion", [0.1, 0.25], image_shape=(8, 8), random_state=3)
    Xn = ni.transform(X)
    assert np.array_equal(X, X_HIGH)
    assert np.array_equal(Xn, ni.transform(X))
    assert np.array_equal(Xn, ni.fit_transform(X))
    other = NoiseInjector("occlusion", [0.1, 0.25], image_shape=(8, 8),
                          random_state=4).transform(X)
    assert not np.array_equal(Xn, other)


def test_occlusion_tensor_and_numpy_paths_follow_one_rule():
    ni = NoiseInjector("occlusion", [0.0, 0.1, 0.25], image_shape=(8, 8))
    x = torch.tensor(X_HIGH, dtype=torch.float32)
    x_copy = x.clone()
    out = ni.corrupt_tensor(x, torch.Generator().manual_seed(0))
    assert torch.equal(x, x_copy)  # the tensor is not modified
    tensor_sides = sorted({s for s, _ in _patches(out.numpy(), (8, 8))})
    Xn = ni.set_params(random_state=0).transform(X_HIGH.astype(np.float32))
    numpy_sides = sorted({s for s, _ in _patches(Xn, (8, 8))})
    assert tensor_sides == numpy_sides == [0, 3, 4]
    # corrupt() with one level per sample, as DenoisingAE's training uses it
    level = torch.tensor([0.0, 0.25, 1.0, 0.1] * 5)
    out = corrupt(x[:20], "occlusion", level, generator=torch.Generator().manual_seed(1),
                  image_shape=(8, 8))
    assert [s for s, _ in _patches(out.numpy(), (8, 8))] == [0, 4, 8, 3] * 5


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
