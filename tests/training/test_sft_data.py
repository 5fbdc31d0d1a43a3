"""prepare_sft_dataset: over-long examples removed (never truncated), measured in the tokens TRL's trainer sees."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from datasets import Dataset, DatasetDict
from transformers import AutoTokenizer

from s2r_hf import prepare_sft_dataset, select
from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, ModelError, OptionTypeError
from s2r_hf.core.folders import load_dataset_folder
from s2r_hf.training.sft_data import command_line_words

MAX_LENGTH = 3000


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)


@pytest.fixture(scope="module")
def scored_pool(real_subset_dir):
    return load_dataset_folder(real_subset_dir.parent / "limo-scored")


def lengths_one_by_one(tokenizer, conversations):
    """The template rendered to text, then encoded without special tokens: what TRL's tokenization amounts to."""
    return [
        len(tokenizer(tokenizer.apply_chat_template(list(m), tokenize=False), add_special_tokens=False).input_ids)
        for m in conversations
    ]


def test_composes_with_select_in_one_line_and_reads_a_subset_folder_the_same(
    scored_pool, real_subset_dir, tokenizer, caplog
):
    with caplog.at_level(logging.INFO, logger="s2r_hf.training.sft_data"):
        train, report = prepare_sft_dataset(select(scored_pool, ratio=0.1, strategy="hardest"), tokenizer, MAX_LENGTH)
    from_folder, folder_report = prepare_sft_dataset(real_subset_dir, tokenizer, MAX_LENGTH)

    subset = load_dataset_folder(real_subset_dir)
    lengths = lengths_one_by_one(tokenizer, subset[MESSAGES])
    keep = [index for index, length in enumerate(lengths) if length <= MAX_LENGTH]
    assert train.column_names == [MESSAGES]
    assert train[MESSAGES] == subset.select(keep)[MESSAGES] == from_folder[MESSAGES]  # best-first order kept
    assert report == folder_report
    assert (report.rows_in, report.rows_kept, report.rows_removed) == (29, len(keep), 29 - len(keep))
    assert report.tokens_kept == sum(lengths[index] for index in keep)
    assert report.tokens_removed == sum(lengths) - report.tokens_kept
    assert report.longest_kept == max(lengths[index] for index in keep) <= MAX_LENGTH
    assert report.longest_removed == max(lengths)
    assert f"removed {29 - len(keep)} longer than {MAX_LENGTH} tokens ({report.tokens_removed} tokens)" in caplog.text


def test_the_report_says_where_the_rows_came_from_for_the_training_card(scored_pool, real_subset_dir, tokenizer):
    from s2r_hf import SelectionReportCallback

    pool_dir = str(real_subset_dir.parent / "limo-scored")
    subset = select(scored_pool, ratio=0.1, strategy="hardest").map(lambda row: row)  # a later map keeps it
    _, selected = prepare_sft_dataset(subset, tokenizer, MAX_LENGTH, pool=scored_pool)
    assert (selected.source["name"], selected.source["kind"], selected.selected_by) == (
        pool_dir,
        "folder",
        "s2r_hf.select",
    )
    assert (selected.selection["strategy"], selected.selection["rows"], selected.selection["pool"]) == (
        "hardest",
        29,
        pool_dir,
    )
    lengths = tokenizer.apply_chat_template([list(m) for m in scored_pool[MESSAGES]], return_dict=True)["input_ids"]
    assert selected.pool_tokens == sum(len(ids) for ids in lengths)

    _, from_folder = prepare_sft_dataset(real_subset_dir, tokenizer, MAX_LENGTH)  # a subset folder: its card says
    assert (from_folder.source["name"], from_folder.selected_by) == (
        str(real_subset_dir),
        "s2r select (the subset's card)",
    )
    assert (from_folder.selection["strategy"], from_folder.selection["rows"], from_folder.pool_tokens) == (
        "hardest",
        29,
        None,
    )
    record = SelectionReportCallback.from_reports(from_folder).record
    assert record["python_call"].endswith(
        f"train, report = prepare_sft_dataset(load_source({str(real_subset_dir)!r}), tokenizer, {MAX_LENGTH})"
    )
    assert record["data"]["pool_tokens_note"] == "pass pool=POOL to prepare_sft_dataset to count its tokens"
    # Naming the source it was loaded from changes nothing; another name is the user's, and said as given.
    assert SelectionReportCallback.from_reports(from_folder, source=str(real_subset_dir)).record == record
    renamed = SelectionReportCallback.from_reports(from_folder, source="limo hardest").record["data"]
    assert (renamed["source"], renamed["kind"]) == ("limo hardest", "given")


def test_keep_columns_and_the_boundary_is_inclusive(tokenizer):
    rows = [
        {MESSAGES: [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], ID: str(i)}
        for i, (question, answer) in enumerate([("1+1?", "2"), ("What is two plus two?", "It is 4, so 4.")])
    ]
    lengths = lengths_one_by_one(tokenizer, [row[MESSAGES] for row in rows])
    assert lengths[0] < lengths[1]
    kept, report = prepare_sft_dataset(Dataset.from_list(rows), tokenizer, lengths[1], keep_columns=[ID])
    assert kept.column_names == [MESSAGES, ID] and kept[ID] == ["0", "1"] and report.rows_removed == 0
    kept, report = prepare_sft_dataset(Dataset.from_list(rows), tokenizer, lengths[1] - 1)
    assert kept.column_names == [MESSAGES] and len(kept) == 1 and report.longest_removed == lengths[1]


