"""sklearn's own estimator checks, run on every skae estimator.

Small instances keep the checks fast; default-size instances (the default
(512, 256) network, a few epochs) show that nothing, batch invariance above
all, holds only for toy networks. Expected failures are strict: a check that
starts passing fails the run, so the list cannot go stale.
"""

import pytest
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAE,
    EncoderClassifier,
    NoiseInjector,
    VAETransformer,
)

FAST = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=16, random_state=0)

#: Conv instances get non-image data from the checks (2-D arrays with 1 to 10
#: features that are not square images), so every check that fits on such data
#: raises our "needs image_shape" error instead of fitting.
CONV_EXPECTED = {
    check: "sklearn's checks feed arrays whose n_features is not a square image"
    for check in (
        "check_estimators_dtypes", "check_fit_score_takes_y", "check_estimators_fit_returns_self",
        "check_pipeline_consistency", "check_estimators_overwrite_params",
        "check_estimators_pickle", "check_f_contiguous_array_estimator",
        "check_transformer_data_not_an_array", "check_transformer_general",
        "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_fit2d_1sample",
        "check_dict_unchanged", "check_dont_overwrite_parameters", "check_fit_idempotent",
        "check_fit_check_is_fitted", "check_n_features_in",
        "check_readonly_memmap_input",
        "check_set_output_transform",
        "check_set_output_transform_pandas", "check_global_output_transform_pandas",
        "check_set_output_transform_polars", "check_global_output_transform_polars",
        "check_get_feature_names_out_error", "check_estimators_partial_fit_n_features",
        "check_requires_y_none",
        "check_estimators_nan_inf",
        "check_fit2d_predict1d", "check_dtype_object",
    )
}


#: A NoiseInjector draws all noise of a call from one stream, so a row's noise
#: depends on the rows transformed with it (fixed for the same X and an int
#: random_state, but not for a subset or a permutation of X).
NOISE_EXPECTED = {
    "check_methods_subset_invariance": "a row's noise depends on the rows "
                                       "transformed with it",
    "check_methods_sample_order_invariance": "a row's noise depends on its "
                                             "position in X",
}


#: EncoderClassifier: a small autoencoder pretrained inside each fit (lr high
#: enough that 3 epochs keep the blobs of check_classifiers_train apart).
CLF_AE = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=16, lr=1e-2)
CLF_FAST = dict(lr=1e-2, max_epochs=10, batch_size=16, random_state=0)

def _expected_failed_checks(estimator):
    if isinstance(estimator, NoiseInjector):
        return NOISE_EXPECTED
    if getattr(estimator, "architecture", "dense") == "conv":
        return CONV_EXPECTED
    return {}


@parametrize_with_checks(
    [
        AutoencoderTransformer(n_components=2, **FAST),
        AutoencoderTransformer(n_components=3, early_stopping=False, dropout=0.1,
                               loss="mse", **FAST),
        AutoencoderTransformer(n_components=2, architecture="conv", **FAST),
        VAETransformer(n_components=2, **FAST),
        VAETransformer(n_components=2, early_stopping=False, loss="mse", beta=0.5,
                       kl_warmup_epochs=2, **FAST),
        VAETransformer(n_components=2, architecture="conv", **FAST),
        DenoisingAE(n_components=2, **FAST),
        DenoisingAE(n_components=2, noise="mask", noise_level=[0.0, 0.3],
                    output="reconstruction", **FAST),
        NoiseInjector(random_state=0),
        NoiseInjector("salt_and_pepper", 0.2, clip=(0, 1), random_state=0),
        NoiseInjector("flip", [0.0, 0.5], random_state=0),
        EncoderClassifier(AutoencoderTransformer(n_components=2, random_state=0, **CLF_AE),
                          hidden_layer_sizes=(16,), **CLF_FAST),
        EncoderClassifier(VAETransformer(n_components=2, **CLF_AE), freeze_encoder=False,
                          hidden_layer_sizes=(), dropout=0.1, early_stopping=False,
                          **CLF_FAST),
        # default-size networks
        AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0),
        VAETransformer(n_components=2, max_epochs=2, random_state=0),
        DenoisingAE(n_components=2, max_epochs=2, random_state=0),
        EncoderClassifier(AutoencoderTransformer(n_components=2, max_epochs=2,
                                                 random_state=0),
                          freeze_encoder=False, lr=1e-2, max_epochs=10, random_state=0),
        # outlier detectors: the default score, and the VAE's ELBO
        AutoencoderOutlierDetector(AutoencoderTransformer(n_components=2, **FAST),
                                   random_state=0),
        AutoencoderOutlierDetector(VAETransformer(n_components=2, **FAST),
                                   anomaly_score="elbo", contamination=0.1, random_state=0),
        AutoencoderOutlierDetector(DenoisingAE(n_components=2, **FAST),
                                   anomaly_score="denoising", random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


#: sklearn has these checks but parametrize_with_checks (1.9) never yields
#: them, so the expected failures listed for them in CONV_EXPECTED never run
#: either: they are called here, for the dense transformers (the conv ones
#: get the same properties on images in tests/test_conv_checks.py)
UNYIELDED_CHECKS = ("check_set_output_transform", "check_set_output_transform_pandas",
                    "check_global_output_transform_pandas",
                    "check_get_feature_names_out_error")


@pytest.mark.filterwarnings("ignore:X (has|does not have valid) feature names")
@pytest.mark.parametrize("check_name", UNYIELDED_CHECKS)
@pytest.mark.parametrize("estimator", [
    AutoencoderTransformer(n_components=2, **FAST),
    VAETransformer(n_components=2, **FAST),
    DenoisingAE(n_components=2, **FAST),
    DenoisingAE(n_components=2, output="reconstruction", **FAST),
    NoiseInjector(random_state=0),
], ids=lambda est: type(est).__name__ + getattr(est, "output", "").replace("latent", ""))
def test_checks_parametrize_with_checks_skips(estimator, check_name):
    if check_name == "check_get_feature_names_out_error" and isinstance(estimator,
                                                                         NoiseInjector):
        pytest.skip("stateless (requires_fit=False): names need no fit")
    getattr(estimator_checks, check_name)(type(estimator).__name__, estimator)
