"""The article and date filter: checked input, and honoured by every retriever and way in."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.errors import ScopeError
from rag.index.dense import DenseIndex
from rag.scope import Scope
from rag.settings import Mode
from rag.types import Article

YICHANG = "001_3888668b42d211bb"
XINJIANG = "004_62637a1ca6fb8c94"
GROWTH = "How much did online sales grow?"


def _article(doc_id: str, published: str) -> Article:
    return Article(doc_id=doc_id, text="Some text.", published=published)


def test_dates_are_checked_and_bounds_are_inclusive_at_their_precision() -> None:
    july = Scope(since="2024-07", until="2024-07-18")
    assert july.admits(_article("a", "2024-07-01T08:00:00"))
    assert july.admits(_article("a", "2024-07-18T20:07:21"))
    assert not july.admits(_article("a", "2024-07-19"))
    assert not july.admits(_article("a", "2024-06-30"))
    assert Scope(until="2024").admits(_article("a", "2024-12-31"))
    # With a date bound, an undated article cannot be shown to fall inside it.
    assert not Scope(since="2020").admits(_article("a", ""))
    assert Scope(articles=("a",)).admits(_article("a", ""))
    assert Scope().everything and Scope().mask([_article("a", "")]) is None


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"since": "July 2024"}, "since must be a date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"until": "2024-13"}, "until must be a date"),
        ({"since": "2024-08", "until": "2024-07-31"}, "is after until"),
    ],
)
def test_a_bad_filter_says_what_to_write(fields, says) -> None:
    with pytest.raises(ScopeError, match=says):
        Scope(**fields)


def test_a_filter_naming_no_indexed_article_lists_the_ids_or_the_dates(assistant) -> None:
    with pytest.raises(ScopeError, match=rf"no indexed article has the id 'nope'.*5 .*{YICHANG}"):
        assistant.ask(GROWTH, scope=Scope(articles=("nope",)))
    with pytest.raises(ScopeError, match="dates run from 2024-07-18 to 2025-09-15"):
        assistant.ask(GROWTH, scope=Scope(since="2030"))


def test_unknown_ids_are_answered_with_a_few_ids_and_the_count() -> None:
    articles = [Article(f"a{n:03}", "Some text.") for n in range(40)]
    unknown = tuple(f"nope{n}" for n in range(12))
    with pytest.raises(ScopeError) as raised:
        Scope(articles=unknown).check(articles)
    assert str(raised.value) == (
        "no indexed article has the id 'nope0', 'nope1', 'nope2', 'nope3', 'nope4' and 7 more; "
        "the 40 indexed articles include 'a000', 'a001', 'a002', 'a003', 'a004' and 35 more "
        "(/api/articles lists them all)"
    )


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_every_candidate_comes_from_the_chosen_articles(assistant, mode) -> None:
    scope = Scope(articles=(YICHANG,))
    found = assistant.candidate_sets([GROWTH], Mode.of(mode), scope)[0].candidates
    docs = {assistant.articles[c.doc].doc_id for c in found}
    assert found and docs == {YICHANG}


def test_the_answer_cites_only_the_filtered_articles_and_says_so(assistant) -> None:
    # Unfiltered, the best growth sentences are not only Yichang's.
    unfiltered = assistant.ask(GROWTH, top_k=5)
    assert {e.doc_id for e in unfiltered.evidence} != {YICHANG}
    answer = assistant.ask(GROWTH, top_k=5, scope=Scope(articles=(YICHANG,)))
    assert not answer.abstained and {e.doc_id for e in answer.evidence} == {YICHANG}
    assert "20%" in answer.evidence[0].text
    assert answer.scope == "1 chosen article" and answer.to_dict()["scope"] == answer.scope
    dated = assistant.ask(GROWTH, top_k=5, scope=Scope(since="2024-07-19", until="2024-07"))
    assert {e.doc_id for e in dated.evidence} == {XINJIANG}
    assert dated.scope == "published from 2024-07-19 to 2024-07"


def test_follow_ups_and_comparisons_keep_the_filter(assistant) -> None:
    conversation = assistant.conversation()
    scope = Scope(articles=(XINJIANG,))
    conversation.ask("How much did live-streaming sales grow?", scope=scope)
    follow = conversation.ask("and in rural areas?", scope=scope)
    assert {e.doc_id for e in follow.evidence} == {XINJIANG} and follow.scope
    compared = assistant.ask("Compare online sales growth in Xinjiang and Yichang", scope=scope)
    assert {e.doc_id for e in compared.evidence} <= {XINJIANG}


def test_dense_search_skips_vectors_outside_the_mask_flat_and_inverted() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30_000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::7] = True
    for kind in ("flat", "ivf"):
        index = DenseIndex(vectors, kind=kind)
        ids, _ = index.search(vectors[5], 10, allowed)
        assert len(ids) == 10 and (ids % 7 == 0).all(), kind
        # The nearest allowed vectors: vector 5 itself is not allowed, so it is not found.
        assert 5 not in ids and 5 in index.search(vectors[5], 10)[0]
    none = np.zeros(10, dtype=bool)
    assert len(DenseIndex(vectors[:10], kind="flat").search(vectors[0], 5, none)[0]) == 0


def test_shards_honour_the_filter_as_one_index_does(assistant, embedder, tmp_path) -> None:
    from rag.assistant import Assistant
    from rag.index.shards import ShardedIndex, build_shards
    from rag.settings import Settings
    from tests.conftest import CORPUS

    build_shards(CORPUS, tmp_path, 2, embedder, Settings())
    many = Assistant.over(ShardedIndex.load(tmp_path), embedder, Settings())
    for scope in (Scope(articles=(YICHANG, XINJIANG)), Scope(since="2024-11")):
        expected = assistant.ask(GROWTH, scope=scope).to_dict()
        assert many.ask(GROWTH, scope=scope).to_dict() == expected


def test_the_api_and_the_cli_take_the_filter(assistant, capsys) -> None:
    from rag import cli
    from tests.test_api import call
    from ui.app import launch

    server, url = launch(assistant, port=0, block=False, quiet=True)
    try:
        status, body = call(url, "api/ask", {"question": GROWTH, "articles": [YICHANG]})
        assert status == 200 and {e["doc_id"] for e in body["evidence"]} == {YICHANG}
        status, body = call(url, "api/ask_many", {"questions": [GROWTH], "since": "2025"})
        assert status == 200 and body["answers"][0]["scope"] == "published from 2025"
        status, body = call(url, "api/ask", {"question": GROWTH, "until": "last year"})
        assert status == 400 and "until must be a date" in body["message"]
    finally:
        server.close()
    assert cli.main(["ask", GROWTH, "--article", YICHANG, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {e["doc_id"] for e in printed["evidence"]} == {YICHANG}
    assert cli.main(["ask", GROWTH, "--since", "2031"]) == 2
    assert "no indexed article is among published from 2031" in capsys.readouterr().err
