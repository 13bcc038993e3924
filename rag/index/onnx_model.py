"""Shipped ONNX models: the file checked against its manifest, then one Runtime session."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import ReaderError
from .store import file_sha256

log = logging.getLogger(__name__)


def session(path: Path, *, gpu: bool = False, threads: int | None = None):
    """An ONNX Runtime session on the CPU with `threads` (default up to 4) that sleep between
    runs.

    Sleeping rather than spinning: each ask runs several models in turn (the question's
    embedding, then the scorers), and spinning threads of one slowed the next (measured in
    `rag bench`: the embedding floor rose from 11.1 to 24.9 ms p50 beside a spinning reader).
    `gpu=True` runs it on CUDA (a cluster's GPU node) when this onnxruntime has it, and says so
    in the log when it must stay on the CPU.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = ["CPUExecutionProvider"]
    if gpu and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    elif gpu:
        log.warning(
            "no CUDA in this onnxruntime (install onnxruntime-gpu): %s runs on the CPU", path
        )
    return ort.InferenceSession(str(path), options, providers=providers)


def checked_session(path: Path, manifest_name: str, flag: str) -> tuple[Any, dict[str, Any]]:
    """(session, manifest) of the model at `path`, its SHA-256 checked against the manifest
    file `manifest_name` beside it; a missing or damaged file is a ReaderError that says how
    to export it again with `rag train FLAG`, never a silent fallback."""
    manifest_path = path.with_name(manifest_name)
    if not path.is_file() or not manifest_path.is_file():
        raise ReaderError(
            f"no {flag.lstrip('-')} model at {path} (with its {manifest_name}); export one with "
            f"`rag train {flag}` or reinstall the package"
        )
    manifest = json.loads(manifest_path.read_text())
    if file_sha256(path) != manifest.get("sha256"):
        raise ReaderError(
            f"{path} does not match the checksum in {manifest_name} (damaged or replaced); "
            f"export it again with `rag train {flag} --export-only` or reinstall the package"
        )
    # One thread: the reader runs one short pair at a time, and on 2 cores 5 pairs took 19.6 ms
    # with one thread against 24.4 ms with two, which spent the difference keeping in step.
    return session(path, threads=1), manifest
