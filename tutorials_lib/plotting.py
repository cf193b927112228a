"""One house style for every figure in the book.

Every figure says what it shows: :func:`label` refuses a missing title or axis label,
so units cannot be forgotten.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["COLORS", "HOUSE_STYLE", "label", "new_axes", "use_house_style"]

#: Colours with fixed meanings across chapters.
COLORS = {
    "actual": "#222222",
    "model": "#1f77b4",
    "baseline": "#d62728",
    "train": "#7f7f7f",
    "test": "#ff7f0e",
    "validation": "#2ca02c",
    "accent": "#9467bd",
}

HOUSE_STYLE = {
    "figure.figsize": (7.0, 3.2),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "image.cmap": "viridis",
}


def use_house_style() -> None:
    """Apply :data:`HOUSE_STYLE` to matplotlib's global settings."""
    mpl.rcParams.update(HOUSE_STYLE)


def label(ax: plt.Axes, title: str, xlabel: str, ylabel: str) -> plt.Axes:
    """Set the title and axis labels (with units); raise ValueError if any is empty."""
    for name, text in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"every figure needs a {name}; got {text!r}")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def new_axes(title: str, xlabel: str, ylabel: str, figsize=None) -> plt.Axes:
    """Create a one-panel figure in the house style, already labelled."""
    use_house_style()
    fig, ax = plt.subplots(figsize=figsize)
    label(ax, title, xlabel, ylabel)
    fig.set_layout_engine("constrained")
    return ax
