"""Sphinx configuration for skae's documentation.

Build (warnings are errors, as in CI)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The build runs every example of the gallery (``examples/plot_*.py``, on the
bundled digits: no download) and shows its printed tables and figures; each
example page opens with the one-line answer that the example printed
(``docs/_ext/skae_gallery.py``). sphinx-gallery reruns only the examples
that changed since the last build. To build the pages without running the
examples (code and text only, seconds), or with the examples' quick mode::

    sphinx-build -b html -D plot_gallery=0 docs docs/_build/html
    SKAE_EXAMPLES_QUICK=1 sphinx-build -b html docs docs/_build/html
"""

import importlib.util
import os
import sys
from pathlib import Path

from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the checkout even when not installed
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # skae_gallery
os.environ.setdefault("MPLBACKEND", "Agg")

import skae  # noqa: E402

project = "skae"
author = "skae developers"
copyright = "skae developers"
version = release = skae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # docs/benchmarks.md
    "skae_gallery",  # each example page opens with the answer its run printed
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "py:obj"  # `name` in docstrings links to the object when it can

# -- API reference: autosummary + numpydoc -----------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc docstrings already give the types
autodoc_default_options = {"members": True}
# A class page shows the methods its skae bases define (an autoencoder's fit,
# transform, ... live in the private skae._base.BaseAutoencoder), not those of
# scikit-learn's bases: docs/_templates/autosummary/class.rst lists those bases
# under :inherited-members:, whose members are left out.
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False

# -- Examples gallery -----------------------------------------------------------
# The examples run during the build (plot_gallery "True"; ``-D plot_gallery=0``
# skips them), each with the default arguments: the bundled digits (no
# download), the full study (not the tests' quick mode), on one torch thread
# (docs/_ext/skae_gallery.py says why). The figures are captured on the Agg
# backend; each example picks its thumbnail (``# sphinx_gallery_thumbnail_number``).
# $SKAE_EXAMPLES_QUICK=1 runs the examples' quick mode instead (as the tests do).
# An example that raises fails the build (only_warn_on_example_error is False).
plot_gallery = "True"
execute = r"/plot_"
if importlib.util.find_spec("optuna") is None:  # the docs extra installs it
    execute = r"/plot_(?!optuna_search)"
    logging.getLogger(__name__).warning(
        "optuna is not installed: the Optuna example is shown without running it "
        "(pip install -e '.[docs]')")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": execute,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skae",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skae": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    # a fresh matplotlib state and one torch thread for each example
    "reset_modules": ("matplotlib", "skae_gallery.one_torch_thread"),
    "capture_repr": (),  # printed output only, not the repr of a cell's last line
    "matplotlib_animations": False,
    "min_reported_time": 0,  # every page says how long its run took
    "show_memory": False,
}

# -- Markdown (myst-parser) ---------------------------------------------------
myst_heading_anchors = 3

# -- HTML -----------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skae {release}"
html_theme_options = {
    "description": "Autoencoders as scikit-learn estimators",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_static_path = ["_static"]
html_css_files = ["skae.css"]  # the answer box of the example pages
