"""Numbers as the book shows them: rounded to the precision they mean.

A notebook's outputs are compared on readers' machines, whose BLAS kernels and SIMD paths
change the last bits of a float. So a value is printed or glued with the digits it means,
and a quantity that is zero up to round-off is stated as a bound. The machine a timing was
measured on is described in one line, the same on every page. A table is shown as an HTML
table in the rendered book, whose columns never wrap into each other as long text lines do.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "ROUNDOFF",
    "Table",
    "count_text",
    "describe_machine",
    "describe_run_machines",
    "glue_number",
    "glue_significant",
    "join_words",
    "scientific_text",
    "show_table",
    "significant",
    "significant_text",
    "upper_bound",
]

#: Below this, a difference between two float64 computations is round-off.
ROUNDOFF = 1e-12


def significant(value: float, digits: int = 4) -> float:
    """``value`` rounded to ``digits`` significant digits (a float, e.g. for glue)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"value must be a real number, got {value!r}")
    if not 1 <= digits <= 6:
        raise ValueError(f"digits must be between 1 and 6, got {digits}")
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def significant_text(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits as text, trailing zeros kept.

    ``significant_text(9.9, 3)`` is ``"9.90"`` and ``significant_text(0.001034, 2)`` is
    ``"0.0010"``: Python's ``g`` format drops those zeros (``"9.9"``, ``"0.001"``), and the
    number then reads as less precise than it is; ``#g`` keeps them but writes ``"125."``
    and ``"1.23e+03"``.
    """
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
        raise ValueError(f"digits must be >= 1, got {digits!r}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"value must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, got {value}")
    mantissa = f"{value:.{digits - 1}e}"  # rounds, and gives the rounded value's exponent
    exponent = int(mantissa.split("e")[1])
    return f"{float(mantissa):.{max(digits - 1 - exponent, 0)}f}"


def count_text(n: int, noun: str) -> str:
    """A count in a sentence: ``count_text(1, "epoch")`` is ``"1 epoch"``, 5 gives ``"5 epochs"``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"n must be a whole number, got {n!r}")
    return f"{n} {noun}" + ("" if n == 1 else "s")


def join_words(items: Sequence[str], conjunction: str = "and") -> str:
    """Items in a sentence: ``"a"``, ``"a and b"``, ``"a, b and c"`` (or ``"or"``)."""
    items = list(items)
    if not items:
        raise ValueError("items is empty: nothing to list")
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def scientific_text(value: float, digits: int, *, from_exponent: int = 5) -> str:
    """``value`` to ``digits`` significant digits for prose: as :func:`significant_text`, or,
    when its magnitude is at least ``10**from_exponent`` or below ``10**-from_exponent``, as
    ``"2.7 × 10⁷"`` rather than Python's ``"2.7e+07"``."""
    text = significant_text(value, digits)  # checks value and digits
    if value == 0:
        return text
    mantissa, exponent = f"{float(value):.{digits - 1}e}".split("e")
    exponent = int(exponent)
    if abs(exponent) < from_exponent:
        return text
    return f"{mantissa} \u00d7 10{str(exponent).translate(_SUPERSCRIPT)}"


def glue_significant(name: str, value: float, digits: int) -> str:
    """Glue ``value`` as :func:`significant_text` (hidden) and return that text.

    For prose: ``{glue:text}`name``` then shows the number with the digits it means,
    trailing zeros included, where :func:`glue_number`'s rounded float would lose them.
    """
    from myst_nb import glue

    text = significant_text(value, digits)
    glue(name, text, display=False)
    return text


