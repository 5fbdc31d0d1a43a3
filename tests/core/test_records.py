"""The one JSON record reader (s2r_hf.core.records.read_json_object): each way a record can be wrong is named, with
the file and the fix, in one line."""

from __future__ import annotations

import pytest

from s2r_hf.core.errors import InputError, SourceNotFoundError
from s2r_hf.core.records import read_json_object

FIX = "remove it, or choose another output_dir"
WHAT = "an s2r training record"


def read(path, **kwargs):
    return read_json_object(path, what=WHAT, fix=FIX, **kwargs)


def test_a_json_object_is_returned_as_it_is(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"kind": "s2r_training", "status": "running", "n": [1, 2]}')
    assert read(path, kind=("kind", "s2r_training")) == {"kind": "s2r_training", "status": "running", "n": [1, 2]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is not an s2r training record: it is not JSON (Expecting value: line 1 column 1 (char 0))"),
        (b'{"kind": "s2r_tra', "is not an s2r training record: it is not JSON (Unterminated string"),
        (b"\xff\xfe{}", "is not an s2r training record: it is not UTF-8 text (invalid start byte)"),
        (b"[1, 2]", "is not an s2r training record: it holds a JSON array, not an object"),
        (b'"text"', "is not an s2r training record: it holds a JSON string, not an object"),
        (b"null", "is not an s2r training record: it holds a JSON null, not an object"),
        (b"3.5", "is not an s2r training record: it holds a JSON number, not an object"),
        (b'{"kind": "s2r_judge"}', "is not an s2r training record ('kind' is 's2r_judge', expected 's2r_training')"),
        (b'{"status": "running"}', "is not an s2r training record (it has no 'kind', expected 's2r_training')"),
    ],
)
def test_each_way_a_record_is_wrong_is_named_with_the_file_and_the_fix(tmp_path, content, expected):
    path = tmp_path / "s2r_training.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read(path, kind=("kind", "s2r_training"))
    message = str(caught.value)
    assert message.startswith(f"{str(path)!r} {expected}"), message
    assert message.endswith(f"; {FIX}") and "\n" not in message


def test_a_missing_file_and_a_folder_are_named(tmp_path):
    with pytest.raises(SourceNotFoundError) as caught:
        read(tmp_path / "nowhere.json")
    assert str(caught.value) == f"{str(tmp_path / 'nowhere.json')!r} does not exist (expected {WHAT} there); {FIX}"
    assert isinstance(caught.value, FileNotFoundError)  # what a Python caller would catch
    (tmp_path / "a-folder.json").mkdir()
    with pytest.raises(InputError, match=r"a-folder.json' is a folder, not an s2r training record \(a JSON file\)"):
        read(tmp_path / "a-folder.json")


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "r.json"
    path.write_text("{}")

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # root reads every file: a chmod would not stop it
    with pytest.raises(InputError, match=rf"'{path}' cannot be read \(Permission denied\); {FIX}"):
        read(path)


def test_the_domain_readers_speak_through_it(tmp_path):
    """The training record (read_provenance, and read_training_record on top of it) and the experiment record: a
    truncated file is refused in the one reader's words."""
    from s2r_hf.experiment.steps import read_experiment_record
    from s2r_hf.training.provenance import read_provenance
    from s2r_hf.training.publish import read_training_record

    (tmp_path / "s2r_training.json").write_text('{"kind": "s2r_training", "status"')
    for reader in (read_provenance, read_training_record):
        with pytest.raises(InputError, match=r"s2r_training.json' is not an s2r training record: it is not JSON"):
            reader(tmp_path)
    (tmp_path / "s2r_training.json").write_text('{"kind": "s2r_training", "status": "finished"}')
    assert read_training_record(tmp_path) == read_provenance(tmp_path) == {"kind": "s2r_training", "status": "finished"}
    (tmp_path / "experiment.json").write_text('{"format": "s2r-evaluation/1"}')
    with pytest.raises(InputError, match=r"not an experiment record \('format' is 's2r-evaluation/1', expected"):
        read_experiment_record(tmp_path / "experiment.json", "run it first")
