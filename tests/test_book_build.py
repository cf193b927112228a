"""The committed notebooks render as a book with no Sphinx warning (-W -n --keep-going)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"jupyter-book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )
    return out / "_build" / "html"


@pytest.mark.slow
def test_book_builds_with_every_chapter(built_book: Path):
    assert (built_book / "index.html").is_file() or (built_book / "intro.html").is_file()
    for md in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        page = built_book / "book" / f"{md.stem}.html"
        assert page.is_file(), f"{page.name} missing from the rendered book"
        html = page.read_text()
        assert "<img" in html, f"{page.name} has no figure"
        assert "os.environ" not in html, f"{page.name} shows the hidden environment cell"
        # readers download and launch the executed notebook, not the MyST source
        assert f"_sources/book/{md.stem}.ipynb" in html
        assert f"blob/main/book/{md.stem}.ipynb" in html  # Colab launch button
        assert f"_sources/book/{md.stem}.md" not in html


@pytest.mark.slow
def test_glossary_and_bibliography_render(built_book: Path):
    glossary = (built_book / "book" / "glossary.html").read_text()
    assert 'id="term-Walk-forward"' in glossary
    refs = (built_book / "book" / "references.html").read_text()
    assert "Hochreiter" in refs


@pytest.mark.slow
def test_chapter_one_renders_math_citations_and_glossary_links(built_book: Path):
    html = (built_book / "book" / "01_rnn_theory.html").read_text()
    assert 'id="equation-eq-bptt-product"' in html  # numbered, referenceable equation
    assert 'href="glossary.html#term-Hidden-state"' in html
    assert "Elman, 1990" in html  # author-year citation resolved from references.bib
    assert "pasted-text" in html  # glued values from executed cells appear in the prose
