"""Run a chapter as a reader without the data files would: papermill, data directory unset.

Shared by the fallback smoke tests. The run goes through ``scripts/run_notebooks.py
--output-dir``, the book's own reproduction path, so the committed notebook stays untouched;
:func:`run_without_data` checks that too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tutorials_lib.data import DATA_ENV

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ChapterRun:
    """A finished run: the process, and the executed notebook with its stdout (if it ran)."""

    process: subprocess.CompletedProcess
    notebook: nbformat.NotebookNode | None
    stdout: str

    def errors(self) -> list:
        """Error outputs left in the executed notebook's cells."""
        cells = self.notebook.cells if self.notebook is not None else []
        return [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]

    def images(self) -> int:
        """Outputs holding a PNG (glued figures carry papermill's record mime type)."""
        cells = self.notebook.cells if self.notebook is not None else []
        return sum(
            any(key.endswith("image/png") for key in o.get("data", {}))
            for c in cells
            for o in c.get("outputs", [])
        )


def _shown_text(out) -> str:
    if out.get("output_type") == "stream":
        return out.get("text", "") if out.get("name") == "stdout" else ""
    text = out.get("data", {}).get("text/plain", "")  # a table's text (show_table), a value
    return (text + "\n") if text else ""


def stdout_of(nb) -> str:
    """What the code cells printed to stdout and the text of the tables they showed, in order."""
    return "".join(
        _shown_text(out) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )


def run_without_data(
    chapter: Path, output_dir: Path, parameters: dict, extra_env: dict | None = None
) -> ChapterRun:
    """Execute ``chapter`` at ``parameters`` into ``output_dir`` with ``$RNN_BOOK_DATA_DIR`` unset."""
    env = {k: v for k, v in os.environ.items() if k != DATA_ENV}
    # The kernel must import this checkout's tutorials_lib, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra_env or {})
    params = [arg for name, value in parameters.items() for arg in ("-p", name, str(value))]
    committed = chapter.with_suffix(".ipynb").read_bytes()
    script = ROOT / "scripts" / "run_notebooks.py"
    process = subprocess.run(
        [sys.executable, str(script), *params, "--output-dir", str(output_dir), str(chapter)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert chapter.with_suffix(".ipynb").read_bytes() == committed, "committed notebook changed"
    executed = output_dir / chapter.with_suffix(".ipynb").name
    notebook = nbformat.read(executed, as_version=4) if executed.is_file() else None
    return ChapterRun(process, notebook, stdout_of(notebook) if notebook is not None else "")
