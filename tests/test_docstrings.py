"""numpydoc validation of every public docstring.

Validated: each public class and function of the public modules (``skae``,
``skae.datasets``, ``skae.evaluation``, ``skae.plotting`` and ``skae.cli``,
by their ``__all__``), and each public method and property of those classes
that skae defines (methods inherited from scikit-learn, torch or builtins are
theirs to document). A docstring is read as users see it, after
:func:`skae._docs.fill_doc` has put the shared parameter entries in.

Every check of :data:`numpydoc.validate.ERROR_MSGS` is applied (so a check
that a later numpydoc adds is applied too) except these, left out on purpose:

* ``ES01`` (no extended summary): a method such as ``predict`` or
  ``transform`` says all it does in its summary line; the classes and the
  main functions have extended summaries where there is more to say.
* ``SA01`` (no See Also section): See Also is written where there is a real
  neighbour to point to (the estimators point to each other and to their
  scikit-learn counterparts); requiring one on every method would fill the
  pages with filler references.
* ``EX01`` (no Examples section): the estimators, the save/load pair and the
  main functions carry examples, which run as doctests; the user guide and
  the gallery show the rest. A method's use is shown in its class's example.
* ``RT02`` (the first line of Returns should hold only the type): skae
  names what it returns (``self : object``, ``Z : ndarray of shape ...``),
  as numpydoc's own format and scikit-learn do, so that the text can refer
  to it by name.
* ``SS05`` (summary must start with an infinitive verb, not a third-person
  one): its heuristic flags any first word ending in "s", and many skae
  summaries are noun phrases that describe what is returned ("Rows of
  images: ...", "Minus each sample's mean squared reconstruction error.").
  Summaries that are sentences use the imperative already.

What the kept checks guarantee includes: every parameter documented, with a
type and a description, in the signature's order and no unknown ones
(PR01-PR10); a Returns section for what returns (RT01) whose value is
described (RT03-RT05); a one-line summary, capitalised and ending with a
period (SS01-SS04, SS06); only numpydoc's sections, in numpydoc's order
(GL06, GL07); See Also entries described (SA02-SA04).
"""

import importlib
import inspect

import numpydoc.validate as numpydoc_validate
import pytest

PUBLIC_MODULES = ("skae", "skae.datasets", "skae.evaluation", "skae.plotting", "skae.cli")

IGNORED = {"ES01", "SA01", "EX01", "RT02", "SS05"}
CHECKED = sorted(set(numpydoc_validate.ERROR_MSGS) - IGNORED)

def _defined_in_skae(obj):
    obj = obj.fget if isinstance(obj, property) else obj
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "skae"


def _public_members(cls):
    """Public methods and properties of ``cls`` that a skae class defines."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        member = vars(owner)[name]
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if (inspect.isfunction(member) or isinstance(member, property)) \
                and _defined_in_skae(member):
            yield name, member


def _public_objects():
    """``{import path: object}``, each object once, under its first public path."""
    seen, paths = set(), {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants and the version string
            found = [(f"{module_name}.{name}", obj)]
            if inspect.isclass(obj):
                found += [(f"{module_name}.{name}.{m}", member)
                          for m, member in _public_members(obj)]
            for path, member in found:
                if id(member) not in seen:
                    seen.add(id(member))
                    paths[path] = member
    return paths


OBJECTS = sorted(_public_objects())


def test_the_public_surface_is_covered():
    for path in ("skae.AutoencoderTransformer.fit", "skae.DenoisingAE.get_feature_names_out",
                 "skae.VAETransformer.sample", "skae.EncoderClassifier.predict_proba",
                 "skae.NoiseInjector.transform", "skae.save", "skae.load",
                 "skae.datasets.load_digits", "skae.evaluation.RobustnessReport.records",
                 "skae.plotting.plot_history", "skae.cli.main"):
        assert path in OBJECTS


@pytest.mark.parametrize("path", OBJECTS)
def test_docstring(path):
    errors = [(code, message) for code, message in numpydoc_validate.validate(path)["errors"]
              if code in CHECKED]
    assert not errors, f"{path}:\n" + "\n".join(f"{c}: {m}" for c, m in errors)
