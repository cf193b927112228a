"""``make test`` runs on every core (pytest-xdist, ``--dist loadfile``) without splitting what
must stay together: each file is one unit of work, so a notebook's cells run in order in one
kernel, and the two files that share the built book are one unit, so the book is built once.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root_conftest(request):
    module = request.config.pluginmanager.get_plugin(str(ROOT / "conftest.py"))
    assert module is not None, "the root conftest.py is not loaded"
    return module


def test_a_notebook_is_one_unit_and_the_built_book_one_more(root_conftest):
    scope = root_conftest.worker_scope
    cells = {scope(f"book/01_rnn_theory.ipynb::Cell {k}") for k in range(30)}
    assert cells == {"book/01_rnn_theory.ipynb"}
    assert scope("tests/test_x.py::TestA::test_b[1-2]") == scope("tests/test_x.py::test_c")
    assert scope("tests/test_x.py::test_c") != scope("tests/test_y.py::test_c")
    assert scope("tests/test_book_build.py::test_a") == scope("tests/test_browser.py::test_b[p]")
    assert scope("tests/test_browser.py::test_b[p]") != scope("tests/test_x.py::test_c")


def test_the_scheduler_uses_worker_scope_under_loadfile_only(root_conftest):
    xdist_scheduler = pytest.importorskip("xdist.scheduler", reason="install requirements.txt")
    scheduling = root_conftest.file_scheduling()
    assert issubclass(scheduling, xdist_scheduler.LoadFileScheduling)
    assert scheduling._split_scope(None, "tests/test_browser.py::test_b") == "built book"
    assert scheduling._split_scope(None, "book/02_x.ipynb::Cell 3") == "book/02_x.ipynb"
    for other in ("load", "loadscope"):
        config = SimpleNamespace(getvalue=lambda name, dist=other: {"dist": dist}[name])
        assert root_conftest.pytest_xdist_make_scheduler(config, log=None) is None


def test_a_data_chapter_needs_the_files_its_loaders_read(root_conftest, monkeypatch, tmp_path):
    """The nbval skip looks for the files where tutorials_lib.data's loaders look for them."""
    from tutorials_lib import data

    missing = root_conftest.missing_data
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    assert missing("04_bitcoin.ipynb") == [data.BITCOIN_FILE]
    assert missing("01_rnn_theory.ipynb") == []
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    (tmp_path / data.STOCK_FILES["IBM"]).write_text("")
    assert missing("05_stock_lstm.ipynb") == [data.STOCK_FILES["MSFT"]]
    assert missing("06_gru_closed_loop.ipynb") == []
    (tmp_path / data.BITCOIN_FILE).write_text("")
    assert missing("04_bitcoin.ipynb") == []
