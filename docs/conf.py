"""Sphinx configuration of the celu_numba docs.

Build: ``pip install -e ".[docs]"`` then ``bash .ci/docs`` (or just
``sphinx-build -W --keep-going -b html docs docs/_build/html``).

The API pages come from the docstrings (autodoc + numpydoc); the other pages are
Markdown (MyST), so the tables that ``benchmarks/ratios.py`` and
``benchmarks/gpu_check.py`` print paste in as they are.  Importing celu_numba compiles
nothing, and the build never calls a ufunc (``celu_docs`` fails the build if anything
tries to build one).
"""

import os
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path.insert(0, ROOT)  # document the checkout this file is in
sys.path.insert(0, os.path.join(DOCS, "_ext"))

import celu_numba  # noqa: E402

project = "celu_numba"
author = "the celu_numba developers"
copyright = "the celu_numba developers"
version = release = celu_numba.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "myst_parser",
    "celu_docs",  # docs/_ext/celu_docs.py: the CLI's --help pages, the no-compile guard
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
root_doc = "index"
nitpicky = False
# plain literal blocks are formulas and shell lines, not Python; ```python and >>> keep
# their highlighting
highlight_language = "none"

# MyST: anchors for headings, so that [text](page.md#a-heading) links are checked too
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# autodoc + numpydoc: the signature is the first line of each public docstring
autodoc_docstring_signature = True
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# With -W these fail the build: one of the six functions whose docstring lost its
# parameters, returns or examples.  The other objects are rendered, not validated
# (celu_numba.cuda's functions take the CPU functions' parameters, their page says so).
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR07", "RT01", "RT03", "EX01", "SS01"}
numpydoc_validation_exclude = {
    r"^(?!celu_numba\.(celu|celu_grad|celu_grad_alpha|celu_backward|celu_backward_from_output|celu_and_grads)$)"
}
# The parameters are positional-only: celu_backward_from_output calls its second one y
# where the object's signature (shared with celu_backward) says x.
numpydoc_validation_overrides = {
    "PR01": [r"^celu_backward_from_output\(grad_out, y,"],
    "PR02": [r"^celu_backward_from_output\(grad_out, y,"],
}

# linkcheck is run for the links inside the site only (.ci/docs): nothing external
linkcheck_ignore = [r"^https?://", r"^mailto:"]

html_theme = "alabaster"
html_title = f"celu_numba {release}"
html_theme_options = {
    "description": "CELU and its gradients as NumPy ufuncs, compiled with numba",
    "fixed_sidebar": True,
    "page_width": "1160px",
    "sidebar_width": "230px",
    "body_max_width": "none",
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_static_path = ["_static"]
html_css_files = ["celu.css"]
html_show_sourcelink = False
