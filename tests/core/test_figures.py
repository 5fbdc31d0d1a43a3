"""The one PNG setup (s2r_hf.core.figures): the bytes depend on what is drawn alone, whatever the user's style, and
pyplot's global state is never touched."""

from __future__ import annotations

import subprocess
import sys
import zlib

from fixtures.env import REPO_ROOT

from s2r_hf.core.figures import new_figure, png_bytes


def draw(text: dict[str, str] | None = None) -> bytes:
    with new_figure((4.0, 3.0), 80) as figure:
        axes = figure.subplots()
        axes.plot([0, 1, 2, 3], [0.1, 0.7, 0.4, 0.9], label="a line")
        axes.hist([0.1, 0.2, 0.2, 0.5, 0.9], bins=4)
        axes.set_title("a title")
        axes.legend()
        return png_bytes(figure, text)


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """The PNG's (type, data) chunks, their CRCs checked."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    found, at = [], 8
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        assert int.from_bytes(png[at + 8 + length : at + 12 + length], "big") == zlib.crc32(kind + data)
        found.append((kind, data))
        at += 12 + length
    return found


def test_the_same_drawing_gives_the_same_bytes_twice():
    first, second = draw(), draw()
    assert first == second
    ihdr = dict(chunks(first))[b"IHDR"]
    assert (int.from_bytes(ihdr[:4], "big"), int.from_bytes(ihdr[4:8], "big")) == (320, 240)  # 4x3 inches at 80 dpi


def test_no_software_version_and_no_date_only_the_text_asked_for():
    text_chunks = [data for kind, data in chunks(draw({"s2r-points": '[{"x": 1}]'})) if kind in (b"tEXt", b"iTXt")]
    assert text_chunks == [b's2r-points\x00[{"x": 1}]']
    assert not [kind for kind, _ in chunks(draw()) if kind in (b"tEXt", b"iTXt", b"tIME")]


def test_the_bytes_do_not_depend_on_the_users_style_or_pyplot():
    """A process whose matplotlibrc style is changed (and which uses pyplot) draws the same bytes; pyplot keeps no
    figure of ours."""
    code = f"""
import sys
sys.path.insert(0, {str(REPO_ROOT)!r})
sys.path.insert(0, {str(REPO_ROOT / "tests")!r})
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.style.use("ggplot")
matplotlib.rcParams["savefig.dpi"] = 300
matplotlib.rcParams["lines.linewidth"] = 7
from core.test_figures import draw
png = draw()
assert plt.get_fignums() == [], plt.get_fignums()
sys.stdout.buffer.write(png)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout == draw()
