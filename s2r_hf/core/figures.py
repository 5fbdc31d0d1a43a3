"""PNG figures whose bytes depend on what is drawn alone: the one setup of every plot s2r writes.

A card's plots are pushed to the Hub with the folder; republishing an unchanged folder must upload identical bytes,
so the Hub sees no change. Three things would make them differ between runs or machines, and are fixed here:
- the style: matplotlib's default, whatever the user's matplotlibrc or an earlier `plt.style.use` says;
- the backend: an Agg canvas of our own figure, never pyplot (no global state, no display needed, no window);
- the metadata: no "Software: matplotlib version ..." text chunk (Agg writes no creation date).

    with new_figure(figsize=(6.4, 4.0), dpi=100) as figure:
        axes = figure.subplots()
        ...
        png = png_bytes(figure)  # inside the block: saving reads the style too
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from s2r_hf.core.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@contextlib.contextmanager
def new_figure(figsize: tuple[float, float], dpi: int) -> Iterator[Figure]:
    """A figure on its own Agg canvas, drawn and saved in matplotlib's default style while the block runs."""
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.style.context("default"):
        figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(figure)
        yield figure


def png_bytes(figure: Figure, text: Mapping[str, str] | None = None) -> bytes:
    """The figure as PNG bytes at its own dpi, with no software version in them; `text` adds tEXt chunks (keys and
    Latin-1 values: put JSON there with ensure_ascii=True)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, metadata={"Software": None, **(text or {})})
    return buffer.getvalue()


def read_chart_text(png: bytes | str | os.PathLike, key: str, *, drawn_by: str, give: str) -> str:
    """The text chunk `key` of a chart (its PNG bytes, or the file) drawn by `drawn_by` (a command, for messages);
    InputError naming what to give instead (`give`) when it is no file, no PNG, or holds no such chunk."""
    if not isinstance(png, bytes):
        if not Path(png).is_file():
            raise InputError(f"{str(png)!r} is not a file; give {give}")
        png = Path(png).read_bytes()
    try:
        text = read_png_text(png)
    except ValueError as err:
        raise InputError(f"{err}; give {give}") from err
    if key not in text:
        raise InputError(f"this PNG holds no {key!r} text; it was not drawn by `{drawn_by}`")
    return text[key]


def read_png_text(png: bytes) -> dict[str, str]:
    """The tEXt chunks of PNG bytes (what `png_bytes` was given as `text`); ValueError when they are no PNG."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(png)) as image:
            return dict(getattr(image, "text", {}) or {})
    except UnidentifiedImageError as err:
        raise ValueError(f"not a PNG image ({err})") from err
