"""The Python calls a script's model card shows to make its training data again (provenance.python_call)."""

from __future__ import annotations

import pytest

from s2r_hf.training.provenance import data_record, new_record, python_call

SFT = {"max_length": 4096, "tokens_kept": 10}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (  # select() on a pool loaded from the Hub, the pool's tokens counted
            {"source": "org/pool", "kind": "hub", "config": "default", "split": "train[:10%]", "pool_tokens": 99}
            | {
                "selected_by": "s2r_hf.select",
                "selection": {"strategy": "joint", "ratio": 0.1, "k": None, "weight": 0.25},
            },
            "from s2r_hf import load_source, prepare_sft_dataset, select\n\n"
            "pool = load_source('org/pool', config='default', split='train[:10%]')\n"
            "train, report = prepare_sft_dataset(select(pool, ratio=0.1, weight=0.25), tokenizer, 4096, pool=pool)",
        ),
        (  # only the options the strategy uses: another would be refused by select
            {"source": "p.jsonl", "kind": "file", "selected_by": "s2r_hf.select"}
            | {"selection": {"strategy": "diverse", "k": 5, "weight": None, "seed": 3, "group_column": "topic"}},
            "from s2r_hf import load_source, prepare_sft_dataset, select\n\n"
            "pool = load_source('p.jsonl')\n"
            "train, report = prepare_sft_dataset(select(pool, k=5, strategy='diverse', seed=3, group_column='topic'), "
            "tokenizer, 4096)",
        ),
        (  # a token budget: counted with the student's tokenizer
            {"source": "p.jsonl", "kind": "file", "selected_by": "s2r_hf.select"}
            | {"selection": {"strategy": "joint", "ratio": None, "k": None, "weight": 0.25, "token_budget": 5000}},
            "from s2r_hf import load_source, prepare_sft_dataset, select\n\n"
            "pool = load_source('p.jsonl')\n"
            "train, report = prepare_sft_dataset(select(pool, token_budget=5000, tokenizer=tokenizer, weight=0.25), "
            "tokenizer, 4096)",
        ),
        (  # a subset folder, its selection read from its card
            {"source": "subset", "kind": "folder", "selected_by": "s2r select (the subset's card)"}
            | {"selection": {"strategy": "hardest"}},
            "from s2r_hf import load_source, prepare_sft_dataset\n\n"
            "train, report = prepare_sft_dataset(load_source('subset'), tokenizer, 4096)",
        ),
        (  # a Dataset built in the script: nothing invented
            {"source": None, "kind": "dataset"},
            "from s2r_hf import prepare_sft_dataset\n\n"
            "dataset = ...  # its source was not recorded\n"
            "train, report = prepare_sft_dataset(dataset, tokenizer, 4096)",
        ),
    ],
)
def test_the_python_call_of_each_kind_of_data(data, expected):
    record = data_record(
        source=data["source"],
        kind=data["kind"],
        config=data.get("config"),
        split=data.get("split"),
        selection=data.get("selection"),
        selected_by=data.get("selected_by"),
        sft_report=SFT,
        pool_tokens=data.get("pool_tokens"),
    )
    assert python_call(record) == expected


def test_a_training_record_written_before_the_two_token_names_is_read_with_them(tmp_path):
    import json

    from s2r_hf.core.records import token_counts
    from s2r_hf.training.provenance import PROVENANCE_FILE, read_provenance, write_model_card

    sft = {"max_length": 64, "rows_in": 4, "rows_kept": 3, "rows_removed": 1, "tokens_in": 190, "tokens_kept": 120,
           "tokens_removed": 70, "longest_kept": 50, "longest_removed": 70}  # fmt: skip
    data = data_record(source="s", kind="folder", selection=None, selected_by=None, sft_report=sft, pool_tokens=None)
    old = new_record(base_model="m", data=data, name="old", recipe={})
    old["data"]["tokens_trained"] = old["data"].pop("data_tokens")  # as versions before the two names wrote it
    old["status"] = "finished"
    old["training"] = {"steps": 2, "epochs": 1.0, "tokens": 80, "wall_seconds": 1.5, "tokens_per_second": 53.3,
                       "world_size": 1, "first_loss": 2.0, "last_loss": 1.0, "resumed_from_step": None}  # fmt: skip
    assert token_counts(old) == {"data_tokens": 120, "trained_tokens": 80}
    assert "tokens_trained" in old["data"]  # token_counts leaves the record as it is
    (tmp_path / PROVENANCE_FILE).write_text(json.dumps(old), encoding="utf-8")
    record = read_provenance(tmp_path)
    assert record["data"]["data_tokens"] == 120 and "tokens_trained" not in record["data"]
    assert record["training"]["trained_tokens"] == 80 and "tokens" not in record["training"]
    card = write_model_card(tmp_path, record).read_text(encoding="utf-8")
    assert "3 examples holding 120 tokens (tokens in the training data" in card
    assert "| 2 | 1.00 | 80 | 1.5 | 53.3 | 1 |" in card


def test_the_model_card_names_a_token_budget_selection(tmp_path):
    from s2r_hf.training.provenance import write_model_card

    sft = {"max_length": 64, "rows_in": 4, "rows_kept": 4, "rows_removed": 0, "tokens_in": 190, "tokens_kept": 190,
           "tokens_removed": 0, "longest_kept": 50, "longest_removed": None}  # fmt: skip
    selection = {"strategy": "random", "rows": 4, "pool_rows": 40, "ratio": None, "k": None, "weight": None,
                 "token_budget": 5000, "tokens_taken": 4990}  # fmt: skip
    data = data_record(source="s", kind="folder", selection=selection, selected_by="s2r select (the subset's card)",
                       sft_report=sft, pool_tokens=None)  # fmt: skip
    card = write_model_card(tmp_path, new_record(base_model="m", data=data, name="b", recipe={})).read_text()
    assert "strategy `random`, token budget 5,000: 4 of 40 pool rows." in card
