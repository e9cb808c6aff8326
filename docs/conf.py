"""Sphinx configuration of the bellmodels documentation.

Build (no network, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Every number on these pages is written by a script in the repository into ``docs/generated/``
(see ``docs/README.md``); the pages include those files with the ``generated`` directive of
``docs/_ext/bmdocs.py``, which says so on the page when a file has not been generated yet.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))

import bellmodels  # noqa: E402

project = "bellmodels"
author = "bellmodels contributors"
copyright = "2026, bellmodels contributors"
version = release = bellmodels.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "bmdocs",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "generated", "scripts", "_ext", "**/*.py"]

# MyST: substitutions carry the numbers computed by docs/scripts/concepts_numbers.py
myst_enable_extensions = ["substitution", "colon_fence", "deflist"]
myst_heading_anchors = 3
_numbers = DOCS / "generated" / "numbers.json"
myst_substitutions = (
    {k: str(v) for k, v in json.loads(_numbers.read_text()).items()} if _numbers.exists() else {}
)

# API reference from the numpy-style docstrings (napoleon: part of Sphinx, no extra dependency)
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# No network, ever: no intersphinx, no remote fonts or scripts. Math is rendered as its source
# (bmdocs registers a local "plain" renderer instead of MathJax, which loads from a CDN).
html_math_renderer = "plain"
html_theme = "alabaster"
html_theme_options = {
    "description": "Fit, compare and audit hidden-variable models of Bell/EPR correlations",
    "fixed_sidebar": True,
}
html_title = "bellmodels"
html_static_path: list[str] = []
html_copy_source = False
suppress_warnings: list[str] = []
nitpicky = False
