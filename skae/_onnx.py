"""ONNX export of skae's estimators, alone or inside scikit-learn pipelines.

Each exportable method of a fitted estimator is a small torch module built
from the estimator's trained modules (:data:`ONNX_ESTIMATORS` lists them), traced by
the TorchScript-based ``torch.onnx.export`` (``dynamo=False``: the
torch.export-based exporter needs onnxscript, which skae does not require)
with a dynamic batch axis. :func:`register_onnx_converters` teaches
skl2onnx each estimator: its shape calculator gives the output shape, and its
converter inlines the exported graph's nodes and initializers (renamed to be
unique) into the graph skl2onnx is building, so that ``skl2onnx.to_onnx``
converts a whole Pipeline mixing scikit-learn and skae steps.

The networks compute in float32. A float64 input (a pipeline converted from
float64 data) is cast to float32 in front of the network and the result cast
back, as skae's own ``transform`` does; :func:`to_onnx` converts with a
float32 input, so its graphs output float32.

Adding an estimator is one entry of :data:`ONNX_ESTIMATORS`: its kind
(``"transformer"``, ``"classifier"`` or ``"outlier"``, see :class:`OnnxEntry`)
and a function returning its exportable methods as torch modules. An
outlier detector on an autoencoder's reconstruction error, say, gives
``{"decision_function": (ReconstructionScore(reconstruct, offset_), n_features, 1)}``
with ``reconstruct`` taken from ``_autoencoder_methods(autoencoder_)``.
"""

import copy
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._io import atomic_write
from ._modules import apply_output_activation
from ._registry import ESTIMATORS
from ._validation import is_fitted

#: the highest opset torch's TorchScript-based exporter writes
TORCH_MAX_OPSET = 20
#: the opset of graphs exported from a single estimator (onnxruntime >= 1.16 runs it)
DEFAULT_OPSET = 18


def _require(extra_module):
    try:
        return __import__(extra_module)
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs {extra_module}, which is not installed; install skae's "
            "'onnx' extra: pip install 'skae[onnx]' (skl2onnx, onnx, onnxruntime)."
        ) from exc


# ------------------------------------------------------------------ torch modules
class Decode(nn.Module):
    """A decoder followed by the estimator's output activation: codes -> data."""

    def __init__(self, decoder, output_activation):
        super().__init__()
        self.decoder = decoder
        self.output_activation = output_activation

    def forward(self, z):
        return apply_output_activation(self.decoder(z), self.output_activation)


class Reconstruct(nn.Module):
    """Encoder then :class:`Decode`: data -> reconstructed (denoised) data."""

    def __init__(self, encoder, decode):
        super().__init__()
        self.encoder = encoder
        self.decode = decode

    def forward(self, x):
        return self.decode(self.encoder(x))


