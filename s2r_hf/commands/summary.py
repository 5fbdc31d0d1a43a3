"""Plain-text summary tables printed at the end of a command (the CLI's output, not the library's)."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    line = "  ".join("-" * width for width in widths)
    out = ["  ".join(header.ljust(width) for header, width in zip(headers, widths)), line]
    out.extend("  ".join(value.ljust(width) for value, width in zip(row, widths)) for row in cells)
    return "\n".join(out)


def column_stats(dataset, name: str) -> str:
    """'mean (min-max)' of a numeric column, for summaries."""
    import pyarrow.compute as pc

    from s2r_hf.core.rows import arrow_column

    column = arrow_column(dataset, name)
    low_high = pc.min_max(column).as_py()
    return f"{pc.mean(column).as_py():.3g} ({low_high['min']:.3g}-{low_high['max']:.3g})"
