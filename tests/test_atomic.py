"""Atomic writes: an interrupted write leaves no file and no temporary behind."""

from __future__ import annotations

import pytest

from pattools.io.atomic import atomic_writer, write_atomic


def test_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "shard.cbor"
    with pytest.raises(KeyboardInterrupt):
        with atomic_writer(target) as stream:
            stream.write(b"partial")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_interrupted_rewrite_keeps_the_old_file(tmp_path):
    target = tmp_path / "manifest.json"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as stream:
            stream.write(b"new but incomplete")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_successful_write(tmp_path):
    write_atomic(tmp_path / "a", b"data")
    assert (tmp_path / "a").read_bytes() == b"data"
