"""Each chapter's headline results as a JSON file, for the reproduction appendix.

A chapter calls :func:`record_results` once, at its end, with one :class:`Experiment` per
experiment of its source(s): what the source reported, what the book measured, the naive
baseline on the same test data and the Diebold–Mariano p-value against it. When the
environment variable :data:`RESULTS_ENV` names a directory, the record is written there as
``<chapter>.json``; otherwise nothing is written, so executing a notebook never touches files
unless a run asks for it (``make book`` and ``make reproduce`` do).
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tutorials_lib.metrics import DM_VARIANCES
from tutorials_lib.report import significant

__all__ = [
    "RESULTS_ENV",
    "STAMP_FORMAT",
    "Experiment",
    "chapter_seconds",
    "load_results",
    "measured_when",
    "notebook_parameters",
    "read_parameter_file",
    "read_run",
    "record_results",
    "tasks_run_beside",
    "write_run",
]

#: Environment variable naming the directory results files are written to.
RESULTS_ENV = "RNN_BOOK_RESULTS_DIR"
#: Notebooks numbered from 90 on are appendices: they read the records, they run no experiment.
FIRST_APPENDIX = "90"
#: Every run and benchmark record's date: to the minute, in UTC.
STAMP_FORMAT = "%Y-%m-%d %H:%M UTC"


#: The fields of an :class:`Experiment` that may be None.
_OPTIONAL = ("source_reported", "baseline", "baseline_name", "dm_pvalue")


@dataclass(frozen=True)
class Experiment:
    """One experiment of a source, side by side with the book's measurement.

    ``source`` is the seed file's number ("000" .. "004"); ``source_reported`` the figure the
    source printed, quoted as text (None if it reported none); ``value`` the book's figure in
    ``units``; ``baseline`` the naive forecast's figure on the same test data and
    ``baseline_name`` what that forecast is; ``dm_pvalue`` the Diebold–Mariano p-value of the
    model against that baseline (None where no such test applies) and ``dm_variance`` the
    long-run variance that test used (one of
    :data:`~tutorials_lib.metrics.DM_VARIANCES`); ``n_seeds`` how many training seeds
    ``value`` averages over.

    The figures must be real numbers (NumPy scalars included, booleans and text not) and are
    stored as ``float``, ``n_seeds`` as an ``int`` of at least 1, the text fields as ``str``:
    a record always turns into JSON. A bad field is a ValueError naming it.
    """

    source: str
    experiment: str
    metric: str
    units: str
    value: float
    source_reported: str | None = None
    baseline: float | None = None
    baseline_name: str | None = None
    dm_pvalue: float | None = None
    n_seeds: int = 1
    note: str = ""
    dm_variance: str = "newey-west"

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source:
            raise ValueError(f"source must name a seed file, got {self.source!r}")
        if not isinstance(self.experiment, str):
            raise ValueError(f"experiment must be text, got {self.experiment!r}")
        for name in ("metric", "units", "note", "source_reported", "baseline_name"):
            v = getattr(self, name)
            if not isinstance(v, str) and not (v is None and name in _OPTIONAL):
                raise ValueError(f"{self.experiment}: {name} must be text, got {v!r}")
        for name in ("value", "baseline", "dm_pvalue"):
            v = getattr(self, name)
            if v is None and name in _OPTIONAL:
                continue
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"{self.experiment}: {name} must be a real number, got {v!r}")
            if not math.isfinite(v):
                raise ValueError(f"{self.experiment}: {name} must be finite, got {v!r}")
            object.__setattr__(self, name, float(v))  # frozen: set once, here
        if isinstance(self.n_seeds, bool) or not isinstance(self.n_seeds, numbers.Integral):
            raise ValueError(f"{self.experiment}: n_seeds must be an integer, got {self.n_seeds!r}")
        if self.n_seeds < 1:
            raise ValueError(f"{self.experiment}: n_seeds must be >= 1, got {self.n_seeds}")
        object.__setattr__(self, "n_seeds", int(self.n_seeds))
        if self.dm_pvalue is not None and not 0 <= self.dm_pvalue <= 1:
            raise ValueError(
                f"{self.experiment}: dm_pvalue must be in [0, 1], got {self.dm_pvalue}"
            )
        if self.dm_variance not in DM_VARIANCES:
            raise ValueError(
                f"{self.experiment}: dm_variance must be one of {DM_VARIANCES}, "
                f"got {self.dm_variance!r}"
            )


def _rounded(value):
    """``value`` for JSON: every real number in it, at any depth, a float of six significant
    digits, every integer an ``int`` (NumPy scalars included); tuples become lists."""
    if isinstance(value, Mapping):
        return {key: _rounded(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return significant(value, 6)
    return value


def record_results(
    chapter: str,
    experiments: Sequence[Experiment],
    parameters: Mapping | None = None,
    directory: str | os.PathLike | None = None,
) -> None:
    """Write ``<directory>/<chapter>.json``; ``directory`` defaults to ``$RNN_BOOK_RESULTS_DIR``.

    Writes nothing when no directory is set. Returns None either way, so a notebook cell that
    ends with this call shows the same (no) output whether or not a results file is written.
    Floats, in the experiments and anywhere in ``parameters`` (nested lists and mappings
    included), are stored with six significant digits, the precision the appendix shows at
    most.
    """
    if not experiments:
        raise ValueError(f"{chapter}: no experiments to record")
    for e in experiments:
        if not isinstance(e, Experiment):
            raise ValueError(f"{chapter}: experiments must be Experiment records, got {e!r}")
    directory = directory if directory is not None else os.environ.get(RESULTS_ENV)
    if not directory:
        return
    path = Path(directory) / f"{chapter}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "chapter": chapter,
        "parameters": _rounded(dict(parameters or {})),
        "experiments": [_rounded(asdict(e)) for e in experiments],
    }
    path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")


def load_results(path: str | os.PathLike) -> tuple[dict, list[Experiment]]:
    """Read a results file back: ``(parameters, experiments)``.

    A record without ``dm_variance`` has the p-values of the classic test (``"hln"``), the
    only one the library had before it offered the Newey–West variance. Raises ValueError
    naming the file for one that is not a results file or holds an invalid experiment.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
        experiments = [Experiment(**{"dm_variance": "hln", **e}) for e in payload["experiments"]]
        return payload["parameters"], experiments
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a results file ({err})") from err
    except ValueError as err:  # an invalid Experiment
        raise ValueError(f"{path}: {err}") from err