def test_a_published_subset_id(hub, real_subset_dir, tokenizer):
    from s2r_hf import publish_subset

    publish_subset(real_subset_dir, "s2r/limo-hardest10")
    train, report = prepare_sft_dataset("s2r/limo-hardest10", tokenizer, MAX_LENGTH)
    local, _ = prepare_sft_dataset(real_subset_dir, tokenizer, MAX_LENGTH)
    assert train[MESSAGES] == local[MESSAGES] and report.rows_in == 29


@pytest.mark.parametrize(
    ("dataset", "kwargs", "error", "message"),
    [
        (Dataset.from_dict({"text": ["a"]}), {}, ColumnError, "has no 'messages' column (columns: ['text'])"),
        (Dataset.from_dict({MESSAGES: ["a"]}), {}, ColumnTypeError, "must hold lists of {'role', 'content'} turns"),
        (DatasetDict(), {}, OptionTypeError, "pick one split"),
        (None, {"max_length": 0}, InputError, "max_length must be at least 1 token, got 0"),
        (None, {"max_length": "4096"}, OptionTypeError, "max_length must be an integer number of tokens"),
        (None, {"keep_columns": ["score"]}, ColumnError, "keep_columns names ['score'] which the dataset lacks"),
        (None, {"max_length": 5}, InputError, "every one of the 1 examples is longer than max_length=5 tokens"),
    ],
)
def test_bad_input(tokenizer, dataset, kwargs, error, message):
    one = Dataset.from_list([{MESSAGES: [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}]}])
    with pytest.raises(error, match=None) as caught:
        prepare_sft_dataset(one if dataset is None else dataset, tokenizer, **{"max_length": 100, **kwargs})
    assert message in str(caught.value)


def test_a_tokenizer_without_a_chat_template_is_told_in_python_words(tokenizer):
    one = Dataset.from_list([{MESSAGES: [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}]}])
    bare = AutoTokenizer.from_pretrained(tokenizer.name_or_path)
    bare.chat_template = None
    with pytest.raises(ModelError, match=r"has no chat template.*set tokenizer\.chat_template") as caught:
        prepare_sft_dataset(one, bare, 100)
    assert "--" not in str(caught.value)
    with command_line_words(), pytest.raises(ModelError, match=r"has no chat template.*--chat_template_path"):
        prepare_sft_dataset(one, bare, 100)  # what s2r train says, within its own calls


def test_keep_columns_given_as_one_name_is_that_column(tokenizer):
    rows = [{MESSAGES: [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}], ID: "row-7"}]
    kept, _ = prepare_sft_dataset(Dataset.from_list(rows), tokenizer, 100, keep_columns=ID)
    assert kept.column_names == [MESSAGES, ID] and kept[ID] == ["row-7"]  # not the columns 's', '2', 'r', '_', ...


def test_max_length_may_be_a_numpy_integer(tokenizer):
    one = Dataset.from_list([{MESSAGES: [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}]}])
    length = lengths_one_by_one(tokenizer, one[MESSAGES])[0]
    kept, report = prepare_sft_dataset(one, tokenizer, np.int64(length))
    assert len(kept) == 1 and report.max_length == length and type(report.max_length) is int
    with pytest.raises(InputError, match=f"longer than max_length={length - 1} tokens"):
        prepare_sft_dataset(one, tokenizer, np.int32(length - 1))
    with pytest.raises(OptionTypeError, match="max_length must be an integer number of tokens, got True"):
        prepare_sft_dataset(one, tokenizer, True)


def test_no_tokenizer_is_named_in_python_words():
    one = Dataset.from_list([{MESSAGES: [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}]}])
    with pytest.raises(OptionTypeError) as caught:
        prepare_sft_dataset(one, None, 100)
    message = str(caught.value)
    assert message.startswith("tokenizer must be a transformers tokenizer with a chat template, got None")
    assert "AutoTokenizer.from_pretrained(MODEL)" in message and "--" not in message


@pytest.mark.slow
def test_selection_on_the_fly_and_a_named_pool_count_the_whole_pool(scored_pool, real_subset_dir, tiny_model_dir):
    from s2r_hf.training.sft import load_tokenizer, load_training_data, parse_train_args

    conversations = [list(messages) for messages in scored_pool[MESSAGES]]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    pool_tokens = sum(len(ids) for ids in tokenizer.apply_chat_template(conversations, return_dict=True)["input_ids"])
    base = ["--config", "tiny-cpu", "--model_name_or_path", str(tiny_model_dir), "--output_dir", "unused"]
    base += ["--max_length", str(MAX_LENGTH)]
    on_the_fly = [*base, "--dataset_name", str(real_subset_dir.parent / "limo-scored")]
    on_the_fly += ["--selection_strategy", "hardest", "--selection_ratio", "0.1"]
    named_pool = [*base, "--dataset_name", str(real_subset_dir), "--pool_dataset", str(real_subset_dir.parent)]
    named_pool[-1] += "/limo-scored"
    records = []
    for argv in (on_the_fly, named_pool):
        script_args, training_args, model_args = parse_train_args(argv)
        tokenizer, template = load_tokenizer(model_args, training_args)
        _, data = load_training_data(script_args, training_args, tokenizer, template)
        records.append(data)
        assert data["pool_tokens"] == pool_tokens
        assert data["token_share"] == pytest.approx(data["sft"]["tokens_kept"] / pool_tokens)
    assert records[0]["selection"]["rows"] == records[1]["selection"]["rows"] == 29
    assert records[0]["selected_by"] == "s2r train (on the fly)"
    assert records[0]["sft"] == records[1]["sft"]
