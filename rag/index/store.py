"""Save and load the index directory: plain files, a manifest with checksums, atomic swaps."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..errors import IndexCorruptError
from ..settings import DEFAULT_INDEX

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"  # names the generation folder in use; replaced atomically
LOCK = ".lock"
# Arrays this large are memory-mapped, not read: a query touches a few dozen rows of the sentence
# vectors, so at 1M passages 1.6 GB stays on disk (in the page cache) instead of in the process.
# A generation's files never change once written, and a mapping outlives their removal.
MMAP_FROM_BYTES = 1 << 20


@dataclass
class StoredIndex:
    """The files of one index generation, by name: JSON documents, numpy arrays, faiss indexes."""

    manifest: dict[str, Any]
    documents: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    vectors: dict[str, faiss.Index] = field(default_factory=dict)


def cache_root() -> Path:
    """Where indexes of other corpora live: the user's cache, never the corpus folder."""
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rag-news")


def index_for(corpus: str | os.PathLike[str] | None, index: str | None = None) -> Path:
    """The index folder: `index` when given, index/ for the bundled corpus (None), else a folder
    in the user's cache keyed by the corpus path, so that a corpus folder is never written to."""
    if index:
        return Path(index)
    if corpus is None:
        return DEFAULT_INDEX
    digest = hashlib.sha256(os.path.abspath(corpus).encode()).hexdigest()[:16]
    return cache_root() / digest


def fingerprint(parts: dict[str, Any]) -> str:
    """A stable hash of everything the index depends on (corpus, model, settings, versions)."""
    blob = json.dumps({"format": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index directory; a second builder waits for the first."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save(index_dir: str | os.PathLike[str], stored: StoredIndex, *, switch: bool = True) -> Path:
    """Write a new generation next to the current one, then switch CURRENT to it atomically.

    A crash at any point leaves the previous generation in use. `switch=False` only writes the
    generation (a shard, which its cluster's manifest names; see `rag.index.shards`).
    """
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        checksums: dict[str, str] = {}
        for name, document in stored.documents.items():
            _write(
                tmp / f"{name}.json", json.dumps(document, ensure_ascii=False).encode(), checksums
            )
        for name, array in stored.arrays.items():
            path = tmp / f"{name}.npy"
            np.save(path, array, allow_pickle=False)
            checksums[path.name] = file_sha256(path)
        for name, index in stored.vectors.items():
            path = tmp / f"{name}.faiss"
            faiss.write_index(index, str(path))
            checksums[path.name] = file_sha256(path)
        manifest = {**stored.manifest, "format_version": FORMAT_VERSION, "files": checksums}
        _write(tmp / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode(), {})
        _fsync_dir(tmp)
        generation = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        os.rename(tmp, root / generation)
        if not switch:
            _fsync_dir(root)
            return root / generation
        pointer = root / f".{CURRENT}.{uuid.uuid4().hex}"
        pointer.write_text(generation + "\n")
        os.replace(pointer, root / CURRENT)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    remove_stale(root, keep={generation})
    return root / generation


def read_manifest(
    index_dir: str | os.PathLike[str], generation: str | None = None
) -> dict[str, Any] | None:
    """The manifest of the current generation (or of `generation`), None when none is readable."""
    root = Path(index_dir)
    folder = _current(root) if generation is None else _generation(root, generation)
    try:
        return json.loads((folder / MANIFEST).read_text()) if folder else None
    except (OSError, ValueError):
        return None


def load(
    index_dir: str | os.PathLike[str],
    parts: Collection[str] | None = None,
    *,
    generation: str | None = None,
) -> StoredIndex:
    """Read and verify the current generation; IndexCorruptError on any missing or altered file.

    `parts` names the files (without suffix) to read; the others are verified, not read.
    `generation` reads that generation instead of the current one.
    """
    root = Path(index_dir)
    folder = _current(root) if generation is None else _generation(root, generation)
    if folder is None:
        which = "no index" if generation is None else f"no generation {generation!r}"
        raise IndexCorruptError(f"{which} in {str(root)!r}")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"unreadable manifest in {str(folder)!r}: {exc}") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}"
        )
    stored = StoredIndex(manifest)
    for name, expected in files.items():
        path = folder / name
        if not path.is_file() or file_sha256(path) != expected:
            raise IndexCorruptError(f"{str(path)!r} is missing or fails its checksum")
        stem, suffix = name.rsplit(".", 1)
        if parts is not None and stem not in parts:
            continue
        try:
            if suffix == "json":
                stored.documents[stem] = json.loads(path.read_text())
            elif suffix == "npy":
                mapped = "r" if path.stat().st_size >= MMAP_FROM_BYTES else None
                stored.arrays[stem] = np.load(path, mmap_mode=mapped, allow_pickle=False)
            elif suffix == "faiss":
                stored.vectors[stem] = faiss.read_index(str(path))
        except (OSError, ValueError, RuntimeError) as exc:
            raise IndexCorruptError(f"{str(path)!r} cannot be read: {exc}") from exc
    return stored


def current_generation(index_dir: str | os.PathLike[str]) -> str | None:
    """The name of the generation in use, or None when there is none."""
    folder = _current(Path(index_dir))
    return None if folder is None else folder.name


def _current(root: Path) -> Path | None:
    try:
        name = (root / CURRENT).read_text().strip()
    except OSError:
        return None
    return _generation(root, name)


def _generation(root: Path, name: str) -> Path | None:
    folder = root / name
    # Only ever a sibling folder; anything else is tampering or damage.
    if not name or "/" in name or name.startswith(".") or not folder.is_dir():
        return None
    return folder


def remove_stale(root: str | os.PathLike[str], keep: Collection[str]) -> None:
    """Remove every generation and half-written folder in `root` but those in `keep`."""
    for entry in Path(root).iterdir():
        if entry.is_dir() and entry.name not in keep and entry.name.startswith(("gen-", ".tmp-")):
            shutil.rmtree(entry, ignore_errors=True)


def _write(path: Path, data: bytes, checksums: dict[str, str]) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    checksums[path.name] = hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