class Softmax(nn.Module):
    """A network of class logits followed by a softmax: data -> probabilities."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


class Identity(nn.Module):
    """The identity (``DenoisingAE(output="reconstruction").inverse_transform``)."""

    def forward(self, x):
        return x + 0.0  # an op, so that the graph's input and output differ


class ReconstructionScore(nn.Module):
    """Minus each row's mean squared reconstruction error, minus ``offset``.

    ``offset=0`` gives an autoencoder's ``score_samples``; an outlier
    detector's ``offset_`` gives its ``decision_function``. Shape ``(N, 1)``.
    """

    def __init__(self, reconstruct, offset=0.0):
        super().__init__()
        self.reconstruct = reconstruct
        self.offset = float(offset)

    def forward(self, x):
        diff = self.reconstruct(x) - x
        return -(diff * diff).mean(dim=1, keepdim=True) - self.offset


class FeatureLossScore(nn.Module):
    """An outlier detector's reconstruction score, minus ``offset``: minus the
    weighted mean over the features of each feature's loss, ``(N, 1)``.

    ``kind="bce"``: the Bernoulli KL of the logits' reconstruction
    (cross-entropy minus the entropy of x); ``"mse"``: the squared error of
    the output (after its activation). ``weights`` (one per feature, or
    None) are the ``"standardized"`` score's.
    """

    def __init__(self, encoder, decoder, kind, output_activation, weights=None, offset=0.0):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.kind = kind
        self.output_activation = output_activation
        self.register_buffer("weights", None if weights is None else
                             torch.as_tensor(weights, dtype=torch.float32))
        self.offset = float(offset)

    def forward(self, x):
        logits = self.decoder(self.encoder(x))
        if self.kind == "bce":
            tiny = torch.finfo(x.dtype).tiny
            entropy = -(x * torch.log(x.clamp(min=tiny))
                        + (1 - x) * torch.log((1 - x).clamp(min=tiny)))
            loss = nn.functional.softplus(logits) - x * logits - entropy
        else:
            diff = apply_output_activation(logits, self.output_activation) - x
            loss = diff * diff
        if self.weights is not None:
            loss = loss * self.weights
        return -loss.mean(dim=1, keepdim=True) - self.offset


#: the detector scores that export (those computed from one reconstruction)
DETECTOR_SCORES = ("reconstruction", "standardized", "mse")


def _detector_methods(est):
    """``decision_function`` and ``score_samples`` of an AutoencoderOutlierDetector."""
    if est.anomaly_score not in DETECTOR_SCORES:
        raise TypeError(f"AutoencoderOutlierDetector exports to ONNX with anomaly_score in "
                        f"{DETECTOR_SCORES}; got {est.anomaly_score!r}.")
    ae = est.autoencoder_
    kind = "mse" if est.anomaly_score == "mse" else ae.loss_
    weights = getattr(est, "feature_weights_", None) \
        if est.anomaly_score == "standardized" else None
    encoder = ae.encoder_
    n = est.n_features_in_
    return {method: (FeatureLossScore(encoder, ae.decoder_, kind, ae.output_activation_,
                                      weights, offset), n, 1)
            for method, offset in (("decision_function", est.offset_),
                                   ("score_samples", 0.0))}


def _autoencoder_methods(est):
    """``{method: (module, n_inputs, n_outputs)}`` of a fitted autoencoder."""
    decode = Decode(est.decoder_, est.output_activation_)
    methods = {
        "transform": (est.encoder_, est.n_features_in_, est.n_components),
        "inverse_transform": (decode, est.n_components, est.n_features_in_),
        "reconstruct": (Reconstruct(est.encoder_, decode), est.n_features_in_,
                        est.n_features_in_),
    }
    if getattr(est, "output", "latent") == "reconstruction":  # DenoisingAE
        methods["transform"] = methods["reconstruct"]
        methods["inverse_transform"] = (Identity(), est.n_features_in_, est.n_features_in_)
    if hasattr(est, "denoise"):
        methods["denoise"] = methods["reconstruct"]
    return methods


def _classifier_methods(est):
    return {"predict_proba": (Softmax(est.net_.module_), est.n_features_in_,
                              len(est.classes_))}


@dataclass(frozen=True)
class OnnxEntry:
    """How one estimator class exports.

    ``kind`` says what a Pipeline step of it outputs in ONNX: a
    ``"transformer"`` its ``transform``, a ``"classifier"`` a label and the
    probabilities of its ``predict_proba`` (as scikit-learn classifiers do
    in skl2onnx), an ``"outlier"`` detector a label (1 inlier, -1 outlier:
    ``decision_function >= 0``) and the scores of its
    ``decision_function``, of shape ``(N, 1)`` (as skl2onnx converts
    ``IsolationForest``). ``methods(est)`` returns ``{method: (torch
    module, n_inputs, n_outputs)}`` for a fitted estimator; it includes the
    kind's method (:data:`STEP_METHOD`).
    """

    kind: str
    methods: Callable


#: every estimator class that exports to ONNX, by class name (NoiseInjector
#: does not: its output is random)
ONNX_ESTIMATORS = {
    "AutoencoderTransformer": OnnxEntry("transformer", _autoencoder_methods),
    "DenoisingAE": OnnxEntry("transformer", _autoencoder_methods),
    "VAETransformer": OnnxEntry("transformer", _autoencoder_methods),
    "EncoderClassifier": OnnxEntry("classifier", _classifier_methods),
    "AutoencoderOutlierDetector": OnnxEntry("outlier", _detector_methods),
}

#: the method a Pipeline step of each kind runs
STEP_METHOD = {"transformer": "transform", "classifier": "predict_proba",
               "outlier": "decision_function"}


def _entry(est):
    name = type(est).__name__
    if ESTIMATORS.get(name) is not type(est) or name not in ONNX_ESTIMATORS:
        raise TypeError(f"{name} has no ONNX export; these do: {sorted(ONNX_ESTIMATORS)}.")
    if not is_fitted(est):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {name} instance is not fitted yet; fit it before "
                             "exporting it to ONNX.")
    return ONNX_ESTIMATORS[name]


def export_method(est, method, opset=DEFAULT_OPSET):
    """The ONNX model (``onnx.ModelProto``) of one method of a fitted estimator.

    Input ``"X"`` and output ``"Y"``, float32, of shape ``(N, n_inputs)`` and
    ``(N, n_outputs)`` with a dynamic batch size ``N``.
    """
    onnx = _require("onnx")
    methods = _entry(est).methods(est)
    if method not in methods:
        raise ValueError(f"{type(est).__name__} exports {sorted(methods)} to ONNX, "
                         f"not {method!r}.")
    module, n_in, _ = methods[method]
    # a CPU float32 copy in eval mode: the fitted estimator is left as it is
    module = copy.deepcopy(module).to("cpu", torch.float32).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter is "legacy" in torch >= 2.9
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(2, n_in),), buffer, dynamo=False,
                          input_names=["X"], output_names=["Y"],
                          dynamic_axes={"X": {0: "N"}, "Y": {0: "N"}},
                          opset_version=min(int(opset), TORCH_MAX_OPSET),
                          do_constant_folding=True)
    model = onnx.load_from_string(buffer.getvalue())
    model.producer_name = "skae"
    model.doc_string = f"{type(est).__name__}.{method}"
    return model


# ------------------------------------------------------------------ skl2onnx
def _shape_calculator(operator):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, Int64TensorType
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    est = operator.raw_operator
    entry = _entry(est)
    in_type = operator.inputs[0].type
    if not isinstance(in_type, (FloatTensorType, DoubleTensorType)):
        raise TypeError(f"{type(est).__name__} converts float or double inputs, not "
                        f"{type(in_type).__name__}.")
    n_rows = in_type.shape[0] if in_type.shape else None
    if entry.kind == "classifier":
        calculate_linear_classifier_output_shapes(operator)
        return
    n_out = entry.methods(est)[STEP_METHOD[entry.kind]][2]
    if entry.kind == "outlier":
        operator.outputs[0].type = Int64TensorType([n_rows])
    operator.outputs[-1].type = type(in_type)([n_rows, n_out])


def _outlier_parser(scope, model, inputs, custom_parsers=None):
    """An outlier detector's step: outputs ``label`` and ``scores`` (skl2onnx
    declares these for its own detectors only)."""
    from skl2onnx._supported_operators import get_model_alias
    from skl2onnx.common.data_types import Int64TensorType, guess_tensor_type

    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    operator.outputs.append(scope.declare_local_variable("label", Int64TensorType()))
    operator.outputs.append(scope.declare_local_variable(
        "scores", guess_tensor_type(inputs[0].type)))
    return operator.outputs


def _inline(scope, container, model, x_name, y_name):
    """Copy ``model``'s graph (one input, one output) into the container, renamed.

    Each node declares the opset the graph was exported at, so the converted
    model's opset is at least that one.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    opset = {o.domain: o.version for o in model.opset_import}
    names = {graph.input[0].name: x_name, graph.output[0].name: y_name, "": ""}

    def rename(name):
        if name not in names:
            names[name] = scope.get_unique_variable_name(f"skae_{name.strip('/.') or 't'}")
        return names[name]

    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        container.add_initializer(rename(init.name), init.data_type, list(array.shape),
                                  array.ravel().tolist() if array.dtype == object
                                  else array.ravel())
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(node.op_type, [rename(n) for n in node.input],
                           [rename(n) for n in node.output], op_domain=node.domain,
                           op_version=opset.get(node.domain),
                           name=scope.get_unique_operator_name(f"skae_{node.op_type}"),
                           **attrs)


