"""Sphinx configuration for skae's documentation.

Build (warnings are errors, as in CI)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The examples gallery is NOT executed by this build (``plot_gallery =
"False"`` below): ``tests/test_examples.py`` already runs every example, and
running them again here would double CI's time. The gallery pages show the
code and text of each example. To render the figures too, run the examples
during the build (slow, minutes on 2 cores)::

    sphinx-build -b html -D plot_gallery=1 docs docs/_build/html
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the checkout even when not installed
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
# plot_gallery "False": the examples are not executed (the tests run them).
plot_gallery = "False"
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skae",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skae": None},
    "download_all_examples": False,
    "remove_config_comments": True,
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
html_static_path = []
