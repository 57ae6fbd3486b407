"""Writing through a temporary path: the target is replaced whole on success and untouched on
failure, and the temporary never outlives its writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.files import atomic_path, remove_stale


@pytest.mark.parametrize("durable", [True, False])
def test_a_path_written_through_replaces_the_target_whole(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "state.bin"
    target.write_bytes(b"old")
    with atomic_path(target, durable=durable) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # readers see the old file until the rename
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]


def test_a_failed_write_leaves_the_target_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.bin"
    target.write_bytes(b"old")
    with pytest.raises(OSError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise OSError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]


def test_stale_temporaries_go_and_a_live_writers_stays(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "state.bin") as live:
        live.write_bytes(b"writing")
        gone = tmp_path / ".state.bin.tmp-999999999-0badc0de"  # no such process
        gone.write_bytes(b"left by a killed writer")
        assert remove_stale(tmp_path) == [gone]
        assert live.exists()
    assert (tmp_path / "state.bin").read_bytes() == b"writing"