def _converter(scope, operator, container):
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    est = operator.raw_operator
    entry = _entry(est)
    method = STEP_METHOD[entry.kind]
    model = export_method(est, method, opset=container.target_opset)
    x = operator.inputs[0].full_name
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    if double:  # the network computes in float32
        x32 = scope.get_unique_variable_name("skae_x32")
        container.add_node("Cast", [x], [x32], to=TensorProto.FLOAT,
                           name=scope.get_unique_operator_name("skae_Cast"))
        x = x32
    out = operator.outputs[-1].full_name  # the output, probabilities or scores
    y = scope.get_unique_variable_name("skae_y32") if double else out
    _inline(scope, container, model, x, y)
    if double:
        container.add_node("Cast", [y], [out], to=TensorProto.DOUBLE,
                           name=scope.get_unique_operator_name("skae_Cast"))
    if entry.kind == "classifier":  # label = classes_[argmax(probabilities)]
        index = scope.get_unique_variable_name("skae_argmax")
        container.add_node("ArgMax", [out], [index], axis=1, keepdims=0,
                           name=scope.get_unique_operator_name("skae_ArgMax"))
        classes = np.asarray(est.classes_)
        if container.get_options(est, dict(nocl=False))["nocl"]:
            classes = np.arange(len(classes))  # skl2onnx's nocl: class indices as labels
        name = scope.get_unique_variable_name("skae_classes")
        if classes.dtype.kind in "iub":
            container.add_initializer(name, TensorProto.INT64, [len(classes)],
                                      classes.astype(np.int64))
        else:
            container.add_initializer(name, TensorProto.STRING, [len(classes)],
                                      [str(c).encode() for c in classes])
        container.add_node("Gather", [name, index], [operator.outputs[0].full_name], axis=0,
                           name=scope.get_unique_operator_name("skae_Gather"))
    if entry.kind == "outlier":  # label = 1 where decision_function >= 0, else -1
        _outlier_label(scope, container, out, operator.outputs[0].full_name, double)


