"""Index: its tables agree with the articles, it builds in memory, and reloads what it saved."""

from __future__ import annotations

from rag.index.index import Index
from rag.settings import Settings
from tests.conftest import CORPUS


def test_every_sentence_row_points_into_its_article(assistant) -> None:
    index = assistant.index
    for sid, (doc, start, end) in enumerate(index.sentences.tolist()):
        assert index.sentence_text(sid) == index.articles[doc].text[start:end]
        lo, hi = index.neighbours(sid)
        assert lo <= sid <= hi and index.sentences[lo, 0] == index.sentences[hi, 0] == doc
    assert len(index.sentence_vectors) == len(index.sentences)
    assert len(index.dense) == len(index.passages) == len(index.sparse)


def test_in_memory_build_and_a_saved_index_reload_the_same_tables(fake_embedder, tmp_path) -> None:
    settings = Settings()
    memory = Index.for_corpus(CORPUS, None, fake_embedder, settings)
    assert memory.report.reason == "in memory" and memory.report.rebuilt
    saved = Index.for_corpus(CORPUS, tmp_path / "index", fake_embedder, settings)
    loaded = Index.for_corpus(CORPUS, tmp_path / "index", fake_embedder, settings)
    assert not loaded.report.rebuilt and loaded.report.reason == "fingerprint matches"
    for built in (memory, saved):
        assert built.sentences.tolist() == loaded.sentences.tolist()
        assert built.passages.tolist() == loaded.passages.tolist()
        assert [built.tokens[i] for i in range(len(built.tokens))] == [
            loaded.tokens[i] for i in range(len(loaded.tokens))
        ]
