"""The ONNX Runtime embedder: sentence-transformers' vectors, a checked export, no torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from rag.index import embed
from rag.index.embed import Embedder, packaged_model_path

from ..conftest import CORPUS, ROOT

TEXTS = [
    "How much did Xinjiang live-streaming sales grow?",
    "During the first half of this year, Xinjiang witnessed a remarkable 56 percent surge.",
    "",
    "新疆直播电商 " * 200,  # past the 256-token limit, cut as sentence-transformers cuts it
]


def test_vectors_equal_sentence_transformers(embedder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(packaged_model_path()), device="cpu").encode(
        TEXTS, normalize_embeddings=True, convert_to_numpy=True
    )
    np.testing.assert_allclose(embedder.encode(TEXTS), reference, atol=1e-5)


def test_questions_run_in_int8_close_to_the_passage_vectors(embedder) -> None:
    lines = (CORPUS / "gold_qa.jsonl").read_text().splitlines()
    asked = [json.loads(line)["question"] for line in lines]
    questions, exact = embedder.encode_questions(asked), embedder.encode(asked)
    np.testing.assert_allclose(np.linalg.norm(questions, axis=1), 1.0, atol=1e-5)
    assert (questions * exact).sum(axis=1).min() > 0.9  # measured: 0.96 at worst
    # A question gets the same vector alone as in a batch (ask and ask_many agree).
    np.testing.assert_array_equal(embedder.encode_questions(asked[3:4])[0], questions[3])


def test_a_damaged_export_is_made_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    first = Embedder()
    expected = first.encode(TEXTS[:2])
    (folder,) = (tmp_path / "embedder").iterdir()
    for name in (embed.QUESTION_FILE, embed.PASSAGE_FILE):
        model = folder / name
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
        again = Embedder()  # checks the question graph at once, the passage graph when used
        np.testing.assert_allclose(again.encode(TEXTS[:2]), expected, atol=1e-6)
        files = json.loads((folder / "manifest.json").read_text())["files"]
        assert files[name] == embed.file_sha256(model)


def test_an_export_of_other_weights_is_made_again(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "export"
    made = []

    def export(model_dir, export_dir):
        made.append(export_dir)
        export_dir.mkdir(parents=True, exist_ok=True)
        files = {}
        for name in (embed.PASSAGE_FILE, embed.QUESTION_FILE):
            (export_dir / name).write_bytes(b"onnx")
            files[name] = embed.file_sha256(export_dir / name)
        manifest = {"files": files, "source": embed.source_fingerprint(model_dir)}
        (export_dir / "manifest.json").write_text(json.dumps(manifest))

    monkeypatch.setattr(embed, "export_embedder", export)
    source = packaged_model_path()
    embed.ensure_export(source, folder, embed.QUESTION_FILE)
    embed.ensure_export(source, folder, embed.PASSAGE_FILE)
    assert len(made) == 1  # whole and current: used as it is
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["source"]["mtime_ns"] += 1  # the weights were replaced since
    (folder / "manifest.json").write_text(json.dumps(manifest))
    embed.ensure_export(source, folder, embed.QUESTION_FILE)
    (folder / "manifest.json").write_text("{not json")
    embed.ensure_export(source, folder, embed.QUESTION_FILE)
    assert len(made) == 3


def test_answering_imports_neither_torch_nor_sentence_transformers(embedder, tmp_path) -> None:
    # `embedder` made the export; building an index and answering must not need torch, and
    # without a cluster address Ray is never imported.
    code = f"""
import sys
from rag.cli import main
assert main(["ask", "How much did Xinjiang live-streaming sales grow?", "--corpus", {str(CORPUS)!r},
             "--index", {str(tmp_path / "index")!r}]) == 0
import rag
rag.Assistant.from_corpus({str(CORPUS)!r}, {str(tmp_path / "index")!r}).ask("Who is JD?")
loaded = {{m.split(".")[0] for m in sys.modules}}
heavy = sorted(loaded & {{"torch", "sentence_transformers", "transformers", "ray"}})
print("heavy:", heavy)
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "56 percent" in out.stdout
    assert "heavy: []" in out.stdout
