"""The Python calls a script's model card shows to make its training data again (provenance.python_call)."""

from __future__ import annotations

import pytest

from s2r_hf.training.provenance import data_record, python_call

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
