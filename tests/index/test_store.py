"""Index directory: round trip, checksums, atomic generations, locking."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.errors import IndexCorruptError
from rag.index.store import (
    CURRENT,
    MMAP_FROM_BYTES,
    StoredIndex,
    fingerprint,
    load,
    read_manifest,
    save,
)


def sample() -> StoredIndex:
    vectors = faiss.IndexFlatIP(4)
    vectors.add(np.eye(4, dtype=np.float32))
    return StoredIndex(
        manifest={"fingerprint": "abc"},
        documents={"articles": [{"doc_id": "a", "text": "Zürich 新疆"}]},
        arrays={"sentences": np.arange(6, dtype=np.int64).reshape(2, 3)},
        vectors={"passages": vectors},
    )


def test_round_trip(tmp_path: Path) -> None:
    save(tmp_path, sample())
    stored = load(tmp_path)
    assert stored.manifest["fingerprint"] == "abc"
    assert stored.documents["articles"][0]["text"] == "Zürich 新疆"
    np.testing.assert_array_equal(stored.arrays["sentences"], sample().arrays["sentences"])
    assert stored.vectors["passages"].ntotal == 4
    assert set(read_manifest(tmp_path)["files"]) == {
        "articles.json", "sentences.npy", "passages.faiss"
    }


def test_new_generation_replaces_old_and_cleans_up(tmp_path: Path) -> None:
    first = save(tmp_path, sample())
    second = save(tmp_path, sample())
    assert not first.exists() and second.exists()
    assert (tmp_path / CURRENT).read_text().strip() == second.name


def test_crash_before_switch_leaves_previous_index(tmp_path: Path, monkeypatch) -> None:
    save(tmp_path, sample())
    broken = sample()
    broken.arrays["bad"] = np.array([object()])  # np.save without pickle refuses it mid-write
    with pytest.raises(ValueError):
        save(tmp_path, broken)
    assert load(tmp_path).manifest["fingerprint"] == "abc"
    assert not list(tmp_path.glob(".tmp-*"))


@pytest.mark.parametrize("victim", ["articles.json", "sentences.npy", "passages.faiss"])
def test_corrupted_or_missing_file_is_detected(tmp_path: Path, victim: str) -> None:
    folder = save(tmp_path, sample())
    path = folder / victim
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(IndexCorruptError, match=victim):
        load(tmp_path)
    path.unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        load(tmp_path)


def test_other_format_version_and_no_index(tmp_path: Path) -> None:
    with pytest.raises(IndexCorruptError, match="no index"):
        load(tmp_path)
    folder = save(tmp_path, sample())
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 999
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="format"):
        load(tmp_path)


def test_fingerprint_is_stable_and_sensitive() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_large_arrays_are_memory_mapped_read_only(tmp_path: Path) -> None:
    big = np.arange(MMAP_FROM_BYTES // 8 + 1, dtype=np.int64)
    save(tmp_path, StoredIndex({"fingerprint": "x"}, arrays={"big": big, "small": big[:10]}))
    stored = load(tmp_path)
    assert isinstance(stored.arrays["big"], np.memmap) and not stored.arrays["big"].flags.writeable
    assert not isinstance(stored.arrays["small"], np.memmap)
    np.testing.assert_array_equal(stored.arrays["big"], big)
    save(tmp_path, StoredIndex({"fingerprint": "y"}, arrays={"big": big[::-1].copy()}))
    assert stored.arrays["big"][-1] == big[-1]  # the old mapping outlives its generation


def test_load_reads_only_the_parts_asked_for_but_verifies_all(tmp_path: Path) -> None:
    arrays = {"keys": np.arange(3), "other": np.arange(4)}
    save(tmp_path, StoredIndex({"fingerprint": "x"}, documents={"doc": [1]}, arrays=arrays))
    stored = load(tmp_path, ("keys",))
    assert set(stored.arrays) == {"keys"} and stored.documents == {}
    generation = tmp_path / (tmp_path / CURRENT).read_text().strip()
    (generation / "other.npy").write_bytes(b"damaged")
    with pytest.raises(IndexCorruptError, match="other.npy"):
        load(tmp_path, ("keys",))
