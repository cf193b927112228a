"""Root pytest hooks: skip a chapter's nbval check when the data file its outputs came from is
absent, and keep each file's tests on one pytest-xdist worker.

The committed outputs of a data chapter were computed on the real file; without it the
chapter still runs (on the fallback data, exercised by a papermill smoke test), but its
outputs cannot match, so comparing them would only report the missing file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tutorials_lib.data import BITCOIN_FILE, DATA_ENV, STOCK_FILES, data_file
from tutorials_lib.repro import configure_tensorflow_env

# Before any test module imports TensorFlow: the same settings as the notebooks.
configure_tensorflow_env()

#: chapter notebook -> files in the data directory its committed outputs depend on
NOTEBOOK_DATA_FILES: dict[str, list[str]] = {
    "04_bitcoin.ipynb": [BITCOIN_FILE],
    "05_stock_lstm.ipynb": [STOCK_FILES["IBM"], STOCK_FILES["MSFT"]],
    "06_gru_closed_loop.ipynb": [STOCK_FILES["IBM"]],
}


def missing_data(notebook: str) -> list[str]:
    """The data files ``notebook`` needs that are not in the data directory, looked up as the
    chapters' loaders look them up (:func:`tutorials_lib.data.data_file`)."""
    return [name for name in NOTEBOOK_DATA_FILES.get(notebook, []) if data_file(name) is None]


#: Images are never compared (their bytes depend on the CPU's floating point); nbval skips plain
#: image/png itself, and figures glued into the prose are stored under these types instead.
GLUED_IMAGE_TYPES = (
    "application/papermill.record/image/png",
    "application/papermill.record/image/jpeg",
)


#: test files that share the session fixture ``built_book``: one worker runs them, building once
BUILT_BOOK_FILES = ("tests/test_book_build.py", "tests/test_browser.py")


def worker_scope(nodeid: str) -> str:
    """The unit of work ``make test`` hands to one pytest-xdist worker: the test's file.

    A notebook's cells must run in order in one kernel, and a module-scoped fixture (a Dask
    cluster) should start once; the two files that share the built book form one unit.
    """
    file = nodeid.split("::")[0]
    return "built book" if file in BUILT_BOOK_FILES else file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the book-sharing files joined (:func:`worker_scope`).

    (``--dist loadgroup`` with ``xdist_group`` marks would say the same, but pytest-xdist 3.8
    ignores the marks under pytest 9.2: pytest-dev/pytest-xdist#1386.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    return file_scheduling()(config, log)


def file_scheduling() -> type:
    """pytest-xdist's ``LoadFileScheduling`` with :func:`worker_scope` as its scope."""
    from xdist.scheduler import LoadFileScheduling

    class FileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_scope(nodeid)

    return FileScheduling


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix != ".ipynb":
            continue
        notebook = item.parent
        if hasattr(notebook, "skip_compare") and GLUED_IMAGE_TYPES[0] not in notebook.skip_compare:
            notebook.skip_compare = tuple(notebook.skip_compare) + GLUED_IMAGE_TYPES
        absent = missing_data(path.name)
        if absent:
            where = os.environ.get(DATA_ENV) or f"(${DATA_ENV} is not set)"
            item.add_marker(
                pytest.mark.skip(
                    reason=f"{path.name}: outputs were computed on {', '.join(absent)}, "
                    f"not found in {where}"
                )
            )
