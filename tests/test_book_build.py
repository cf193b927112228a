"""The committed notebooks render as a book with no Sphinx warning (-W -n --keep-going).

The build itself is the session fixture ``built_book`` (tests/conftest.py), shared with the
browser tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_book_builds_with_every_chapter(built_book: Path):
    assert (built_book / "index.html").is_file() or (built_book / "intro.html").is_file()
    for md in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        page = built_book / "book" / f"{md.stem}.html"
        assert page.is_file(), f"{page.name} missing from the rendered book"
        html = page.read_text()
        assert "<img" in html, f"{page.name} has no figure"
        assert "os.environ" not in html, f"{page.name} shows the hidden environment cell"
        # readers download the executed notebook, not the MyST source
        assert f"_sources/book/{md.stem}.ipynb" in html
        assert (built_book / "_sources" / "book" / f"{md.stem}.ipynb").is_file()
        assert f"_sources/book/{md.stem}.md" not in html


@pytest.mark.slow
def test_no_repository_or_launch_buttons_without_a_public_address(built_book: Path):
    """The book has no public repository: no button may point at a made-up or foreign one.

    Binder and Colab launch links are built from the repository address, so they go too;
    the download button (the executed .ipynb) stays.
    """
    for page in sorted((built_book / "book").glob("*.html")):
        html = page.read_text()
        for needle in (
            "btn-source-repository-button",
            "dropdown-launch-buttons",
            "mybinder.org",
            "colab.research.google.com",
            "rnn-time-series-book/rnn-time-series-book",  # the former placeholder address
            "executablebooks/jupyter-book",  # jupyter-book's default repository address
        ):
            assert needle not in html, f"{page.name} contains {needle}"
    chapter = (built_book / "book" / "01_rnn_theory.html").read_text()
    assert re.search(
        r'href="\.\./_sources/book/01_rnn_theory\.ipynb"[^>]*btn-download-source-button', chapter
    ), "the download button does not give the chapter's .ipynb"


@pytest.mark.slow
def test_math_is_served_from_the_site(built_book: Path):
    """MathJax comes from the built site (django-static-mathjax), not from a CDN."""
    assert (built_book / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    chapter = (built_book / "book" / "01_rnn_theory.html").read_text()
    assert 'src="../_static/mathjax/tex-mml-chtml.js"' in chapter
    for page in sorted((built_book / "book").glob("*.html")):
        html = page.read_text()
        assert "cdn.jsdelivr.net" not in html, f"{page.name} loads MathJax from the CDN"
        assert html.count("tex-mml-chtml.js") <= 1, f"{page.name} loads MathJax twice"


@pytest.mark.slow
def test_mark_favicon_stylesheet_and_licences(built_book: Path):
    html = (built_book / "book" / "intro.html").read_text()
    assert 'src="../_static/logo.svg"' in html and (built_book / "_static" / "logo.svg").is_file()
    assert 'rel="icon" href="../_static/favicon.svg"' in html
    assert "_static/rnn-book.css" in html and (built_book / "_static" / "rnn-book.css").is_file()
    assert "MIT License" in html and "CC BY 4.0" in html


@pytest.mark.slow
def test_execution_report_lists_every_chapter(built_book: Path):
    html = (built_book / "book" / "execution_report.html").read_text()
    for nb in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        assert f'href="{nb.stem}.html"' in html, f"{nb.name} missing from the execution report"
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    assert len(rows) == 1 + len(list((ROOT / "book").glob("[0-9][0-9]_*.ipynb")))
    # parameters come from each notebook's parameters cell
    assert '<span class="pre">SEED</span> <span class="pre">=</span>' in html


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
