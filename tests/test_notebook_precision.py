"""Committed notebooks show numbers at the precision they mean, so they hold on any CPU.

Another CPU (other BLAS kernels, other SIMD paths) changes the last bits of a float. nbval
compares outputs as text, so a glued float carrying all 17 digits, or a printed round-off
residue such as ``1.7e-16``, fails on a reader's machine though nothing is wrong. This test
fails on both, in every committed chapter:

* a glued float with more than :data:`MAX_SIGNIFICANT` significant digits;
* a number printed in scientific notation whose magnitude is below :data:`ROUNDOFF`
  (zero up to round-off must be stated as a bound, e.g. "below 1e-12").
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tutorials_lib.report import ROUNDOFF

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
MAX_SIGNIFICANT = 6
GLUE_MIME = "application/papermill.record/text/plain"
FLOAT_REPR = re.compile(r"^(?:np\.float(?:16|32|64)\()?\s*(-?[\d.]+(?:e[-+]?\d+)?)\)?$")
SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.])")


def significant_digits(text: str) -> int:
    """Significant digits of a float's decimal text (``0.00120`` -> 3, ``1263.3079`` -> 8).

    Python writes a whole-valued float with a bare ``.0`` (``196500.0``), which carries no
    digit: it counts like the integer.
    """
    mantissa = text.lower().lstrip("-+").split("e")[0]
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    digits = mantissa.replace(".", "").lstrip("0")
    if "." in mantissa:
        return len(digits)
    return len(digits.rstrip("0")) or 1


def glued_floats(nb) -> list[tuple[str, str]]:
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get(GLUE_MIME)
            if text is None:
                continue
            text = "".join(text) if isinstance(text, list) else text
            match = FLOAT_REPR.match(text.strip())
            if match and ("." in match.group(1) or "e" in match.group(1)):
                name = out.get("metadata", {}).get("scrapbook", {}).get("name", "?")
                found.append((name, match.group(1)))
    return found


def printed_texts(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                yield index, "".join(out.get("text", ""))
            for mime in ("text/plain", "text/html", "text/markdown"):
                text = out.get("data", {}).get(mime)
                if text is not None:
                    yield index, "".join(text) if isinstance(text, list) else text


def roundoff_values(nb) -> list[tuple[int, str]]:
    return [
        (index, m.group(0))
        for index, text in printed_texts(nb)
        for m in SCIENTIFIC.finditer(text)
        if abs(float(m.group(0))) < ROUNDOFF
    ]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no book/NN_*.ipynb notebooks found"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_glued_floats_carry_at_most_six_significant_digits(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    long = [(n, v) for n, v in glued_floats(nb) if significant_digits(v) > MAX_SIGNIFICANT]
    assert not long, (
        f"{notebook.name}: glued floats with more digits than they mean (round before glue, "
        f"e.g. tutorials_lib.report.glue_number): {long}"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_no_printed_roundoff_residue(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    found = roundoff_values(nb)
    assert not found, (
        f"{notebook.name}: values below {ROUNDOFF:g} printed in full (cell index, text): "
        f"{found}; print a bound instead (tutorials_lib.report.upper_bound)"
    )


# The checks themselves must be able to fail: they are run on made-up outputs.


def _notebook_with(outputs):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = outputs
    nb.cells.append(cell)
    return nb


def _glue_output(name, text):
    return nbformat.v4.new_output(
        "display_data",
        data={GLUE_MIME: text},
        metadata={"scrapbook": {"name": name}},
    )


@pytest.mark.parametrize(
    ("text", "digits"),
    [("0.8998886333030545", 16), ("1263.3079518022155", 17), ("0.9262", 4), ("0.00120", 3),
     ("2.0545317587514888e+111", 17), ("5.0", 1), ("196500.0", 4), ("1e-07", 1), ("47.2", 3), ("1263.0", 4)],
)  # fmt: skip
def test_significant_digits(text, digits):
    assert significant_digits(text) == digits


def test_long_glued_float_is_caught_and_rounded_one_is_not():
    nb = _notebook_with(
        [
            _glue_output("long", "0.9261738048024094"),
            _glue_output("np", "np.float64(0.9261738048024091)"),
            _glue_output("short", "0.9262"),
            _glue_output("count", "59"),
            _glue_output("word", "'grows'"),
        ]
    )
    floats = dict(glued_floats(nb))
    assert set(floats) == {"long", "np", "short"}
    assert significant_digits(floats["long"]) > MAX_SIGNIFICANT
    assert significant_digits(floats["np"]) > MAX_SIGNIFICANT
    assert significant_digits(floats["short"]) <= MAX_SIGNIFICANT


def test_printed_roundoff_is_caught_and_a_bound_is_not():
    stream = nbformat.v4.new_output(
        "stream", name="stdout", text="rel diff 1.7e-16 / 0.0e+00; max 1.8e-07; below 1e-12\n"
    )
    found = [text for _, text in roundoff_values(_notebook_with([stream]))]
    assert found == ["1.7e-16", "0.0e+00"]
