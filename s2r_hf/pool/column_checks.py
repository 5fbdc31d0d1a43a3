"""The checks an adapter runs on a source's columns before reading them, so that a bad column or row is one clear
error (naming the column, what it holds and the first bad rows) instead of a traceback from a `map` worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError
from s2r_hf.core.rows import arrow_column

if TYPE_CHECKING:
    from datasets import Dataset


def require_columns(dataset: Dataset, names: list[str], hint: str) -> None:
    missing = [name for name in names if name not in dataset.column_names]
    if missing:
        raise ColumnError(f"column(s) {missing} not in the pool; columns: {dataset.column_names}. {hint}")


def require_string_column(dataset: Dataset, name: str) -> None:
    import pyarrow as pa

    column_type = arrow_column(dataset, name).type
    if not (pa.types.is_string(column_type) or pa.types.is_large_string(column_type)):
        raise ColumnTypeError(
            f"column {name!r} must hold strings; got {column_type}. Convert it first (e.g. Dataset.cast_column)"
        )


def require_lists_of(dataset: Dataset, name: str, value: str) -> None:
    """A list column of `value`s ("string" or "bool"); null (whole rows, or a column of nulls) is allowed."""
    import pyarrow as pa

    column_type = arrow_column(dataset, name).type
    is_value = (
        pa.types.is_boolean if value == "bool" else (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t))
    )
    if pa.types.is_null(column_type) or (
        (pa.types.is_list(column_type) or pa.types.is_large_list(column_type))
        and (is_value(column_type.value_type) or pa.types.is_null(column_type.value_type))
    ):
        return
    raise ColumnTypeError(
        f"column {name!r} must hold lists of {value} as in OpenR1-Math-220k; got {column_type}. "
        "Use the generic adapter for other data"
    )


def require_non_empty_strings(dataset: Dataset, name: str, what: str) -> None:
    """Nulls and blank strings, with the first offending row numbers."""
    import numpy as np
    import pyarrow.compute as pc

    column = arrow_column(dataset, name)
    blank = pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0))
    bad_rows = np.flatnonzero(blank.to_numpy(zero_copy_only=False))
    if bad_rows.size:
        raise InputError(
            f"{bad_rows.size} rows have a null or empty {what} in column {name!r} (rows {bad_rows[:10].tolist()}"
            f"{', ...' if bad_rows.size > 10 else ''}); remove them first, e.g. with Dataset.filter"
        )


def require_id_column(dataset: Dataset, name: str) -> None:
    """An id column holds one non-null scalar per row (a null would become the id 'None', a list its repr)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = arrow_column(dataset, name)
    if pa.types.is_nested(column.type) or pa.types.is_null(column.type):
        raise ColumnTypeError(
            f"the id column {name!r} must hold one string or number per row; got {column.type}. Name another "
            "--id-column, or none to derive ids from the content"
        )
    if column.null_count:
        rows = np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))
        raise InputError(
            f"the id column {name!r} has {rows.size} null ids ({rows_listed(rows)}); fill them in, or name no "
            "--id-column to derive ids from the content"
        )


def require_unique_ids(dataset: Dataset, fix: str) -> None:
    import pyarrow.compute as pc

    ids = arrow_column(dataset, ID)
    if pc.count_distinct(ids).as_py() != len(ids):
        counts = pc.value_counts(ids)
        repeated = [item["values"] for item in counts.to_pylist() if item["counts"] > 1][:5]
        raise InputError(f"ids must be unique, but some repeat (e.g. {repeated}); {fix}")


def rows_listed(rows, limit: int = 10) -> str:
    rows = [int(row) for row in rows]
    return f"rows {rows[:limit]}{'...' if len(rows) > limit else ''}"


def validate_messages_column(dataset: Dataset) -> None:
    """Every conversation needs a user question and an assistant trace, with roles and contents that are not null.

    Checked on the Arrow column up front, so a bad row is one clear error instead of a traceback from a worker.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = arrow_column(dataset, MESSAGES)
    column_type = column.type
    if not (pa.types.is_list(column_type) or pa.types.is_large_list(column_type)) or not pa.types.is_struct(
        column_type.value_type
    ):
        raise ColumnTypeError(f"column {MESSAGES!r} must hold lists of {{role, content}}; got {column_type}")
    fields = {column_type.value_type.field(i).name for i in range(column_type.value_type.num_fields)}
    if not {"role", "content"} <= fields:
        raise ColumnTypeError(f"messages must have 'role' and 'content' fields; got {sorted(fields)}")
    for name in ("role", "content"):
        field_type = column_type.value_type.field(name).type
        if not (pa.types.is_string(field_type) or pa.types.is_large_string(field_type) or pa.types.is_null(field_type)):
            raise ColumnTypeError(
                f"the {name} of each message must be a string; column {MESSAGES!r} has {name} of type {field_type}. "
                "Flatten it to text first (e.g. with Dataset.map)"
            )
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    found: list[tuple[str, np.ndarray]] = []  # (what is wrong, row numbers)
    no_messages = np.flatnonzero(pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False) == 0)
    found.append(("no messages", no_messages))
    messages = pc.list_flatten(column)
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
    roles = pc.struct_field(messages, "role")
    content_null = pc.is_null(pc.struct_field(messages, "content")).to_numpy(zero_copy_only=False)
    found.append(("a message with a null role", np.unique(parents[pc.is_null(roles).to_numpy(zero_copy_only=False)])))
    for role, what in (("user", "the question"), ("assistant", "the trace")):
        positions = np.flatnonzero(pc.fill_null(pc.equal(roles, role), False).to_numpy(zero_copy_only=False))
        if role == "assistant":  # the trace is the last assistant turn, the question the first user turn
            positions = positions[::-1]
        rows_with_role, first = np.unique(parents[positions], return_index=True)
        found.append((f"no {role} turn", np.setdiff1d(np.arange(len(column)), np.union1d(rows_with_role, no_messages))))
        found.append((f"a null {role} content ({what})", rows_with_role[content_null[positions[first]]]))
    found = [(what, rows) for what, rows in found if rows.size]
    if found:
        bad = np.unique(np.concatenate([rows for _, rows in found])).size
        details = "; ".join(f"{rows_listed(rows)}: {what}" for what, rows in found)
        raise InputError(
            f"column {MESSAGES!r} has {bad} unusable rows of {len(column)} ({details}). Every conversation needs a "
            "user question and an assistant trace: fix or remove those rows first, e.g. with Dataset.filter"
        )
