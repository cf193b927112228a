"""The rendered book as a reader sees it: every page of ``_toc.yml``, opened with no network.

Two layers of checks on the book built once per run (``built_book``, tests/conftest.py):

- in the HTML files, always: every image file exists, every internal link (glossary terms,
  citations, cross-references, the download button) reaches an existing page and anchor, no
  cell output shows a traceback or an error, and no visible code line is longer than
  ``MAX_CODE_LINE`` characters and no column-aligned output line (a text table) is longer than
  ``MAX_TABLE_LINE`` (both checked in the notebooks);
- in headless Chromium, driven by Playwright with every non-file request refused (a reader
  offline): math typeset by MathJax (no raw ``\\(``, ``\\[``, ``$$`` left), every image
  decoded, no code or output line scrolling sideways, output blocks at least
  ``MAX_TABLE_LINE`` characters wide, no console error, no network request.
  A full-page screenshot of each page goes to ``screenshots/`` in the temporary build
  folder, or to ``$RNN_BOOK_SCREENSHOTS`` when that is set.

Without Chromium the browser layer skips, naming the package to install. The two layers are
also run on a deliberately broken page (``test_checks_catch_a_broken_page``), so each check
is shown to fail when it should.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
MAX_CODE_LINE = 100
#: Characters of a cell's text output shown on one line: an output block on a 1280-pixel
#: window holds 77 of its 14-pixel monospace characters (the browser layer measures it). A
#: column-aligned output line longer than this wraps and its columns stop lining up.
MAX_TABLE_LINE = 77
#: Column-aligned text: two or more spaces between words, as ``DataFrame.to_string`` pads.
ALIGNED = re.compile(r"\S {2,}\S")
#: tags whose code cells are not shown to readers
HIDDEN_CODE_TAGS = {"remove-input", "remove-cell"}
#: browser names tried in order; RNN_BOOK_CHROMIUM overrides them
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = (
    "no Chromium found: install the Debian package `chromium` (apt-get install chromium) or "
    "set RNN_BOOK_CHROMIUM to a Chromium/Chrome executable"
)
RAW_TEX = (r"\(", r"\[", "$$")
EXTERNAL = ("http:", "https:", "mailto:", "javascript:", "data:", "ftp:")


def toc_pages(toc_file: Path = ROOT / "_toc.yml") -> list[str]:
    """Every page of the table of contents, as paths without suffix (``book/intro``), in order."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections", []))

    walk(toc.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return [re.sub(r"\.(ipynb|md)$", "", page) for page in pages]


PAGES = toc_pages()
#: the executed notebooks of the book (chapters and appendices)
BOOK_NOTEBOOKS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def page_file(html_root: Path, page: str) -> Path:
    return html_root / f"{page}.html"


# --------------------------------------------------------------------------------------
# Checks on the HTML files (no browser)


def missing_images(html_file: Path) -> list[str]:
    """``src`` of each local ``<img>`` whose file is absent or empty."""
    soup = BeautifulSoup(html_file.read_text(), "html.parser")
    problems = []
    for img in soup.find_all("img"):
        src = img.get("src", "")
        if not src or src.startswith(EXTERNAL):
            if not src:
                problems.append("<img> without src")
            continue
        target = (html_file.parent / unquote(urlsplit(src).path)).resolve()
        if not target.is_file() or target.stat().st_size == 0:
            problems.append(src)
    return problems


_ids_cache: dict[Path, set[str]] = {}


def _ids(html_file: Path) -> set[str]:
    if html_file not in _ids_cache:
        soup = BeautifulSoup(html_file.read_text(), "html.parser")
        ids = {tag["id"] for tag in soup.find_all(id=True)}
        ids |= {tag["name"] for tag in soup.find_all("a", attrs={"name": True})}
        _ids_cache[html_file] = ids
    return _ids_cache[html_file]


def broken_links(html_file: Path) -> list[str]:
    """Each internal ``<a href>`` whose file, or anchor in that file, does not exist."""
    soup = BeautifulSoup(html_file.read_text(), "html.parser")
    problems = []
    for a in soup.find_all("a", href=True):
        href = a["href"]
        if href.startswith(EXTERNAL) or href == "#":
            continue
        parts = urlsplit(href)
        target = (html_file.parent / unquote(parts.path)).resolve() if parts.path else html_file
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{href} (no file {target.name})")
        elif parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in _ids(target):
                problems.append(f"{href} (no anchor #{parts.fragment} in {target.name})")
    return problems


ERROR_WORD = re.compile(r"\b\w*(Error|Exception)\b|Traceback \(most recent call last\)")


def error_outputs(html_file: Path) -> list[str]:
    """Cell outputs that show a traceback, an error, or an error on stderr."""
    soup = BeautifulSoup(html_file.read_text(), "html.parser")
    problems = []
    for out in soup.select("div.cell_output .output, div.cell_output div.output"):
        classes = set(out.get("class", []))
        text = out.get_text(" ", strip=True)
        if classes & {"traceback", "error"}:
            problems.append(f"error output: {text[:160]}")
        elif "Traceback (most recent call last)" in text:
            problems.append(f"traceback in output: {text[:160]}")
        elif "stderr" in classes and ERROR_WORD.search(text):
            problems.append(f"error on stderr: {text[:160]}")
    return problems


def numbered_code_cells(notebook: Path) -> list[tuple[int, nbformat.NotebookNode]]:
    """The notebook's code cells, numbered from 1 as the checks' messages name them."""
    nb = nbformat.read(notebook, as_version=4)
    return list(enumerate((c for c in nb.cells if c.cell_type == "code"), 1))


def long_code_lines(notebook: Path, limit: int = MAX_CODE_LINE) -> list[str]:
    """``cell N line M (L chars)`` for each shown code line longer than ``limit``."""
    problems = []
    for n, cell in numbered_code_cells(notebook):
        if HIDDEN_CODE_TAGS & set(cell.metadata.get("tags", [])):
            continue
        for m, line in enumerate(cell.source.splitlines(), 1):
            if len(line) > limit:
                problems.append(f"code cell {n} line {m} ({len(line)} chars): {line[:60]}...")
    return problems


def _shown_text_outputs(cell) -> list[str]:
    """The text a reader sees of a code cell's outputs (an HTML output shows as HTML)."""
    if {"remove-output", "remove-cell"} & set(cell.metadata.get("tags", [])):
        return []
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        else:
            data = out.get("data", {})
            if "text/plain" in data and not {"text/html", "image/png"} & set(data):
                texts.append(data["text/plain"])
    return ["".join(t) if isinstance(t, list) else t for t in texts]


def wide_text_tables(notebook: Path, limit: int = MAX_TABLE_LINE) -> list[str]:
    """``code cell N line M (L chars)`` for each column-aligned output line over ``limit``.

    Such a line wraps on the page and its table's columns no longer line up: show the frame
    with ``tutorials_lib.report.show_table`` (an HTML table, which wraps inside its cells), or
    print fewer or narrower columns. Prose lines (single spaces) may wrap and are not counted.
    """
    problems = []
    for n, cell in numbered_code_cells(notebook):
        for text in _shown_text_outputs(cell):
            for m, line in enumerate(text.splitlines(), 1):
                if len(line) > limit and ALIGNED.search(line.strip()):
                    problems.append(
                        f"code cell {n} output line {m} ({len(line)} chars): {line[:60]}"
                    )
    return problems


GLUE_CALLS = {"glue", "glue_number"}


def _ends_with_glue_call(source: str) -> bool:
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython syntax (magics): not a plain glue call
        return False
    last = body[-1] if body else None
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)):
        return False
    func = last.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in GLUE_CALLS