def _outlier_label(scope, container, scores, label, double):
    from onnx import TensorProto

    def const(value, dtype, onnx_type):
        name = scope.get_unique_variable_name("skae_const")
        array = np.asarray(value, dtype)
        container.add_initializer(name, onnx_type, list(array.shape), array.ravel())
        return name

    def node(op, inputs, **attrs):
        out = scope.get_unique_variable_name(f"skae_{op.lower()}")
        container.add_node(op, inputs, [out], name=scope.get_unique_operator_name(
            f"skae_{op}"), **attrs)
        return out

    zero = const(0.0, np.float64 if double else np.float32,
                 TensorProto.DOUBLE if double else TensorProto.FLOAT)
    inlier = node("GreaterOrEqual", [scores, zero])
    flat = node("Reshape", [inlier, const([-1], np.int64, TensorProto.INT64)])
    container.add_node("Where", [flat, const(1, np.int64, TensorProto.INT64),
                                 const(-1, np.int64, TensorProto.INT64)], [label],
                       name=scope.get_unique_operator_name("skae_Where"))


def register_onnx_converters():
    """Register skae's estimators with skl2onnx.

    After this call, ``skl2onnx.to_onnx`` (and ``convert_sklearn``) converts
    pipelines, column transformers and other scikit-learn compositions that
    contain fitted skae estimators: an autoencoder step outputs its
    ``transform`` (the latent codes, or the denoised X for a
    ``DenoisingAE(output="reconstruction")``), an
    :class:`~skae.EncoderClassifier` a label and the class probabilities as
    scikit-learn classifiers do (with skl2onnx's ``zipmap`` option). The
    networks compute in float32. :func:`skae.to_onnx` calls this itself;
    calling it again does nothing new.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (skae's ``onnx`` extra).

    Examples
    --------
    >>> import skae
    >>> skae.register_onnx_converters()
    """
    skl2onnx = _require("skl2onnx")
    for name, entry in ONNX_ESTIMATORS.items():
        options = {"zipmap": [True, False, "columns"], "nocl": [False, True]} \
            if entry.kind == "classifier" else None
        skl2onnx.update_registered_converter(
            ESTIMATORS[name], f"Skae{name}", _shape_calculator, _converter, overwrite=True,
            options=options, parser=_outlier_parser if entry.kind == "outlier" else None)


