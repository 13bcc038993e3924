"""Annotations (the figures table) stored with each index generation, computed once per article."""

from __future__ import annotations

import json
import shutil

from rag.answer.table import FIGURES, figure_records, stored_records
from rag.index.annotations import Annotation
from rag.index.index import Index
from rag.index.store import current_generation
from rag.ingest.corpus import load_corpus
from rag.settings import Settings
from tests.conftest import CORPUS, FIXTURES, XINJIANG


def _counting(calls: list[str], version: str = "1") -> Annotation:
    def compute(article) -> list[int]:
        calls.append(article.doc_id)
        return [len(article.text)]

    return Annotation("lengths", version, compute)


def test_an_update_computes_only_new_articles_and_drops_removed_ones(fake_embedder, tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    calls: list[str] = []
    built = Index.for_corpus(corpus, index_dir, fake_embedder, Settings(),
                             annotations=[_counting(calls)])  # fmt: skip
    assert len(calls) == 5 and built.report.annotated == 5
    assert built.annotation("lengths") == tuple([len(a.text)] for a in built.articles)
    # Reloaded: nothing computed, the stored values served.
    calls.clear()
    loaded = Index.for_corpus(corpus, index_dir, fake_embedder, Settings(),
                              annotations=[_counting(calls)])  # fmt: skip
    assert not calls and loaded.annotation("lengths") == built.annotation("lengths")
    # One article added, one removed: only the new one is computed, the removed one is gone.
    shutil.copy(FIXTURES / "new_user" / "chengdu-panda-goods.txt", corpus)
    (corpus / f"{XINJIANG}.txt").unlink()
    updated = Index.for_corpus(corpus, index_dir, fake_embedder, Settings(),
                               annotations=[_counting(calls)])  # fmt: skip
    assert calls == ["chengdu-panda-goods"] and updated.report.annotated == 1
    assert XINJIANG not in {a.doc_id for a in updated.articles}
    stored = json.loads((index_dir / current_generation(index_dir) / "lengths.json").read_text())
    assert stored["version"] == "1"
    assert [row[0] for row in stored["articles"]] == [a.doc_id for a in updated.articles]
    build = json.loads((index_dir / current_generation(index_dir) / "build.json").read_text())
    assert build["annotated"] == 1 and build["annotation_seconds"] >= 0


def test_another_version_is_not_served_and_is_computed_again(fake_embedder, tmp_path) -> None:
    calls: list[str] = []
    Index.for_corpus(CORPUS, tmp_path, fake_embedder, Settings(), annotations=[_counting(calls)])
    newer = _counting(calls, version="2")
    loaded = Index.for_corpus(CORPUS, tmp_path, fake_embedder, Settings(), annotations=[newer])
    assert loaded.annotation("lengths") is None  # the caller computes it then
    rebuilt = Index.for_corpus(CORPUS, tmp_path, fake_embedder, Settings(), annotations=[newer],
                               rebuild=True)  # fmt: skip
    assert rebuilt.annotation("lengths") is not None and len(calls) == 10


def test_the_stored_figures_table_is_the_table_computed_from_the_articles(fake_embedder, tmp_path):
    Index.for_corpus(CORPUS, tmp_path, fake_embedder, Settings(), annotations=[FIGURES])
    loaded = Index.for_corpus(CORPUS, tmp_path, fake_embedder, Settings(), annotations=[FIGURES])
    articles = load_corpus(CORPUS).articles
    assert stored_records(loaded.articles, loaded.annotation("figures")) == figure_records(articles)