def stray_glue_values(notebook: Path) -> list[str]:
    """``code cell N shows V`` where a cell's last line glues a value and so also shows it.

    ``glue_number`` returns the value it glues; as a cell's last expression the value appears
    under the cell as a bare number with nothing saying what it is. Assign the result
    (``_ = glue_number(...)``): a trailing ``;`` hides it in Jupyter and papermill but not under
    nbval, which runs cells without storing them in IPython's history, where ``;`` is looked up.
    """
    problems = []
    for n, cell in numbered_code_cells(notebook):
        shown = [o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"]
        if shown and _ends_with_glue_call(cell.source):
            value = "".join(shown[0].get("data", {}).get("text/plain", ""))
            problems.append(f"code cell {n} shows {value[:40]!r}")
    return problems


# --------------------------------------------------------------------------------------
# Checks in the browser


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable to use, or None.

    ``$RNN_BOOK_CHROMIUM`` names one explicitly; naming one that does not exist is an error.
    """
    named = os.environ.get("RNN_BOOK_CHROMIUM")
    if named:
        found = shutil.which(named)
        if found is None:
            pytest.fail(f"RNN_BOOK_CHROMIUM={named!r} is not an executable")
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageView:
    """What the browser showed for one page."""

    console_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)
    math_elements: int = 0
    untypeset_math: int = 0
    typeset: int = 0
    math_errors: list[str] = field(default_factory=list)
    raw_tex: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    wide_blocks: list[str] = field(default_factory=list)
    page_too_wide: bool = False
    output_line_chars: int | None = None
    screenshot: Path | None = None


# Runs in the page once it has loaded: waits for MathJax, then measures what a reader sees.
INSPECT_JS = """
async (rawTex) => {
  // Characters of monospace text the narrowest visible output block shows on one line.
  const outputLineChars = (article) => {
    const blocks = Array.from(article.querySelectorAll("div.cell_output pre"))
        .filter(pre => pre.offsetParent !== null);
    if (blocks.length === 0) return null;
    return Math.min(...blocks.map(pre => {
      const probe = document.createElement("span");
      probe.style.whiteSpace = "pre";
      probe.textContent = "0".repeat(100);
      pre.appendChild(probe);
      const charWidth = probe.getBoundingClientRect().width / 100;
      probe.remove();
      const style = getComputedStyle(pre);
      const inner = pre.clientWidth - parseFloat(style.paddingLeft)
          - parseFloat(style.paddingRight);
      return Math.floor(inner / charWidth);
    }));
  };
  const timeout = new Promise(resolve => setTimeout(() => resolve("timeout"), 30000));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await Promise.race([MathJax.startup.promise, timeout]);
  }
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = "eager"; });
  await Promise.race([Promise.all(images.map(img => img.decode().catch(() => null))), timeout]);
  const maths = Array.from(document.querySelectorAll(".math"));
  const text = document.body.cloneNode(true);
  text.querySelectorAll("pre, code, script, style, textarea, mjx-container, .highlight")
      .forEach(el => el.remove());
  const visible = text.textContent;
  const article = document.querySelector(".bd-article") || document.body;
  return {
    math_elements: maths.length,
    untypeset_math: maths.filter(m => !m.querySelector("mjx-container")).length,
    typeset: document.querySelectorAll("mjx-container").length,
    math_errors: Array.from(document.querySelectorAll("mjx-merror"))
        .map(e => e.getAttribute("data-mjx-error") || e.textContent),
    raw_tex: rawTex.filter(s => visible.includes(s)).map(s => {
        const i = visible.indexOf(s);
        return visible.slice(Math.max(0, i - 30), i + 40).replace(/\\s+/g, " ");
    }),
    broken_images: images.filter(img => !(img.complete && img.naturalWidth > 0))
        .map(img => img.getAttribute("src")),
    wide_blocks: Array.from(article.querySelectorAll("pre"))
        .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
        .map(pre => pre.textContent.trim().split("\\n")[0].slice(0, 60)),
    page_too_wide: document.documentElement.scrollWidth > window.innerWidth + 1
        || article.scrollWidth > article.clientWidth + 1,
    output_line_chars: outputLineChars(article),
  };
}
"""


def _offline(view: PageView):
    """A route handler for a reader offline: local files load, any network request fails."""

    def handle(route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            view.network_requests.append(url)
            route.abort()

    return handle


def view_pages(files: list[Path], shots: Path | None, chromium: str) -> dict[Path, PageView]:
    """Open each HTML file offline in headless Chromium and record what it showed."""
    from playwright.sync_api import sync_playwright

    views: dict[Path, PageView] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for file in files:
                view = PageView()
                page = context.new_page()
                page.route("**/*", _offline(view))
                page.on(
                    "console",
                    lambda msg, view=view: (
                        msg.type == "error" and view.console_errors.append(msg.text)
                    ),
                )
                page.on("pageerror", lambda err, view=view: view.console_errors.append(str(err)))
                page.goto(file.as_uri(), wait_until="load")
                found = page.evaluate(INSPECT_JS, list(RAW_TEX))
                for key, value in found.items():
                    setattr(view, key, value)
                if shots is not None:
                    shots.mkdir(parents=True, exist_ok=True)
                    view.screenshot = shots / f"{file.stem}.png"
                    page.screenshot(path=str(view.screenshot), full_page=True)
                page.close()
                views[file] = view
        finally:
            browser.close()
    return views


def view_problems(view: PageView, expect_math: bool) -> list[str]:
    """Everything wrong with one page as the browser showed it."""
    problems = [f"console error: {m}" for m in view.console_errors]
    problems += [f"needs the network: {u}" for u in view.network_requests]
    if expect_math and view.typeset == 0:
        problems.append(f"math not typeset: {view.math_elements} math elements, 0 typeset")
    if view.untypeset_math:
        problems.append(f"{view.untypeset_math} of {view.math_elements} math elements raw")
    problems += [f"MathJax error: {e}" for e in view.math_errors]
    problems += [f"raw TeX in the text: ...{t}..." for t in view.raw_tex]
    problems += [f"image not shown: {src}" for src in view.broken_images]
    problems += [f"scrolls sideways: {line!r}" for line in view.wide_blocks]
    if view.page_too_wide:
        problems.append("the page is wider than the window (sideways scrolling)")
    if view.output_line_chars is not None and view.output_line_chars < MAX_TABLE_LINE:
        problems.append(
            f"output too narrow: a block shows {view.output_line_chars} characters a line, "
            f"text tables of up to {MAX_TABLE_LINE} wrap"
        )
    return problems


def has_math(html_file: Path) -> bool:
    soup = BeautifulSoup(html_file.read_text(), "html.parser")
    return bool(soup.select(".math"))


# --------------------------------------------------------------------------------------
# Tests on the book


@pytest.mark.slow
def test_toc_lists_pages_and_each_is_rendered(built_book: Path):
    assert "book/execution_report" in PAGES
    for page in PAGES:
        assert page_file(built_book, page).is_file(), f"{page} from _toc.yml was not rendered"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_images_and_links_resolve(built_book: Path, page: str):
    html = page_file(built_book, page)
    problems = [f"missing image file: {src}" for src in missing_images(html)]
    problems += [f"broken internal link: {link}" for link in broken_links(html)]
    assert not problems, f"{page}:\n" + "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_outputs_show_no_error(built_book: Path, page: str):
    problems = error_outputs(page_file(built_book, page))
    assert not problems, f"{page}:\n" + "\n".join(problems)


@pytest.mark.parametrize("notebook", BOOK_NOTEBOOKS, ids=lambda p: p.name)
def test_no_stray_glued_values(notebook: Path):
    """A value glued into the prose is not also shown, unlabelled, under its cell."""
    problems = stray_glue_values(notebook)
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("notebook", BOOK_NOTEBOOKS, ids=lambda p: p.name)
def test_text_tables_fit_the_page(notebook: Path):
    """A table printed as text keeps its columns lined up: no aligned line wraps on the page."""
    problems = wide_text_tables(notebook)
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("notebook", BOOK_NOTEBOOKS, ids=lambda p: p.name)
def test_shown_code_lines_fit_the_page(notebook: Path):
    """Readers should not scroll code sideways: shown code lines stay within 100 characters."""
    problems = long_code_lines(notebook)
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)


def screenshot_folder(html_root: Path) -> Path:
    """``$RNN_BOOK_SCREENSHOTS`` if set, else ``screenshots/`` beside the build's ``html/``."""
    named = os.environ.get("RNN_BOOK_SCREENSHOTS")
    return Path(named).resolve() if named else html_root.parent / "screenshots"


