"""The latest checkpoint is found by its file name: one file read however many there are,
that one trusted only if its signature matches and its name is its contents'."""

import builtins
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

from agency.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    file_name,
    latest_checkpoint,
    store_checkpoint,
)

KEY = b"test-audit-key-" + b"k" * 17
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _checkpoint(sequence: int, minutes: int) -> Checkpoint:
    at = START + dt.timedelta(minutes=minutes, microseconds=sequence)
    return Checkpoint(
        sequence=sequence,
        count=sequence,
        hash=f"{sequence:064x}",
        keyed_from=1,
        at=at.isoformat(timespec="microseconds"),
    ).signed(KEY)


@pytest.fixture
def opened(monkeypatch, tmp_path):
    """The files under tmp_path opened (through open() or pathlib) while the test runs."""
    paths: list[str] = []
    real_open = io.open

    def counting(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(file, str | os.PathLike) and str(file).startswith(str(tmp_path)):
            paths.append(Path(file).name)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting)
    monkeypatch.setattr(builtins, "open", counting)
    return paths


def test_the_latest_of_hundreds_of_checkpoints_is_read_alone(tmp_path, opened):
    for sequence in range(1, 401):
        store_checkpoint(tmp_path, _checkpoint(sequence, minutes=sequence))
    # The same head checkpointed again later (no new entries): the later one is the latest.
    again = _checkpoint(400, minutes=500)
    store_checkpoint(tmp_path, again)
    opened.clear()
    latest = latest_checkpoint(tmp_path, KEY)
    assert latest == again
    assert opened == [file_name(again)]


def test_a_higher_sequence_is_later_than_a_later_time(tmp_path, opened):
    # As before: the order is (sequence, written at), and names sort that way.
    highest = _checkpoint(1_000, minutes=1)
    store_checkpoint(tmp_path, highest)
    store_checkpoint(tmp_path, _checkpoint(999, minutes=60))
    store_checkpoint(tmp_path, _checkpoint(99, minutes=120))  # fewer digits, padded
    assert latest_checkpoint(tmp_path, KEY) == highest
    assert len(opened) == 1


def test_a_forged_newest_checkpoint_is_refused_not_passed_over(tmp_path):
    store_checkpoint(tmp_path, _checkpoint(5, minutes=1))
    newest = store_checkpoint(tmp_path, _checkpoint(9, minutes=2))
    forged = json.loads(newest.read_text())
    forged["hash"] = "0" * 64
    newest.write_text(json.dumps(forged))
    # Falling back to sequence 5 would let whoever spoiled it hide entries 6-9 being deleted.
    with pytest.raises(CheckpointError, match="signature"):
        latest_checkpoint(tmp_path, KEY)


def test_an_older_checkpoint_renamed_as_the_newest_is_refused(tmp_path):
    old = store_checkpoint(tmp_path, _checkpoint(5, minutes=1))
    store_checkpoint(tmp_path, _checkpoint(9, minutes=2))
    renamed = tmp_path / file_name(_checkpoint(12, minutes=3))
    renamed.write_text(old.read_text())  # a genuine signature, under a newer name
    with pytest.raises(CheckpointError, match="renamed"):
        latest_checkpoint(tmp_path, KEY)


def test_older_files_are_not_read(tmp_path, opened):
    older = store_checkpoint(tmp_path, _checkpoint(5, minutes=1))
    older.write_text("not json")
    newest = _checkpoint(9, minutes=2)
    store_checkpoint(tmp_path, newest)
    opened.clear()
    assert latest_checkpoint(tmp_path, KEY) == newest
    assert opened == [file_name(newest)]


def test_a_file_with_the_prefix_but_no_checkpoint_name_is_refused(tmp_path):
    store_checkpoint(tmp_path, _checkpoint(5, minutes=1))
    (tmp_path / "audit-checkpoint-latest.json").write_text("{}")
    with pytest.raises(CheckpointError, match="not a checkpoint's file name"):
        latest_checkpoint(tmp_path, KEY)


def test_no_directory_or_no_checkpoint_is_none(tmp_path):
    assert latest_checkpoint(tmp_path / "missing", KEY) is None
    (tmp_path / ".tmp-half-written.json").write_text("{")  # a write in progress
    (tmp_path / "notes.txt").write_text("shipped nightly")
    assert latest_checkpoint(tmp_path, KEY) is None
