"""Page furniture: the book's stylesheet, and each inline script on a page only once.

The stylesheet lives in ``_ext/static/``, not in the book's ``_static/`` (jupyter-book adds
every ``*.css``/``*.js`` found under ``_static/`` to every page by itself).

Some extensions register their inline configuration scripts twice (sphinx-thebe's
``const THEBE_JS_URL = ...``); a ``const`` declared twice is a console error on every page,
so repeated scripts are dropped when the page is written.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).resolve().parent / "static"
STYLESHEET = "rnn-book.css"


def add_static_folder(app: Sphinx) -> None:
    """Serve ``_ext/static/`` from the site's ``_static/`` folder."""
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def drop_repeated_scripts(app: Sphinx, pagename, templatename, context: dict, doctree) -> None:
    """Keep the first of several identical ``<script>`` entries (same source, same body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set = set()
    unique = []
    for script in scripts:
        key = (str(script.filename or ""), tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_static_folder)
    app.add_css_file(STYLESHEET)
    # after the handlers that add page scripts (MathJax's among them)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
