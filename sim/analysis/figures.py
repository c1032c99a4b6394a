"""Figures as plain Matplotlib ``Figure`` objects, leaving the caller's Matplotlib as it was.

A notebook's backend and settings belong to the analyst: ``matplotlib.use`` or a
write to ``rcParams`` would switch an inline backend off or restyle every later
figure. So figures here are built with ``matplotlib.figure.Figure`` (no pyplot:
nothing registered with a figure manager, nothing to close), styled inside
``matplotlib.rc_context`` (restored on exit), and the bundled CJK font is then
pinned on every text of the figure, so it renders the same later, inside or
outside any context (in Jupyter, or when ``savefig`` is called by the caller).

Matplotlib's own fonts have no Chinese glyphs, so :func:`cjk_font` registers
the package's own subset of Noto Sans CJK SC (:func:`sim.resources.cjk_font_path`),
which renders on a fresh install without any system font.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.analysis.kpi import display_width

P = ParamSpec("P")

#: Paul Tol's colour-blind-safe colours for the verdicts, and black for the baseline.
GAIN, UNCLEAR, LOSS, BASE, ACCENT = "#228833", "#999999", "#cc3311", "#000000", "#4477aa"

_FONT_NAME: str | None = None


def cjk_font() -> str:
    """Register the bundled CJK font with Matplotlib's font manager (once) and return its family name."""
    global _FONT_NAME
    if _FONT_NAME is None:
        from matplotlib import font_manager

        from sim.resources import cjk_font_path

        path = cjk_font_path()
        font_manager.fontManager.addfont(path)  # adds a font; changes no setting
        _FONT_NAME = font_manager.FontProperties(fname=path).get_name()
    return _FONT_NAME


def families() -> list[str]:
    """Font families of every text: the CJK font first, DejaVu Sans for any glyph it lacks."""
    return [cjk_font(), "DejaVu Sans"]


@contextmanager
def style() -> Iterator[None]:
    """Temporary settings for building and saving a figure; the caller's rcParams are restored on exit."""
    with matplotlib.rc_context({"font.family": families(), "font.size": 9.0, "axes.titlesize": 10.0,
                                "axes.grid": False, "savefig.facecolor": "white"}):
        yield


def pin_fonts(fig: Figure) -> Figure:
    """Set the CJK font on every text of ``fig`` so that it no longer depends on rcParams.

    ``findobj`` also creates the axes' lazy tick labels; ticks made later copy
    the first tick's font, so the whole figure keeps the font.
    """
    fam = families()
    for t in fig.findobj(Text):
        t.set_fontfamily(fam)
    return fig


def figure_builder(fn: Callable[P, Figure]) -> Callable[P, Figure]:
    """Decorator: build the figure inside :func:`style` and pin its fonts."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with style():
            return pin_fonts(fn(*args, **kwargs))

    return wrapper


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1, *, sharex: bool | str = False,
               sharey: bool | str = False) -> tuple[Figure, np.ndarray]:
    """A ``Figure`` (constrained layout, so labels do not overlap) and its 2-D array of axes."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex, sharey=sharey)  # type: ignore[arg-type]
    return fig, axes


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> None:
    """Write ``fig`` as a PNG with the report's settings (PNG whatever the suffix: temporary files have none)."""
    with style():
        fig.savefig(path, dpi=dpi, format="png")


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """``fig`` as PNG bytes."""
    import io

    buf = io.BytesIO()
    with style():
        fig.savefig(buf, dpi=dpi, format="png")
    return buf.getvalue()


_TOKENS = re.compile(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+|\s+")


def wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` terminal columns (a Chinese character takes two).

    Latin words are kept whole; Chinese may break between any two characters.
    """
    lines: list[str] = []
    line = ""
    for tok in _TOKENS.findall(text):
        if tok.isspace():
            line += " " if line else ""
            continue
        if line and display_width(line.rstrip()) + display_width(tok) > width:
            lines.append(line.rstrip())
            line = ""
        line += tok
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def short_labels(full: dict[str, str], lang: str, width: int = 34) -> dict[str, str]:
    """Labels for figures: the part of each name before its first colon when that alone tells them apart, wrapped.

    "(4) Intermediaries and IP: brokers, …" becomes "(4) Intermediaries and IP";
    names that share their prefix (the equal-budget variants) keep the whole
    name, broken after the colon.
    """
    parts = {k: n.replace("\uff1a", ":").split(":", 1) for k, n in full.items()}
    heads = [p[0].strip() for p in parts.values()]
    out = {}
    for k, p in parts.items():
        if len(p) == 2 and heads.count(p[0].strip()) == 1:
            out[k] = wrap(p[0].strip(), width)
        elif len(p) == 2:  # a shared prefix: break after the colon, where the reader expects it
            colon = "\uff1a" if lang == "zh" else ":"
            out[k] = wrap(p[0].strip() + colon, width) + "\n" + wrap(p[1].strip(), width)
        else:
            out[k] = wrap(full[k], width)
    return out


def dot_rows(ax: Axes, mean: np.ndarray, lo: np.ndarray, hi: np.ndarray, colors: list[str]) -> None:
    """One dot with its interval per row, row 0 at the top."""
    for y, (m, a, b, col) in enumerate(zip(mean, lo, hi, colors, strict=True)):
        if not np.isfinite(m):
            continue
        if np.isfinite(a) and np.isfinite(b):
            ax.plot([a, b], [y, y], color=col, lw=1.6, solid_capstyle="butt")
        ax.plot([m], [y], "o", color=col, ms=5)
    ax.set_ylim(len(mean) - 0.5, -0.5)
    ax.grid(alpha=0.3, axis="x")