def to_onnx(model, X=None, *, method=None, target_opset=None, options=None, path=None):
    """Convert a fitted skae estimator, or a pipeline holding one, to ONNX.

    A skae estimator exports one method: its graph has the input ``"X"``
    and the output ``"Y"``. Any other scikit-learn object (a
    :class:`~sklearn.pipeline.Pipeline`, a
    :class:`~sklearn.compose.ColumnTransformer`, ...) is converted by
    ``skl2onnx.to_onnx`` with skae's converters registered
    (:func:`register_onnx_converters`); its inputs and outputs are named by
    skl2onnx (``"X"``; ``"variable"``, or ``"label"`` and
    ``"probabilities"`` for a classifier). Either way the batch size is
    dynamic and the graph computes and outputs float32 (the networks compute
    in float32).

    Parameters
    ----------
    model : fitted estimator
        A fitted :class:`~skae.AutoencoderTransformer`,
        :class:`~skae.DenoisingAE`, :class:`~skae.VAETransformer` or
        :class:`~skae.EncoderClassifier`, or a fitted scikit-learn object
        made of estimators skl2onnx converts and skae estimators.
    X : array-like of shape (n_samples, n_features), default=None
        A few rows of the input (``X[:1]`` is enough): they set the input's
        name, type (cast to float32) and width for skl2onnx. Needed for
        anything but a skae estimator.
    method : str, default=None
        The method of a skae estimator to export: ``"transform"`` (the
        default of the autoencoders), ``"inverse_transform"``,
        ``"reconstruct"``, ``"denoise"`` (:class:`~skae.DenoisingAE`) or
        ``"predict_proba"`` (the default, and only method, of
        :class:`~skae.EncoderClassifier`). Only for a skae estimator.
    target_opset : int, default=None
        The ONNX opset: for a skae estimator at most 20 (default 18); for
        other objects skl2onnx's default when None.
    options : dict, default=None
        The conversion options of skl2onnx, keyed by an estimator's ``id``
        or class; ``{"zipmap": False}`` alone applies to every classifier
        inside ``model`` (probabilities as a tensor instead of a list of
        dicts). Only for objects other than a skae estimator.
    path : str or path-like, default=None
        When given, the model is also written there (atomically).

    Returns
    -------
    onnx_model : onnx.ModelProto
        Run it with ``onnxruntime.InferenceSession(onnx_model.SerializeToString())``.

    Raises
    ------
    ImportError
        If onnx or skl2onnx is not installed (skae's ``onnx`` extra).
    TypeError
        If a skae estimator has no ONNX export (:class:`~skae.NoiseInjector`).
    sklearn.exceptions.NotFittedError
        If a skae estimator is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> import skae
    >>> from skae.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> pipe = make_pipeline(skae.AutoencoderTransformer(n_components=8, max_epochs=2,
    ...                                                  random_state=0),
    ...                      LogisticRegression(max_iter=300)).fit(X, y)
    >>> onx = skae.to_onnx(pipe, X[:1], options={"zipmap": False})
    >>> session = ort.InferenceSession(onx.SerializeToString())
    >>> label, proba = session.run(None, {"X": X[:5].astype(np.float32)})
    >>> bool((label == pipe.predict(X[:5])).all())
    True
    >>> bool(np.allclose(proba, pipe.predict_proba(X[:5]), atol=1e-5))
    True
    """
    if type(model).__name__ in ESTIMATORS and ESTIMATORS[type(model).__name__] is type(model):
        if options is not None:
            raise ValueError("options are skl2onnx's; a skae estimator takes none.")
        entry = _entry(model)
        method = STEP_METHOD[entry.kind] if method is None else method
        onnx_model = export_method(model, method,
                                   DEFAULT_OPSET if target_opset is None else target_opset)
    else:
        if method is not None:
            raise ValueError("method applies to a skae estimator only; a "
                             f"{type(model).__name__} is converted as skl2onnx does.")
        if X is None:
            raise ValueError(f"converting a {type(model).__name__} needs X (e.g. X[:1]), "
                             "which gives the input's width.")
        _require("onnx")
        skl2onnx = _require("skl2onnx")
        register_onnx_converters()
        if isinstance(options, dict) and set(options) <= {"zipmap"}:
            options = {cls: options for cls in _classifier_types(model)}
        X = _float32_rows(X)
        onnx_model = skl2onnx.to_onnx(model, X, target_opset=target_opset, options=options)
    if path is not None:
        data = onnx_model.SerializeToString()
        atomic_write(path, lambda f: f.write(data))
    return onnx_model


def _float32_rows(X):
    if hasattr(X, "iloc") or hasattr(X, "columns"):  # a DataFrame: skl2onnx reads its columns
        return X
    return np.asarray(X, dtype=np.float32)


def _classifier_types(model):
    """The classes of the classifiers in ``model``, for a global ``zipmap`` option."""
    from sklearn.base import BaseEstimator, is_classifier

    parts = [model, *model.get_params(deep=True).values()] if hasattr(model, "get_params") \
        else [model]
    return {type(p) for p in parts if isinstance(p, BaseEstimator) and is_classifier(p)}


__all__ = ["register_onnx_converters", "to_onnx", "export_method", "ONNX_ESTIMATORS"]
