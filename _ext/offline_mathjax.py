"""Serve MathJax from the built site, so pages typeset their math with no network.

Sphinx loads MathJax 3 from a CDN by default; offline, every page with math shows raw TeX.
The pinned ``django-static-mathjax`` package ships MathJax 3.2.2's ``es5/`` build (import
name ``mathjax``). When it is installed this extension copies that folder into the built
site as ``_static/mathjax/`` and points ``mathjax_path`` at it. Without the package, or
when ``mathjax_path`` was set by hand, the configured (CDN) address is left as it is.

The copy goes straight into the output folder: a MathJax under the book's own ``_static/``
would be added to every page a second time by jupyter-book's automatic asset loading.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.ext.mathjax import MATHJAX_URL
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

logger = logging.getLogger(__name__)

#: where the copy lands, relative to the site's ``_static/`` folder
TARGET = "mathjax"
ENTRY = "tex-mml-chtml.js"
#: ``mathjax_path`` of the local copy (a relative path is served from ``_static/``)
LOCAL_PATH = f"{TARGET}/{ENTRY}"


def packaged_mathjax() -> Path | None:
    """The ``es5/`` folder of the installed django-static-mathjax package, or None."""
    try:
        import mathjax  # django-static-mathjax
    except ImportError:
        return None
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    return es5 if (es5 / ENTRY).is_file() else None


def use_local_mathjax(app: Sphinx, config: Config) -> None:
    """Point ``mathjax_path`` at the local copy when there is one to copy."""
    es5 = packaged_mathjax()
    if es5 is None:
        logger.info("offline_mathjax: django-static-mathjax not installed; MathJax from the CDN")
        return
    if config.mathjax_path == MATHJAX_URL:  # not set by hand
        config.mathjax_path = LOCAL_PATH


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """After an HTML build, copy MathJax's es5/ folder to ``_static/mathjax/``."""
    if exception is not None or app.builder.format != "html":
        return
    es5 = packaged_mathjax()
    if es5 is None or app.config.mathjax_path != LOCAL_PATH:
        return
    target = Path(app.outdir) / "_static" / TARGET
    copy_asset(str(es5), str(target))
    # MathJax is Apache-2.0: its licence travels with the copy.
    copy_asset(str(es5.parent / "LICENSE"), str(target))


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", use_local_mathjax)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
