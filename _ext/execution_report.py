"""The ``execution-report`` directive: a table of how each chapter was last executed.

For every chapter notebook that is part of the book it lists the run time and parameters
papermill recorded in the notebook's ``metadata.papermill`` (kept there by
``scripts/run_notebooks.py``: the injected parameters and the duration in whole seconds),
the defaults of its ``parameters`` cell, and the data it used (its printed ``Data: ...``
lines). It is built from whatever notebooks exist when the book is built; a notebook
executed some other way says "not recorded".

    ```{execution-report}
    :pattern: "[0-9][0-9]_*.ipynb"
    ```
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

NOT_RECORDED = "not recorded"
DEFAULT_PATTERN = "[0-9][0-9]_*.ipynb"
DATA_PREFIX = "Data:"


@dataclass
class ChapterRun:
    """What one executed notebook says about its last run."""

    duration_s: int | None
    defaults: list[tuple[str, str]]  # (name, source of the default value)
    injected: dict = field(default_factory=dict)
    data: list[str] = field(default_factory=list)


def parameter_defaults(source: str, where: str) -> list[tuple[str, str]]:
    """``(name, value source)`` for each top-level assignment of a parameters cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ValueError(f"{where}: parameters cell is not plain Python: {err}") from err
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            found.append((target.id, ast.get_source_segment(source, value) or "?"))
    return found


def data_lines(nb) -> list[str]:
    """The notebook's printed ``Data: ...`` lines, in order, without repeats."""
    lines: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream":
                continue
            for line in "".join(out.get("text", "")).splitlines():
                line = line.strip()
                if line.startswith(DATA_PREFIX):
                    text = line[len(DATA_PREFIX) :].strip()
                    if text not in lines:
                        lines.append(text)
    return lines


def read_run(path: Path) -> ChapterRun:
    """Read what ``path`` (an executed notebook) records about its run."""
    nb = nbformat.read(path, as_version=4)
    papermill = nb.metadata.get("papermill", {}) or {}
    duration = papermill.get("duration")
    params_cell = next(
        (
            c
            for c in nb.cells
            if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])
        ),
        None,
    )
    defaults = parameter_defaults(params_cell.source, path.name) if params_cell else []
    return ChapterRun(
        duration_s=None if duration is None else round(float(duration)),
        defaults=defaults,
        injected=dict(papermill.get("parameters") or {}),
        data=data_lines(nb),
    )


def _entry(*children: nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    entry += nodes.paragraph("", "", *children)
    return entry


def _one_line(value: str) -> str:
    """A parameter's source on one line (a dict literal may span several)."""
    return re.sub(r"\s*\n\s*", " ", value).strip()


def _parameters(run: ChapterRun) -> nodes.paragraph:
    shown = {name: _one_line(value) for name, value in run.defaults}
    for name, value in run.injected.items():
        shown[name] = repr(value)
    if not shown:
        return nodes.paragraph(text="none")
    items: list[nodes.Node] = []
    for name, value in shown.items():
        if items:
            items.append(nodes.Text(", "))
        items.append(nodes.literal(text=f"{name} = {value}"))
        if name in run.injected:
            items.append(nodes.emphasis(text=" (injected)"))
    return nodes.paragraph("", "", *items)


def _data_entry(run: ChapterRun) -> nodes.entry:
    if not run.data:
        return _entry(nodes.Text("no "), nodes.literal(text=DATA_PREFIX), nodes.Text(" line"))
    entry = nodes.entry()
    for line in run.data:
        entry += nodes.paragraph(text=line)
    return entry


class ExecutionReport(SphinxDirective):
    """Table of run time, parameters and data of each chapter notebook in the book."""

    has_content = False
    option_spec = {"pattern": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        here = Path(self.env.doc2path(self.env.docname)).parent
        pattern = self.options.get("pattern", DEFAULT_PATTERN)
        # Re-read this page when a notebook changes, appears or disappears.
        self.env.note_dependency(str(here))
        rows, total, recorded = [], 0, 0
        for path in sorted(here.glob(pattern)):
            docname = self.env.path2doc(str(path))
            if docname is None or docname not in self.env.found_docs:
                continue  # not part of the book
            self.env.note_dependency(str(path))
            try:
                run = read_run(path)
            except ValueError as err:
                logger.warning(str(err), location=(self.env.docname, self.lineno))
                continue
            if run.duration_s is not None:
                total += run.duration_s
                recorded += 1
            rows.append((docname, run))
        if not rows:
            return [nodes.paragraph(text=f"No chapter notebooks match {pattern!r}.")]
        return [
            self._table(rows),
            self._total(total, recorded, len(rows)),
            nodes.paragraph(text="Parameters of each chapter's last run:"),
            self._parameter_list(rows),
        ]

    def _table(self, rows: list[tuple[str, ChapterRun]]) -> nodes.table:
        table = nodes.table(classes=["execution-report"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (35, 12, 53):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        header = nodes.row()
        for title in ("Chapter", "Run time", "Data used"):
            header += _entry(nodes.Text(title))
        head += header
        body = nodes.tbody()
        group += body
        for docname, run in rows:
            runtime = NOT_RECORDED if run.duration_s is None else f"{run.duration_s} s"
            row = nodes.row()
            row += _entry(self._link(docname))
            row += _entry(nodes.Text(runtime))
            row += _data_entry(run)
            body += row
        return table

    def _parameter_list(self, rows: list[tuple[str, ChapterRun]]) -> nodes.definition_list:
        listing = nodes.definition_list(classes=["execution-report-parameters"])
        for docname, run in rows:
            item = nodes.definition_list_item()
            item += nodes.term("", "", self._link(docname))
            definition = nodes.definition()
            definition += _parameters(run)
            item += definition
            listing += item
        return listing

    def _link(self, docname: str) -> addnodes.pending_xref:
        """A link to ``docname`` showing its title."""
        return addnodes.pending_xref(
            "",
            nodes.inline(text=docname),
            refdomain="std",
            reftype="doc",
            reftarget="/" + docname,
            refexplicit=False,
            refwarn=True,
            refdoc=self.env.docname,
        )

    def _total(self, total: int, recorded: int, chapters: int) -> nodes.paragraph:
        if recorded == 0:
            text = f"Run times were not recorded for any of the {chapters} chapters."
        elif recorded == chapters:
            text = f"All {chapters} chapters together ran in {total} s."
        else:
            text = (
                f"The {recorded} chapters with a recorded run time ran in {total} s; "
                f"{chapters - recorded} were not recorded."
            )
        return nodes.paragraph(text=text)


def setup(app: Sphinx) -> dict:
    app.add_directive("execution-report", ExecutionReport)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
