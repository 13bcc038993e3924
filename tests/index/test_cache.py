"""The embedding and token cache: a rebuild embeds and tokenizes only texts it has not seen."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.assistant import Assistant
from rag.index.cache import Previous, content_keys, release
from rag.index.store import CURRENT
from rag.ingest.text import TOKENIZER, tokenize
from rag.ingest.tokens import TokenTable, spans

from ..conftest import FakeEmbedder

NEW_ARTICLE = """Hainan duty-free sales climb

HAIKOU, March 3 (Xinhua) -- Offshore duty-free sales in Hainan reached 43.7 billion yuan last
year, up 25 percent, the provincial commerce department said on Monday.

Cosmetics made up nearly half of the sales. Shoppers from the mainland accounted for most of
the purchases, the department said.
"""


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every text it was asked to encode."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, *, progress: bool = False) -> np.ndarray:
        self.seen += list(texts)
        return super().encode(texts, progress=progress)


def _all_vectors(assistant: Assistant) -> np.ndarray:
    index = assistant.index.dense.faiss_index
    return np.vstack([index.reconstruct_n(0, index.ntotal), assistant.index.sentence_vectors])


def test_content_keys_are_equal_exactly_for_equal_texts() -> None:
    keys = content_keys(["a", "b", "a", "", "\ud800 lone surrogate"])
    assert keys.shape == (5, 16) and keys.dtype == np.uint8
    assert bytes(keys[0]) == bytes(keys[2]) != bytes(keys[1])
    assert content_keys([]).shape == (0, 16)


def test_token_table_rows_and_reuse() -> None:
    rows = [("sale", "grow"), (), ("sale", "56%", "56"), ("新",), ("$6.3", "6.3")]
    table = TokenTable.build(rows)
    assert [table[i] for i in range(len(table))] == rows
    assert table.ids.dtype == np.int32 and table.lengths().tolist() == [2, 0, 3, 1, 2]
    assert list(table.words) == ["sale", "grow", "56%", "56", "新", "$6.3", "6.3"]
    # Rows 0 and 2 copied from the old table, the others tokenized; words no row uses go.
    fresh = {1: ["plum"], 3: []}
    again = TokenTable.assemble(4, table, np.array([2, -1, 0, -1]), lambda i: fresh[i])
    assert [again[i] for i in range(4)] == [("sale", "56%", "56"), ("plum",), ("sale", "grow"), ()]
    assert list(again.words) == ["sale", "grow", "56%", "56", "plum"]
    assert TokenTable.build([]).ids.size == 0 and len(TokenTable.build([])) == 0
    assert spans(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]


def _previous_with(texts: list[str], vectors: np.ndarray) -> Previous:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors[:1])  # the first text as a passage, the others as sentences
    return Previous(content_keys(texts), 1, index, vectors[1:].astype(np.float16))


def test_embed_encodes_each_unseen_text_once() -> None:
    embedder = CountingEmbedder()
    known = embedder.encode(["old passage", "old text"])
    embedder.seen.clear()
    previous = _previous_with(["old passage", "old text"], known)
    texts = ["old text", "new text", "old passage", "new text", "other"]
    assert previous.find(content_keys(texts)).tolist() == [1, -1, 0, -1, -1]
    vectors, encoded = previous.embed(texts, content_keys(texts), embedder.encode, 64)
    assert embedder.seen == ["new text", "other"] and encoded == 2
    np.testing.assert_allclose(vectors, FakeEmbedder().encode(texts), atol=1e-3)
    half, _ = previous.embed(texts, content_keys(texts), embedder.encode, 64, dtype=np.float16)
    assert half.dtype == np.float16 and np.allclose(half, vectors, atol=1e-3)
    nothing, encoded = Previous.none().embed(texts, content_keys(texts), embedder.encode, 64)
    assert encoded == 4 and np.allclose(nothing, vectors, atol=1e-3)
    sentences_only = previous.for_sentences()
    assert sentences_only.dense is None and sentences_only.passages == 0
    assert sentences_only.find(content_keys(texts)).tolist() == [0, -1, -1, -1, -1]


def test_release_keeps_a_mapped_array_readable(tmp_path: Path) -> None:
    values = np.arange(300_000, dtype=np.float32).reshape(-1, 3)
    np.save(tmp_path / "a.npy", values)
    mapped = np.load(tmp_path / "a.npy", mmap_mode="r")
    copied = mapped[[5, 99_999]]
    release(mapped)
    release(copied)  # not mapped: nothing to drop
    np.testing.assert_array_equal(mapped, values)
    np.testing.assert_array_equal(copied, values[[5, 99_999]])


def test_adding_an_article_embeds_and_tokenizes_only_its_texts(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = CountingEmbedder()
    index = tmp_path / "index"
    before = Assistant.from_corpus(corpus_copy, index, embedder=embedder)
    first = set(embedder.seen)
    assert before.build_report.encoded == len(first) and before.build_report.reused == 0

    (corpus_copy / "900_hainan.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    embedder.seen.clear()
    tokenized: list[str] = []
    monkeypatch.setattr(
        "rag.index.cache.tokenize", lambda text: tokenized.append(text) or tokenize(text)
    )
    after = Assistant.from_corpus(corpus_copy, index, embedder=embedder)

    report = after.build_report
    assert report.rebuilt and report.encoded == len(set(embedder.seen)) > 0
    assert report.reused + report.encoded == len(after.index.passages) + len(after.index.sentences)
    # Only the new article's passages (its title first) and sentences were embedded.
    hainan = next(a for a in after.articles if a.doc_id == "900_hainan")
    assert all(text in hainan.text or text.startswith(hainan.title) for text in embedder.seen)
    sentences = {
        after.index.sentence_text(sid): int(doc)
        for sid, doc in enumerate(after.index.sentences[:, 0])
    }
    new = after.articles.index(hainan)
    assert {text for text, doc in sentences.items() if doc == new} <= set(tokenized)
    assert not {text for text, doc in sentences.items() if doc != new} & set(tokenized)
    assert "reused" in "\n".join(report.lines())

    # Bit for bit what a build from scratch gives.
    scratch = Assistant.from_corpus(corpus_copy, None, embedder=FakeEmbedder())
    np.testing.assert_array_equal(_all_vectors(after), _all_vectors(scratch))
    rows = len(scratch.index.tokens)
    assert [after.index.tokens[i] for i in range(rows)] == [
        scratch.index.tokens[i] for i in range(rows)
    ]
    assert (
        after.index.sparse.scores("Hainan duty-free sales").tolist()
        == scratch.index.sparse.scores("Hainan duty-free sales").tolist()
    )
    answer = after.ask("How much were Hainan duty-free sales last year?")
    assert answer.evidence[0].doc_id == "900_hainan"
    forced = Assistant.from_corpus(corpus_copy, index, embedder=embedder, rebuild=True)
    assert forced.build_report.reused == 0  # a rebuild asked for starts from nothing


def test_reuse_only_from_the_same_model_and_tokenizer(corpus_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    built = Assistant.from_corpus(corpus_copy, index, embedder=FakeEmbedder())
    texts = len(built.index.passages) + len(built.index.sentences)
    model = FakeEmbedder.identity

    same = Previous.of_index(index, model, TOKENIZER)
    assert len(same.keys) == texts and same.passages == len(built.index.passages)
    assert same.dense.ntotal == len(built.index.passages) and same.tokens is not None
    assert len(same.sentence_vectors) == len(built.index.sentences)
    other_model = Previous.of_index(index, "another-model:1", TOKENIZER)
    assert other_model.dense is None and other_model.sentence_vectors is None
    assert other_model.tokens.ids.tolist() == same.tokens.ids.tolist()
    other_tokenizer = Previous.of_index(index, model, "another-tokenizer")
    assert other_tokenizer.tokens is None and other_tokenizer.dense is not None
    for nothing in (
        Previous.of_index(index, "another-model:1", "another-tokenizer"),
        Previous.of_index(tmp_path / "no-index", model, TOKENIZER),
    ):
        assert len(nothing.keys) == 0 and nothing.dense is None and nothing.tokens is None

    generation = index / (index / CURRENT).read_text().strip()
    (generation / "sentence_vectors.npy").write_bytes(b"truncated")
    assert len(Previous.of_index(index, model, TOKENIZER).keys) == 0


def test_real_model_rebuild_after_adding_an_article(
    corpus_copy: Path, tmp_path: Path, embedder
) -> None:
    index = tmp_path / "index"
    Assistant.from_corpus(corpus_copy, index, embedder=embedder)
    (corpus_copy / "900_hainan.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    after = Assistant.from_corpus(corpus_copy, index, embedder=embedder)
    # The new article has 3 sentences and 1 passage (its title leads the passage text).
    assert after.build_report.encoded == 4
    answer = after.ask("How much did Hainan offshore duty-free sales grow last year?")
    assert answer.evidence[0].doc_id == "900_hainan" and answer.evidence[0].short_answer
    top = after.ask("How much did Xinjiang live-streaming sales grow?").evidence[0]
    assert top.short_answer and top.short_answer.text == "56 percent"
