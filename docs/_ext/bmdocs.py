"""Local Sphinx extension of the bellmodels docs (no network, no third-party code).

- ``generated`` directive: include a file written by a script into ``docs/generated/``
  (Markdown is parsed as MyST, ``.png`` becomes a figure). When the file does not exist the
  page says so and shows the command that writes it, instead of failing the build::

      ```{generated} rbm_training_benchmark.md
      :command: python benchmarks/rbm_training.py
      ```

- ``plain`` math renderer: math is shown as its source in ``<code>``; the default MathJax
  renderer would load JavaScript from a CDN, and the docs must work offline.
"""

from __future__ import annotations

import re
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


def _process_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    escape_bars(lines)


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


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("generated", GeneratedDirective)
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", _process_docstring)
    app.add_html_math_renderer("plain", (_inline_visit, None), (_block_visit, None))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
