"""Local Sphinx extension of the bellmodels docs (no network, no third-party code).

- ``generated`` directive: include a file written by a script into ``docs/generated/``
  (Markdown is parsed as MyST, ``.png`` becomes a figure). When the file does not exist the
  page says so and shows the command that writes it, instead of failing the build::

      ```{generated} rbm_training_benchmark.md
      :command: python benchmarks/rbm_training.py
      ```

- ``modsummary`` directive (inside ``{eval-rst}``, before the module's ``automodule``): an
  autosummary table of the module's public members, the ones ``automodule :members:`` documents
  (``__all__``, or the functions and classes the module defines), so a new function gets its
  row without editing the page::

      .. modsummary:: bellmodels.behaviour

- notebook downloads: a MyST notebook page (front matter ``file_format: mystnb``) offers its
  executed notebook (``.ipynb``, as MyST-NB wrote it) and, for a demonstration, the script beside
  it (``.py``) in the right-hand sidebar (template ``_templates/notebook-download.html``).
- ``plain`` math renderer: math is shown as its source in ``<code>``; the default MathJax
  renderer would load JavaScript from a CDN, and the docs must work offline.
"""

from __future__ import annotations

import importlib
import inspect
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def demote_headings(lines: list[str]) -> list[str]:
    """Markdown headings of an included file become bold paragraphs (outside code fences).

    A generated file is a fragment of the page that includes it; its own ``# Title`` would
    otherwise start a new section in the middle of the page's structure.
    """
    out, fenced = [], False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        m = None if fenced else _HEADING.match(line)
        out.append(f"**{m.group(2)}**" if m else line)
    return out