def upper_bound(value: float, floor: float = ROUNDOFF) -> str:
    """Text for a small non-negative quantity: ``"below 1e-12"`` under ``floor``, else 1e-07 style.

    For differences that are zero up to round-off, whose digits differ from CPU to CPU: the
    bound is what the result means, and it also holds on other CPUs. The bound is the larger
    of ``floor`` and the smallest power of ten above the value (``2.3e-08`` -> ``"below
    1e-7"``; an exact power of ten is not below itself, so ``1e-07`` -> ``"below 1e-6"``).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"value must be a non-negative real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, got {value!r}")
    if isinstance(floor, bool) or not isinstance(floor, numbers.Real) or not 0 < floor < math.inf:
        raise ValueError(f"floor must be a finite number > 0, got {floor!r}")
    bound = float(floor)
    if value > 0:
        # The smallest power of ten at or above value. Each candidate is parsed from its
        # decimal text, so it is the float nearest that power: repeated multiplication by 10
        # drifts (1e-6 * 10 is 9.999999999999999e-06), and log10 rounds (log10 of a value just
        # above a power of ten can come out as that power's exponent).
        exponent = math.floor(math.log10(value)) - 1  # below the answer: the loop finds it
        while float(f"1e{exponent}") < value:
            exponent += 1
        bound = max(bound, float(f"1e{exponent}"))
        if bound == value:  # an exact power of ten is not below itself
            bound = float(f"1e{exponent + 1}")
    return f"below {bound:.0e}".replace("e-0", "e-").replace("e+0", "e+")


def glue_number(name: str, value: float, digits: int = 4) -> float:
    """Glue ``value`` rounded to ``digits`` significant digits (hidden) and return it."""
    from myst_nb import glue

    rounded = significant(value, digits)
    glue(name, rounded, display=False)
    return rounded


def describe_machine(machine: dict, *, python: bool = False) -> str:
    """One line for a benchmark's or run's ``machine`` record: CPU, vector unit, cores.

    ``machine`` is the dict ``scripts/run_notebooks.machine_description()`` stores; a field an
    older record lacks is named as not recorded rather than guessed.
    """
    if not isinstance(machine, dict):
        raise ValueError(f"machine must be a dict as benchmark records store it, got {machine!r}")
    text = (
        f"{machine.get('cpu') or 'CPU not recorded'} "
        f"({machine.get('simd') or 'vector unit not recorded'}), "
        f"{machine.get('cores') or '?'} cores"
    )
    if python:
        text += f", Python {machine.get('python') or 'not recorded'}"
    return text


def describe_run_machines(run: dict) -> str:
    """The machine or machines a ``run.json`` record's tasks ran on, as one line.

    Each task names its machine (an older task without one ran on the record's ``machine``);
    when they differ, each description is followed by the chapters run on it, by number. A
    record without tasks (a benchmark's) is described by its ``machine`` alone.
    """
    if not isinstance(run, dict):
        raise ValueError(f"run must be a dict as run.json stores it, got {run!r}")
    default = run.get("machine") or {}
    groups: dict[str, list[str]] = {}
    for task in run.get("tasks", []):
        text = describe_machine(task.get("machine") or default)
        groups.setdefault(text, []).append(str(task.get("chapter", "?"))[:2])
    if len(groups) <= 1:
        return next(iter(groups), describe_machine(default))
    return "; ".join(f"{text} (chapters {', '.join(ch)})" for text, ch in groups.items())


#: The formatting options ``DataFrame.to_string`` and ``DataFrame.to_html`` share.
TABLE_OPTIONS = frozenset({"formatters", "float_format", "na_rep", "index", "header", "justify"})


#: A number as the tables print it: 1,234.5, -0.0319, 2.8e+00, 45/45.
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d*)?(?:[eE][-+]?\d+)?")


def _has_words(text: str) -> bool:
    return any(ch.isalpha() for ch in _NUMBER.sub("", text))


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array in a cell
        return False


class Table:
    """A pandas frame shown as an HTML table in the book and as aligned text elsewhere.

    A frame printed with ``to_string`` is one long line per row; on a page narrower than the
    row the lines wrap and the columns no longer line up. As an HTML table (``to_html``) the
    browser wraps text inside its cells instead. Both views take the same formatting options
    (``formatters``, ``float_format``, ``na_rep``, ``index``, ``header``, ``justify``), so the
    numbers read the same in the HTML as in the text a terminal shows.
    """

    def __init__(self, frame: pd.DataFrame, **options: Any) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
        unknown = sorted(set(options) - TABLE_OPTIONS)
        if unknown:
            raise ValueError(
                f"unknown table option(s) {unknown}; the options are {sorted(TABLE_OPTIONS)}"
            )
        formatters = options.get("formatters")
        if isinstance(formatters, Mapping):
            missing = sorted(str(c) for c in set(formatters) - set(frame.columns))
            if missing:
                raise ValueError(f"formatters name column(s) {missing} the frame does not have")
        self.frame = frame
        self.options = options

    def to_text(self) -> str:
        """The table as aligned text (``DataFrame.to_string``)."""
        return self.frame.to_string(**self.options)

    def text_columns(self) -> list[bool]:
        """For each column: does it hold words (a letter in any shown value), not numbers?

        The book's stylesheet right-aligns numbers, as Jupyter does, and sets words flush left.
        """
        formatters = self.options.get("formatters") or {}
        words = []
        for position, column in enumerate(self.frame.columns):
            if isinstance(formatters, Mapping):
                shown = formatters.get(column, str)
            else:
                shown = formatters[position] if position < len(formatters) else str
            values = [shown(v) for v in self.frame.iloc[:, position] if not _missing(v)]
            words.append(any(_has_words(str(v)) for v in values))
        return words

    def to_html(self) -> str:
        """The table as HTML (``DataFrame.to_html``), its cells' text escaped; the cells of
        columns of words carry ``class="text"``."""
        html = self.frame.to_html(border=0, escape=True, **self.options)
        words = self.text_columns()
        if not any(words):
            return html
        head, _, body = html.partition("<tbody>")

        def mark_row(row: re.Match) -> str:
            cells = iter(words)
            return re.sub(
                r"<td>", lambda _: '<td class="text">' if next(cells) else "<td>", row.group(0)
            )

        return head + "<tbody>" + re.sub(r"<tr>.*?</tr>", mark_row, body, flags=re.DOTALL)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def show_table(
    frame: pd.DataFrame,
    *,
    formatters: Mapping[Any, Callable[[Any], str]] | Sequence[Callable[[Any], str]] | None = None,
    float_format: Callable[[float], str] | None = None,
    na_rep: str = "NaN",
    index: bool = True,
    header: bool | Sequence[str] = True,
    justify: str | None = None,
) -> None:
    """Display ``frame`` as a :class:`Table`: HTML in the book, aligned text in a terminal.

    Takes ``DataFrame.to_string``'s formatting options, so ``print(frame.to_string(**opts))``
    becomes ``show_table(frame, **opts)`` with the same numbers. Returns nothing, so a cell
    that ends with it shows the table once.
    """
    from IPython.display import display

    table = Table(
        frame,
        formatters=formatters,
        float_format=float_format,
        na_rep=na_rep,
        index=index,
        header=header,
        justify=justify,
    )
    display(table)