@pytest.fixture(scope="module")
def browser_views(built_book: Path) -> dict[Path, PageView]:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    pytest.importorskip("playwright", reason="install the pinned requirements.txt (playwright)")
    files = [page_file(built_book, page) for page in PAGES]
    return view_pages(files, screenshot_folder(built_book), chromium)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_in_the_browser_offline(browser_views: dict[Path, PageView], page: str):
    file = next(f for f in browser_views if f.with_suffix("").as_posix().endswith(page))
    view = browser_views[file]
    problems = view_problems(view, expect_math=has_math(file))
    assert not problems, f"{page}:\n" + "\n".join(problems)
    assert view.screenshot is not None and view.screenshot.stat().st_size > 0


# --------------------------------------------------------------------------------------
# The checks fail on a broken page

BROKEN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<script>window.MathJax = {};</script>
<script src="https://cdn.example.invalid/mathjax/tex-mml-chtml.js"></script>
<script>console.error("something broke");</script>
</head><body><div class="bd-article" style="width: 500px">
<p>Inline <span class="math notranslate nohighlight">\\(h_t = \\tanh(x_t)\\)</span> never typeset.</p>
<img src="missing.png" alt="a figure that is not there">
<a href="other.html#no-such-anchor">a glossary term</a> <a href="gone.html">a citation</a>
<div class="cell_output docutils container">
<div class="output traceback highlight-ipythontb notranslate"><pre>Traceback (most recent call last):
ValueError: lookback must be positive</pre></div>
<div class="output stderr highlight-myst-ansi notranslate"><pre>RuntimeError: no data</pre></div>
</div>
<pre style="white-space: pre">{long_line}</pre>
</div></body></html>
"""


def write_broken_site(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "other.html").write_text('<html><body><p id="here">other</p></body></html>')
    page = folder / "broken.html"
    page.write_text(BROKEN_PAGE.replace("{long_line}", "x = " + "1 + " * 150 + "1"))
    return page


def test_checks_catch_a_broken_page(tmp_path: Path):
    page = write_broken_site(tmp_path / "site")
    assert missing_images(page) == ["missing.png"]
    assert [p.split(" ")[0] for p in broken_links(page)] == [
        "other.html#no-such-anchor",
        "gone.html",
    ]
    errors = error_outputs(page)
    assert len(errors) == 2 and errors[0].startswith("error output")
    assert errors[1].startswith("error on stderr")
    notebook = tmp_path / "long.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("y = 1\n" + "z = " + "1 + " * 30 + "1"),
        nbformat.v4.new_code_cell("w = " + "2 + " * 30 + "2", metadata={"tags": ["remove-input"]}),
    ]
    nbformat.write(nb, notebook)
    assert [p.split(" (")[0] for p in long_code_lines(notebook)] == ["code cell 1 line 2"]
    table = "  ".join(f"column {i}" for i in range(9))  # 88 characters, aligned
    prose = " ".join(["a sentence that may wrap"] * 4)  # 99 characters, single spaces
    nb.cells = [
        nbformat.v4.new_code_cell(
            "print(table)",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"{prose}\n{table}\n")],
        ),
        nbformat.v4.new_code_cell(
            "table",
            outputs=[
                nbformat.v4.new_output("execute_result", data={"text/plain": table}),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": table, "text/html": "<table/>"}
                ),
            ],
        ),
        nbformat.v4.new_code_cell(
            "print(table)",
            metadata={"tags": ["remove-output"]},
            outputs=[nbformat.v4.new_output("stream", name="stdout", text=table)],
        ),
    ]
    nbformat.write(nb, notebook)
    assert [p.split(" (")[0] for p in wide_text_tables(notebook)] == [
        "code cell 1 output line 2",
        "code cell 2 output line 1",
    ]
    shown = nbformat.v4.new_output("execute_result", data={"text/plain": "150.0"})
    nb.cells = [
        nbformat.v4.new_code_cell('x = 3\nglue_number("ratio", x / 2, 2)', outputs=[shown]),
        nbformat.v4.new_code_cell('_ = glue_number("ratio", 1.5, 2)', outputs=[]),
        nbformat.v4.new_code_cell("x / 2", outputs=[shown]),
        nbformat.v4.new_code_cell('report.glue("name", "text")', outputs=[shown]),
    ]
    nbformat.write(nb, notebook)
    assert stray_glue_values(notebook) == [
        "code cell 1 shows '150.0'",
        "code cell 4 shows '150.0'",
    ]


@pytest.mark.slow
def test_browser_checks_catch_a_broken_page(tmp_path: Path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    page = write_broken_site(tmp_path / "site")
    view = view_pages([page], tmp_path / "shots", chromium)[page]
    problems = view_problems(view, expect_math=True)
    kinds = {p.split(":")[0] for p in problems}
    assert "console error" in kinds  # console.error, the blocked script, the missing image
    assert view.network_requests == ["https://cdn.example.invalid/mathjax/tex-mml-chtml.js"]
    assert "math not typeset" in kinds and view.untypeset_math == 1
    assert "raw TeX in the text" in kinds
    assert view.broken_images == ["missing.png"]
    assert "scrolls sideways" in kinds and view.page_too_wide
    assert "output too narrow" in kinds and view.output_line_chars < MAX_TABLE_LINE
    assert (tmp_path / "shots" / "broken.png").stat().st_size > 0