def read_run(folder: str | Path) -> dict:
    """The ``run.json`` of a results folder (run times, machine), or ``{}`` if there is none."""
    path = Path(folder) / "run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def write_run(folder: str | Path, record: Mapping) -> None:
    """Write ``record`` as the ``run.json`` of a results folder, making the folder if needed."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "run.json").write_text(json.dumps(record, indent=1) + "\n")


def _chapter_tasks(run: Mapping) -> list[Mapping]:
    """The tasks of a run record that executed a chapter, not an appendix."""
    return [t for t in run.get("tasks", []) if t.get("chapter", "") < FIRST_APPENDIX]


def _parse_stamp(stamp: str, chapter: str) -> datetime:
    """A ``finished`` stamp as a datetime; a clear error naming the task if it is malformed."""
    try:
        return datetime.strptime(stamp, STAMP_FORMAT)
    except ValueError:
        raise ValueError(
            f"task {chapter!r}: finished stamp {stamp!r} is not of the form 'YYYY-MM-DD HH:MM UTC'"
        ) from None


def _task_start(task: Mapping, end: datetime) -> datetime:
    """When a task started, to the minute: its ``finished`` stamp less its ``seconds``.

    The stamp is truncated to the minute, so the task ended half a minute after it on average;
    the estimate adds that half minute back before rounding. A task without ``seconds``
    started, as far as the record knows, when it finished.
    """
    if task.get("seconds") is None:
        return end
    start = end + timedelta(seconds=30.0 - float(task["seconds"]))
    # a task shorter than half a minute did not start after its end stamp
    return min(end, (start + timedelta(seconds=30)).replace(second=0, microsecond=0))


def measured_when(record: Mapping) -> str:
    """When a run or benchmark record was made, for a table: its ``date``, else the span from
    the first chapter task's start (its ``finished`` stamp less its ``seconds``) to the last
    one's ``finished`` stamp. The appendices, re-run on their own, are left out, as in
    :func:`chapter_seconds`; "–" for an older record that kept neither."""
    if record.get("date"):
        return str(record["date"])
    tasks = [t for t in _chapter_tasks(record) if t.get("finished")]
    if not tasks:
        return "–"
    ends = [_parse_stamp(str(t["finished"]), str(t.get("chapter", "?"))) for t in tasks]
    first = min(_task_start(t, end) for t, end in zip(tasks, ends, strict=True)).strftime(
        STAMP_FORMAT
    )
    last = max(ends).strftime(STAMP_FORMAT)
    if first == last:
        return first
    # stamps are "YYYY-MM-DD HH:MM UTC": within one day, name the day once
    return f"{first[:16]} to {last[11:] if first[:10] == last[:10] else last}"


def tasks_run_beside(run: Mapping) -> dict[str, list[str]]:
    """For every chapter task with a ``finished`` stamp, the other chapters that ran at the
    same time, by more than the stamps' one-minute resolution.

    Two tasks on a two-core machine slow each other down, so a task time measured beside
    another is not the time it takes alone; a table of task times says which is which.
    """
    spans = {}
    for task in _chapter_tasks(run):
        if task.get("finished") and task.get("seconds"):
            end = _parse_stamp(str(task["finished"]), str(task["chapter"]))
            spans[task["chapter"]] = (_task_start(task, end), end)
    slack = timedelta(minutes=1)
    return {
        name: sorted(
            other
            for other, (o_start, o_end) in spans.items()
            if other != name and min(end, o_end) - max(start, o_start) > slack
        )
        for name, (start, end) in spans.items()
    }


def chapter_seconds(run: Mapping) -> dict[str, float]:
    """Run time of every chapter task of a ``run.json`` that succeeded.

    The appendices are left out: they run after the records they read. A task without an
    ``ok`` field (``make book`` writes none) succeeded, or it would have left no record.
    """
    return {t["chapter"]: float(t["seconds"]) for t in _chapter_tasks(run) if t.get("ok", True)}


def read_parameter_file(path: str | os.PathLike) -> dict:
    """The parameters of a papermill YAML parameter file; ValueError, naming the file, unless
    it is valid YAML holding a mapping of parameter names to values (an empty file holds none).
    """
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping of parameter names to values")
    return loaded


def notebook_parameters(
    notebook: str | os.PathLike, params_file: str | os.PathLike | None = None
) -> dict:
    """The parameters papermill would run ``notebook`` (an ``.ipynb``) with.

    The defaults of its ``parameters`` cell, evaluated as Python literals, updated by the
    YAML mapping in ``params_file`` when one is given (as ``make reproduce`` does with a
    chapter's ``book/params/*_source.yaml``). Raises ValueError for a default that is not a
    literal and for a parameter file that is not a mapping, naming the notebook or the file.
    """
    import ast

    import papermill

    values = {}
    for name, spec in papermill.inspect_notebook(str(notebook)).items():
        try:
            values[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError) as err:
            raise ValueError(
                f"{notebook}: parameter {name} = {spec['default']} is not a Python literal"
            ) from err
    if params_file is not None:
        values.update(read_parameter_file(params_file))
    return values
