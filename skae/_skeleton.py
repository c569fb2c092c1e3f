"""scikit-learn objects that hold skae estimators, split for safe persistence.

:func:`skae.save` writes a :class:`~sklearn.pipeline.Pipeline` (or any
scikit-learn object: a ``ColumnTransformer``, a fitted ``GridSearchCV``, ...)
that contains skae estimators in two parts: the *skeleton*, a copy of the
object in which every skae estimator is replaced by a :class:`SkaeStep`
placeholder, persisted with skops (:mod:`skops.io`, the ecosystem's format
that loads without pickle), and the skae estimators themselves in skae's own
format (JSON parameters and tensors). :func:`split` and :func:`join` do the
replacing both ways with ``copy.deepcopy``'s memo, so a skae estimator that
appears in several places (a pipeline's ``steps`` and a search's
``best_estimator_``) is one object again after loading.
"""

import copy

import numpy as np

from ._registry import ESTIMATORS

#: the placeholder's type name, as skops reports it (trusted by skae.load)
STEP_TYPE = f"{__name__}.SkaeStep"


class SkaeStep:
    """Stands for the skae estimator number ``index`` in a saved skeleton."""

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"SkaeStep({self.index})"


def _is_skae(obj):
    return ESTIMATORS.get(type(obj).__name__) is type(obj)


def _walk(obj, visit, seen):
    """Call ``visit`` on every object reachable from ``obj`` through
    attributes, lists, tuples, sets, dicts and object arrays; ``visit``
    returns True to stop the walk below an object."""
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type(None))):
        return
    seen.add(id(obj))
    if visit(obj):
        return
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = obj
    elif isinstance(obj, np.ndarray):
        children = obj.ravel().tolist() if obj.dtype == object else ()
    elif isinstance(obj, type):
        children = ()
    else:
        children = list(getattr(obj, "__dict__", {}).values())
    for child in children:
        _walk(child, visit, seen)


def split(obj):
    """``(skeleton, estimators)``: ``obj`` with each skae estimator replaced.

    ``obj`` is left untouched; ``estimators[i]`` is the skae estimator that
    ``SkaeStep(i)`` stands for in the skeleton.
    """
    estimators = []

    def visit(item):
        if _is_skae(item):
            estimators.append(item)
            return True
        return False

    _walk(obj, visit, set())
    memo = {id(est): SkaeStep(i) for i, est in enumerate(estimators)}
    memo[id(memo)] = [obj, estimators]  # keep them alive, as deepcopy's own memo does
    skeleton = copy.deepcopy(obj, memo)
    copies = {}  # id of a copy deepcopy made instead of the placeholder -> placeholder

    def placeholder(item):
        if not _is_skae(item):
            return None
        if id(item) not in copies:
            copies[id(item)] = SkaeStep(len(estimators))
            estimators.append(item)
        return copies[id(item)]

    _replace_in_arrays(skeleton, placeholder, stop=_is_skae)
    return skeleton, estimators


def _replace_in_arrays(root, replacement, stop):
    """Replace in place each element ``x`` of the object arrays below ``root``
    for which ``replacement(x)`` is not None.

    ``copy.deepcopy`` of a numpy masked array (``GridSearchCV.cv_results_``'s
    ``param_*`` columns) copies its objects without the memo, so the
    replacements :func:`split` and :func:`join` ask of it do not happen
    there; this finishes them.
    """
    def visit(item):
        if stop(item):
            return True
        if isinstance(item, np.ndarray) and item.dtype == object:
            data = np.ma.getdata(item)
            for i, element in enumerate(data.flat):
                new = replacement(element)
                if new is not None:
                    data.flat[i] = new
        return False

    _walk(root, visit, set())


def placeholders(skeleton):
    """The :class:`SkaeStep` objects of a loaded skeleton."""
    found = []

    def visit(item):
        if isinstance(item, SkaeStep):
            found.append(item)
            return True
        return False

    _walk(skeleton, visit, set())
    return found


def join(skeleton, estimators):
    """The skeleton with each ``SkaeStep(i)`` replaced by ``estimators[i]``."""
    steps = placeholders(skeleton)
    if any(not isinstance(s.index, int) or not 0 <= s.index < len(estimators)
           for s in steps):
        raise ValueError(f"a placeholder of the skeleton names no saved skae estimator "
                         f"({len(estimators)} saved): {steps}")
    memo = {id(s): estimators[s.index] for s in steps}
    memo[id(memo)] = [skeleton, steps, estimators]
    obj = copy.deepcopy(skeleton, memo)
    _replace_in_arrays(obj, lambda x: estimators[x.index] if isinstance(x, SkaeStep) else None,
                       stop=_is_skae)
    return obj


def skops_io():
    """:mod:`skops.io`, or an ImportError naming skae's extra."""
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "saving or loading a scikit-learn object that is not a skae estimator (a "
            "Pipeline, ...) needs skops, which is not installed; install skae's 'skops' "
            "extra: pip install 'skae[skops]'.") from exc
    return skops.io
