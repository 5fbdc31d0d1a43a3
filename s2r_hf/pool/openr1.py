"""The OpenR1-Math-220k adapter (`openr1`).

Mode `problem`: one row per problem with its verified trace (the `messages` column), id `uuid`. Mode `generations`:
one row per Math-Verify-correct generation, exact duplicates within a problem removed, id `uuid#index`. The card's
schema allows a null `uuid`, null flag lists and flag lists shorter than `generations`: a row without a uuid is named
by a hash of question and trace (20 hex digits, never a UUID's form), and two such rows with the same content are one
example, kept once.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

from s2r_hf.core.columns import ANSWER, GENERATION_INDEX, ID, MESSAGES
from s2r_hf.core.errors import InputError
from s2r_hf.core.rows import arrow_column, make_messages, question_of, trace_of
from s2r_hf.pool.adapter_base import (
    DUPLICATE,
    INCOMPLETE,
    KEEP,
    NO_ANSWER,
    NOT_VERIFIED,
    REASONS_COLUMN,
    TRUNCATED,
    PoolAdapter,
    PoolReport,
    content_id,
    has_final_answer,
    keep_rows,
    log_report,
    repeats,
    require_rows_left,
)
from s2r_hf.pool.column_checks import (
    require_columns,
    require_lists_of,
    require_non_empty_strings,
    require_string_column,
    require_unique_ids,
    validate_messages_column,
)

if TYPE_CHECKING:
    from datasets import Dataset

_CONTENT_ID_COLUMN = "_s2r_content_id"  # temporary: the id was derived from the content (no uuid)


def _generation_verdicts(row: dict[str, Any], only_verified: bool) -> list[str]:
    """One verdict per generation: KEEP or the reason it cannot be trained on.

    The flag lists can be null or shorter than `generations` (the card's data has both): a flag that is not there is
    no evidence either way, except that a generation counts as verified only when a flag says so.
    """
    verdicts, seen = [], set()
    complete = row["is_reasoning_complete"] or []
    finish = row["finish_reasons"] or []
    correct = row["correctness_math_verify"] or []
    for index, text in enumerate(row["generations"] or []):
        if index < len(complete) and complete[index] is False:
            verdicts.append(INCOMPLETE)
        # A missing finish reason is no evidence of truncation; an explicit other one ("length") is.
        elif index < len(finish) and finish[index] not in (None, "stop"):
            verdicts.append(TRUNCATED)
        elif not text or not has_final_answer(text):
            verdicts.append(NO_ANSWER)
        elif only_verified and not (index < len(correct) and correct[index]):
            verdicts.append(NOT_VERIFIED)
        elif text in seen:
            verdicts.append(DUPLICATE)
        else:
            verdicts.append(KEEP)
        seen.add(text)
    return verdicts


def _has_uuid(uuid: Any) -> bool:
    return uuid is not None and str(uuid).strip() != ""


def _openr1_problem_batch(batch: dict[str, list]) -> dict[str, list]:
    reasons, ids, content_ids, answers = [], [], [], []
    for index in range(len(batch["problem"])):
        row = {key: values[index] for key, values in batch.items()}
        trace = trace_of(row[MESSAGES])
        # The verified trace is one of the generations; its flags say whether it was complete.
        generations = row["generations"] or []
        verdict = KEEP if has_final_answer(trace) else NO_ANSWER
        if trace in generations and verdict == KEEP:
            verdict = _generation_verdicts(row, only_verified=False)[generations.index(trace)]
        reasons.append(verdict)
        # The card allows a null uuid: such a row is named by its content (question and trace), never 'None'.
        content_ids.append(not _has_uuid(row["uuid"]))
        ids.append(content_id(question_of(row[MESSAGES]), trace) if content_ids[-1] else str(row["uuid"]))
        answers.append(None if row["answer"] is None else str(row["answer"]))
    return {REASONS_COLUMN: reasons, ID: ids, _CONTENT_ID_COLUMN: content_ids, ANSWER: answers}


def _openr1_verdicts_batch(batch: dict[str, list]) -> dict[str, list]:
    rows = ({key: values[index] for key, values in batch.items()} for index in range(len(batch["problem"])))
    return {REASONS_COLUMN: [_generation_verdicts(row, only_verified=True) for row in rows]}


def _openr1_expand_batch(batch: dict[str, list]) -> dict[str, list]:
    """One output row per kept generation; every original column is repeated for it."""
    out: dict[str, list] = {key: [] for key in batch if key != REASONS_COLUMN}
    out.update({ID: [], ANSWER: [], GENERATION_INDEX: [], _CONTENT_ID_COLUMN: []})
    for index, verdicts in enumerate(batch[REASONS_COLUMN]):
        for generation, verdict in enumerate(verdicts):
            if verdict != KEEP:
                continue
            for key in batch:
                if key not in (REASONS_COLUMN, MESSAGES):
                    out[key].append(batch[key][index])
            problem, text = batch["problem"][index], batch["generations"][index][generation]
            out[MESSAGES].append(make_messages(problem, text))
            uuid = batch["uuid"][index]
            # Without a uuid, the id comes from the problem and this generation's text: stable whatever the order
            # of the generations, and the same example gets the same id in problem mode.
            out[_CONTENT_ID_COLUMN].append(not _has_uuid(uuid))
            out[ID].append(content_id(problem, text) if out[_CONTENT_ID_COLUMN][-1] else f"{uuid}#{generation}")
            answer = batch["answer"][index]
            out[ANSWER].append(None if answer is None else str(answer))
            out[GENERATION_INDEX].append(generation)
    return out


class OpenR1Adapter(PoolAdapter):
    """OpenR1-Math-220k (`open-r1/OpenR1-Math-220k`, configs default / extended / all).

    Rows with a null uuid get a content id (see `content_id`); two of them with the same content are one example,
    kept once and counted as a duplicate trace.
    """

    name = "openr1"
    MODES = ("problem", "generations")
    REQUIRED = (
        "problem",
        "answer",
        "uuid",
        "generations",
        "is_reasoning_complete",
        "finish_reasons",
        "correctness_math_verify",
        MESSAGES,
    )
    LIST_COLUMNS: ClassVar[dict[str, str]] = {
        "generations": "string",
        "is_reasoning_complete": "bool",
        "finish_reasons": "string",
        "correctness_math_verify": "bool",
    }

    def __init__(self, mode: str = "problem"):
        if mode not in self.MODES:
            raise InputError(f"unknown OpenR1 mode {mode!r}; choose one of {list(self.MODES)}")
        self.mode = mode

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        import pyarrow.compute as pc

        require_columns(dataset, list(self.REQUIRED), "Is this OpenR1-Math-220k? Use the generic adapter otherwise")
        for name, value in self.LIST_COLUMNS.items():
            require_lists_of(dataset, name, value)
        rows_in = len(dataset)
        if self.mode == "problem":
            validate_messages_column(dataset)  # the verified trace is read from it
            scored = dataset.map(_openr1_problem_batch, batched=True, num_proc=num_proc, desc="OpenR1 verified traces")
            verdicts = arrow_column(scored, REASONS_COLUMN).to_numpy(zero_copy_only=False).astype(object)
            content = arrow_column(scored, _CONTENT_ID_COLUMN).to_numpy(zero_copy_only=False)
            ids = arrow_column(scored, ID).to_numpy(zero_copy_only=False)
            verdicts[repeats(ids, (verdicts == KEEP) & content)] = DUPLICATE
            counts = Counter(verdicts.tolist())
            pool = keep_rows(scored, verdicts == KEEP)
        else:
            require_string_column(dataset, "problem")
            require_non_empty_strings(dataset, "problem", "problem")  # it becomes the user turn
            scored = dataset.map(_openr1_verdicts_batch, batched=True, num_proc=num_proc, desc="OpenR1 generations")
            verdicts = pc.list_flatten(arrow_column(scored, REASONS_COLUMN))
            counts = Counter({item["values"]: item["counts"] for item in pc.value_counts(verdicts).to_pylist()})
            pool = scored.map(
                _openr1_expand_batch,
                batched=True,
                num_proc=num_proc,
                remove_columns=scored.column_names,
                desc="One row per verified generation",
            )
            content = arrow_column(pool, _CONTENT_ID_COLUMN).to_numpy(zero_copy_only=False)
            repeated = repeats(arrow_column(pool, ID).to_numpy(zero_copy_only=False), content)
            counts[DUPLICATE] += int(repeated.sum())
            pool = keep_rows(pool, ~repeated)
        counts.pop(KEEP, None)
        counts = +counts  # drop reasons counted zero times
        pool = pool.remove_columns([c for c in (REASONS_COLUMN, _CONTENT_ID_COLUMN) if c in pool.column_names])
        require_rows_left(len(pool), rows_in, counts)
        require_unique_ids(pool, "some rows share a uuid: keep one of each first, e.g. with Dataset.filter")
        report = PoolReport(self.name, self.mode, rows_in, len(pool), dict(sorted(counts.items())), {"mode": self.mode})
        log_report(report)
        return pool, report
