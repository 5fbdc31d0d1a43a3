"""s2r_hf.outputs.plots: PNG histograms of pool vs subset, byte-identical for identical input."""

from __future__ import annotations

import struct
import sys
import zlib

import pytest

from s2r_hf.core.errors import InputError
from s2r_hf.outputs.plots import DIFFICULTY_PLOT, LENGTH_PLOT, plot_distributions

POOL_DIFFICULTY = [i / 40 for i in range(41)]
POOL_LENGTH = [100 + 37 * i for i in range(41)]
SUBSET_DIFFICULTY = POOL_DIFFICULTY[-5:]
SUBSET_LENGTH = POOL_LENGTH[-5:]


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk, checking the signature and each CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        chunks.append((kind, payload))
        offset += 12 + length
    return chunks


@pytest.fixture(scope="module")
def plots() -> dict[str, bytes]:
    return plot_distributions(POOL_DIFFICULTY, POOL_LENGTH, SUBSET_DIFFICULTY, SUBSET_LENGTH)


def test_two_valid_pngs_of_the_fixed_size_without_version_or_date(plots):
    assert sorted(plots) == sorted([DIFFICULTY_PLOT, LENGTH_PLOT])
    for data in plots.values():
        chunks = png_chunks(data)
        kinds = [kind for kind, _ in chunks]
        assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
        width, height = struct.unpack(">II", chunks[0][1][:8])
        assert (width, height) == (640, 400)  # 6.4 x 4.0 inches at 100 dpi
        assert b"tIME" not in kinds
        text = b"".join(payload for kind, payload in chunks if kind in (b"tEXt", b"iTXt", b"zTXt"))
        assert b"matplotlib" not in text.lower() and b"Software" not in text
    assert plots[DIFFICULTY_PLOT] != plots[LENGTH_PLOT]


def test_same_input_same_bytes_even_with_a_users_style(plots):
    import matplotlib

    with matplotlib.rc_context({"lines.linewidth": 9.0, "axes.facecolor": "black", "font.size": 20}):
        again = plot_distributions(POOL_DIFFICULTY, POOL_LENGTH, SUBSET_DIFFICULTY, SUBSET_LENGTH)
    assert again == plots


def test_different_input_gives_different_pictures(plots):
    other = plot_distributions(POOL_DIFFICULTY, POOL_LENGTH, POOL_DIFFICULTY[:5], POOL_LENGTH[:5])
    assert other[DIFFICULTY_PLOT] != plots[DIFFICULTY_PLOT]
    assert other[LENGTH_PLOT] != plots[LENGTH_PLOT]
    in_characters = plot_distributions(
        POOL_DIFFICULTY, POOL_LENGTH, SUBSET_DIFFICULTY, SUBSET_LENGTH, length_unit="characters"
    )
    assert in_characters[LENGTH_PLOT] != plots[LENGTH_PLOT]  # the axis label changed
    assert in_characters[DIFFICULTY_PLOT] == plots[DIFFICULTY_PLOT]


def test_missing_values_are_left_out(plots):
    with_gaps = plot_distributions(
        [*POOL_DIFFICULTY, None, float("nan")], [*POOL_LENGTH, None], SUBSET_DIFFICULTY, SUBSET_LENGTH
    )
    assert with_gaps == plots


def test_nothing_to_plot_is_an_error_that_names_the_argument():
    with pytest.raises(ValueError, match=r"subset_length has no finite values \(received 2 entries\)"):
        plot_distributions(POOL_DIFFICULTY, POOL_LENGTH, SUBSET_DIFFICULTY, [None, float("nan")])


def test_pyplot_is_left_alone():
    already = "matplotlib.pyplot" in sys.modules
    plot_distributions([0.1, 0.9], [10, 20], [0.9], [20])
    assert ("matplotlib.pyplot" in sys.modules) == already


def test_a_signal_the_pool_lacks_gets_no_plot(plots):
    only_length = plot_distributions(None, POOL_LENGTH, None, SUBSET_LENGTH)
    assert only_length == {LENGTH_PLOT: plots[LENGTH_PLOT]}
    with pytest.raises(ValueError, match="subset_difficulty is None"):
        plot_distributions(POOL_DIFFICULTY, POOL_LENGTH, None, SUBSET_LENGTH)
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_distributions(None, None, None, None)


def test_dataset_columns_and_arrays_are_accepted(plots):
    import numpy as np
    from datasets import Dataset

    pool = Dataset.from_dict({"d": POOL_DIFFICULTY, "n": POOL_LENGTH})
    subset = pool.select(range(len(POOL_LENGTH) - 5, len(POOL_LENGTH)))
    from_columns = plot_distributions(pool["d"], pool["n"], subset["d"], np.asarray(subset["n"]))
    assert from_columns == plots


def test_values_that_are_not_numbers_are_one_error_naming_them():
    with pytest.raises(InputError, match=r"pool_difficulty must hold numbers; got 'a' \(str\)"):
        plot_distributions(["a"], [1], [0.5], [1])
    with pytest.raises(InputError, match="pool_length must be a list or array of numbers, got int"):
        plot_distributions([0.5], 1, [0.5], [1])
