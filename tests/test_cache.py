"""The embedding and token cache: a rebuild embeds and tokenizes only texts it has not seen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.cache import Previous, content_keys, pack_tokens, unpack_tokens
from rag.errors import IndexCorruptError
from rag.store import CURRENT
from rag.text import TOKENIZER, tokenize

from .conftest import FakeEmbedder

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
    index = assistant._dense.faiss_index
    return np.vstack([index.reconstruct_n(0, index.ntotal), assistant._sentence_vectors])


def test_content_keys_are_equal_exactly_for_equal_texts() -> None:
    keys = content_keys(["a", "b", "a", "", "\ud800 lone surrogate"])
    assert keys.shape == (5, 16) and keys.dtype == np.uint8
    assert bytes(keys[0]) == bytes(keys[2]) != bytes(keys[1])
    assert content_keys([]).shape == (0, 16)


def test_tokens_pack_and_unpack() -> None:
    rows = [("sale", "grow"), (), ("sale", "56%", "56"), ("新",), ("$6.3", "6.3")]
    assert unpack_tokens(pack_tokens(rows)) == rows
    assert unpack_tokens(pack_tokens([])) == []
    for damaged in ({"a": 1}, ["sale grow", 3], "sale grow"):
        with pytest.raises(IndexCorruptError, match="not a list of strings"):
            unpack_tokens(damaged)


def test_embed_encodes_each_unseen_text_once() -> None:
    embedder = CountingEmbedder()
    known = embedder.encode(["old text"])[0]
    embedder.seen.clear()
    previous = Previous({bytes(content_keys(["old text"])[0]): known}, {})
    texts = ["old text", "new text", "new text", "other"]
    vectors, encoded = previous.embed(texts, content_keys(texts), embedder.encode, 64)
    assert embedder.seen == ["new text", "other"] and encoded == 2
    np.testing.assert_array_equal(vectors, FakeEmbedder().encode(texts))
    half, _ = previous.embed(texts, content_keys(texts), embedder.encode, 64, dtype=np.float16)
    assert half.dtype == np.float16 and np.allclose(half, vectors, atol=1e-3)


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
        "rag.assistant.tokenize", lambda text: tokenized.append(text) or tokenize(text)
    )
    after = Assistant.from_corpus(corpus_copy, index, embedder=embedder)

    report = after.build_report
    assert report.rebuilt and report.encoded == len(set(embedder.seen)) > 0
    assert report.reused + report.encoded == len(after._passages) + len(after._sentences)
    # Only the new article's passages (its title first) and sentences were embedded.
    hainan = next(a for a in after.articles if a.doc_id == "900_hainan")
    assert all(text in hainan.text or text.startswith(hainan.title) for text in embedder.seen)
    sentences = {
        after._sentence_text(sid): int(doc) for sid, doc in enumerate(after._sentences[:, 0])
    }
    new = after.articles.index(hainan)
    assert {text for text, doc in sentences.items() if doc == new} <= set(tokenized)
    assert not {text for text, doc in sentences.items() if doc != new} & set(tokenized)
    assert "reused" in "\n".join(report.lines())

    # Bit for bit what a build from scratch gives.
    scratch = Assistant.from_corpus(corpus_copy, None, embedder=FakeEmbedder())
    np.testing.assert_array_equal(_all_vectors(after), _all_vectors(scratch))
    assert after._tokens == scratch._tokens
    answer = after.ask("How much were Hainan duty-free sales last year?")
    assert answer.evidence[0].doc_id == "900_hainan"
    forced = Assistant.from_corpus(corpus_copy, index, embedder=embedder, rebuild=True)
    assert forced.build_report.reused == 0  # a rebuild asked for starts from nothing


def test_reuse_only_from_the_same_model_and_tokenizer(corpus_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    built = Assistant.from_corpus(corpus_copy, index, embedder=FakeEmbedder())
    texts = len(built._passages) + len(built._sentences)
    model = FakeEmbedder.identity

    same = Previous.of_index(index, model, TOKENIZER)
    assert 0 < len(same.vectors) <= texts and 0 < len(same.tokens) <= len(built._sentences)
    other_model = Previous.of_index(index, "another-model:1", TOKENIZER)
    assert other_model.vectors == {} and other_model.tokens == same.tokens
    other_tokenizer = Previous.of_index(index, model, "another-tokenizer")
    assert other_tokenizer.tokens == {} and len(other_tokenizer.vectors) == len(same.vectors)
    assert Previous.of_index(index, "another-model:1", "another-tokenizer") == Previous.none()
    assert Previous.of_index(tmp_path / "no-index", model, TOKENIZER) == Previous.none()

    generation = index / (index / CURRENT).read_text().strip()
    (generation / "sentence_vectors.npy").write_bytes(b"truncated")
    assert Previous.of_index(index, model, TOKENIZER) == Previous.none()


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
    assert answer.evidence[0].doc_id == "900_hainan" and answer.evidence[0].answer_span
    top = after.ask("How much did Xinjiang live-streaming sales grow?").evidence[0]
    assert top.answer_span and top.text[slice(*top.answer_span)] == "56 percent"