class GeneratedDirective(SphinxDirective):
    """Include ``docs/generated/<name>``, or a note naming the command that generates it."""

    required_arguments = 1
    has_content = True
    option_spec = {  # noqa: RUF012
        "command": directives.unchanged_required,
        "caption": directives.unchanged,
        "width": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        path = Path(self.env.srcdir) / "generated" / name
        command = self.options.get("command", "")
        if not path.exists():
            text = (
                f"**Not generated yet in this checkout:** `generated/{name}` does not exist. "
                f"It is written by\n\n```console\n$ {command}\n```\n"
            )
            container = nodes.admonition(classes=["note"])
            container += nodes.title(text="Not generated yet")
            self.state.nested_parse(StringList(text.splitlines()), self.content_offset, container)
            return [container]
        self.env.note_dependency(str(path))
        out: list[nodes.Node] = []
        if path.suffix.lower() in {".png", ".svg"}:
            figure = nodes.figure()
            image = nodes.image(uri=f"/generated/{name}", alt=self.options.get("caption", name))
            if "width" in self.options:
                image["width"] = self.options["width"]
            figure += image
            if "caption" in self.options:
                figure += nodes.caption(text=self.options["caption"])
            out.append(figure)
        else:
            container = nodes.container(classes=["generated"])
            lines = demote_headings(path.read_text(encoding="utf-8").splitlines())
            self.state.nested_parse(StringList(lines, source=str(path)), 0, container)
            out.extend(container.children)
        if command:
            para = nodes.paragraph(classes=["regenerate"])
            para += nodes.emphasis(text="Regenerate: ")
            para += nodes.literal(text=command)
            out.append(para)
        return out


_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")


def escape_bars(lines: list[str]) -> None:
    """Escape ``|`` in docstring prose, in place.

    The package's docstrings write absolute values and norms as ``|S|`` (plain-text maths);
    reStructuredText would read those as substitution references and fail the ``-W`` build.
    Doctest lines, literal blocks (after ``::``) and backquoted spans are left alone.
    """
    literal_indent: int | None = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if stripped.startswith((">>>", "...")) or "|" not in line:
            if stripped.endswith("::"):
                literal_indent = indent
            continue
        parts = _LITERAL.split(line)
        lines[i] = "".join(
            p if j % 2 else p.replace("\\|", "\x00").replace("|", "\\|").replace("\x00", "\\|")
            for j, p in enumerate(parts)
        )
        if stripped.endswith("::"):
            literal_indent = indent


_DOUBLE_LITERAL = re.compile(r"``.*?``")


def guard_summary_periods(lines: list[str]) -> None:
    """In the first paragraph, ``". "`` inside a double-backquoted literal becomes ``".\u200b "``.

    autosummary cuts a docstring's summary at the first period followed by a space; inside a
    literal such as ``sgn(a . lambda)`` that cut leaves an unterminated literal and a warning. A
    zero-width space after the period is invisible and is not a space to that cut.
    """
    for i, line in enumerate(lines):
        if not line.strip():
            break
        lines[i] = _DOUBLE_LITERAL.sub(lambda m: m.group(0).replace(". ", ".\u200b "), line)


def _process_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    escape_bars(lines)
    guard_summary_periods(lines)


def _inline_visit(self: Any, node: nodes.Element) -> None:
    self.body.append(self.starttag(node, "code", "", CLASS="math"))
    self.body.append(self.encode(node.astext()))
    self.body.append("</code>")
    raise nodes.SkipNode


def _block_visit(self: Any, node: nodes.Element) -> None:
    self.body.append(self.starttag(node, "pre", "", CLASS="math"))
    self.body.append(self.encode(node.astext()))
    self.body.append("</pre>\n")
    raise nodes.SkipNode


def public_members(modname: str, ignore_module_all: bool = False) -> list[str]:
    """Public classes and functions that ``automodule :members:`` documents for ``modname``.

    In the order of ``__all__``, or else of the source.

    >>> "Behaviour" in public_members("bellmodels.behaviour")
    True
    """
    module = importlib.import_module(modname)
    names = getattr(module, "__all__", None)
    if names is not None and not ignore_module_all:
        # constants are left out: their "docstring" would be their type's (float, tuple)
        return [n for n in names if callable(getattr(module, n, None))]
    defined = [
        (name, obj)
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == modname
    ]

    def line(item: tuple[str, Any]) -> int:
        try:
            return inspect.getsourcelines(item[1])[1]
        except (OSError, TypeError):
            return 0

    return [name for name, _ in sorted(defined, key=line)]


class ModSummaryDirective(SphinxDirective):
    """An autosummary table of a module's public members (see :func:`public_members`)."""

    required_arguments = 1
    option_spec = {"ignore-module-all": directives.flag}  # noqa: RUF012

    def run(self) -> list[nodes.Node]:
        modname = self.arguments[0]
        names = public_members(modname, "ignore-module-all" in self.options)
        if not names:
            return []
        lines = [f".. currentmodule:: {modname}", "", ".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in names]
        container = nodes.container(classes=["modsummary"])
        self.state.nested_parse(StringList(lines, source=modname), self.content_offset, container)
        return container.children


def is_notebook(path: Path) -> bool:
    """Whether the MyST page at ``path`` is a notebook (front matter ``file_format: mystnb``)."""
    if path.suffix != ".md" or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    front = text.split("---", 2)[1]
    return re.search(r"^file_format:\s*mystnb\s*$", front, flags=re.M) is not None


def _page_downloads(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    src = Path(app.srcdir) / f"{pagename}.md"
    context["bm_downloads"] = []
    if not is_notebook(src):
        return
    stem = Path(pagename).name
    context["bm_downloads"].append(("notebook (.ipynb)", f"{stem}.ipynb"))
    if src.with_suffix(".py").is_file():
        context["bm_downloads"].append(("script (.py)", f"{stem}.py"))


def _copy_downloads(app: Sphinx, exception: Exception | None) -> None:
    """Put each notebook page's .ipynb (and demo script) beside its HTML page."""
    if exception is not None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute"
    for docname in app.env.found_docs:
        src = Path(app.srcdir) / f"{docname}.md"
        if not is_notebook(src):
            continue
        target = Path(app.outdir) / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = executed / f"{docname}.ipynb"
        if notebook.is_file():
            shutil.copyfile(notebook, target)
        if src.with_suffix(".py").is_file():
            shutil.copyfile(src.with_suffix(".py"), target.with_suffix(".py"))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("generated", GeneratedDirective)
    app.add_directive("modsummary", ModSummaryDirective)
    app.connect("html-page-context", _page_downloads)
    app.connect("build-finished", _copy_downloads)
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", _process_docstring)
    app.add_html_math_renderer("plain", (_inline_visit, None), (_block_visit, None))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
