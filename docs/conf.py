"""Sphinx configuration of the bellmodels documentation.

Build (no network, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Every number on these pages is written by a script in the repository into ``docs/generated/``
(see ``docs/README.md``); the pages include those files with the ``generated`` directive of
``docs/_ext/bmdocs.py``, which says so on the page when a file has not been generated yet.
"""

from __future__ import annotations

import json
import os
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
    "myst_nb",  # MyST Markdown pages and MyST notebooks (it loads myst_parser itself)
    "sphinx_design",  # the gallery's grid of cards, dropdowns
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "bmdocs",
]

source_suffix = {".md": "myst-nb", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "README.md",
    "generated",
    "scripts",
    "_ext",
    "_templates",
    "**/*.py",
    "**/*.ipynb",
]
templates_path = ["_templates"]

# MyST: substitutions carry the numbers computed by docs/scripts/concepts_numbers.py
myst_enable_extensions = ["substitution", "colon_fence", "deflist"]
myst_heading_anchors = 3
_numbers = DOCS / "generated" / "numbers.json"
myst_substitutions = (
    {k: str(v) for k, v in json.loads(_numbers.read_text()).items()} if _numbers.exists() else {}
)

# Notebooks (MyST-NB): a page whose front matter says `file_format: mystnb` is a notebook in
# text form (docs/README.md, "Notebooks"). Its code cells run in the page's own directory, so a
# demonstration imports the script beside it. BELLMODELS_DOCS_EXECUTE chooses what runs:
#   cache (default)  the quick notebooks run once, their outputs cached in _build/.jupyter_cache;
#                    the ones in SLOW_NOTEBOOKS (minutes of PyMC sampling each) show their code
#                    without outputs
#   all              every notebook runs again, the slow ones included (the slow test does this)
#   off              nothing runs (the fast tests: the pages, not the computations)
# An error in a cell fails the build.
SLOW_NOTEBOOKS = [
    "demos/equivalence.md",
    "demos/fair_sampling.md",
    "demos/evidence_vs_n.md",
    "demos/hidden_units.md",
    "tutorials/comparison.md",
]
_execute = os.environ.get("BELLMODELS_DOCS_EXECUTE", "cache")
if _execute not in {"cache", "all", "off"}:
    raise ValueError(f"BELLMODELS_DOCS_EXECUTE={_execute!r}: expected cache, all or off")
nb_execution_mode = {"cache": "cache", "all": "force", "off": "off"}[_execute]
nb_execution_excludepatterns = SLOW_NOTEBOOKS if _execute == "cache" else []
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 3600  # seconds per cell: a slow demo runs its whole script in one
nb_merge_streams = True
nb_render_markdown_format = "myst"  # a cell's Markdown output (the demos' tables) as MyST
nb_ipywidgets_js: dict[str, dict[str, str]] = {}  # never load widget scripts from a CDN

# API reference from the numpy-style docstrings (napoleon: part of Sphinx, no extra dependency)
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autosummary_generate = False  # summary tables only; the objects are documented by automodule
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# No network, ever: no intersphinx, no remote fonts or scripts. Math is rendered as its source
# (bmdocs registers a local "plain" renderer instead of MathJax, which loads from a CDN).
html_math_renderer = "plain"
# pydata-sphinx-theme (as PyMC and ArviZ use): its fonts and icons ship with it, nothing is loaded
# from the network. The article spans the page (bellmodels.css) so figures render wide; the
# right-hand sidebar carries the page's contents and, on a notebook page, its downloads.
html_theme = "pydata_sphinx_theme"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "notebook-download"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# the demonstrations and notebooks use the whole width (no section navigation on the left)
html_sidebars = {"demos/**": [], "tutorials/**": []}
html_title = "bellmodels"
html_static_path = ["_static"]
html_css_files = ["bellmodels.css"]
html_copy_source = False
suppress_warnings: list[str] = []
nitpicky = False
