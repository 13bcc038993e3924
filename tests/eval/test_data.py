"""Gold data: gold JSONL and SQuAD readers, their errors, and SQuAD articles as a corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.eval.data import GoldError, GoldPair, read_gold, read_squad, write_squad_corpus
from tests.conftest import FIXTURES, GOLD

# --- gold readers ---------------------------------------------------------------------------


def test_read_gold_bundled() -> None:
    pairs = read_gold(GOLD)
    assert len(pairs) == 70 and sum(p.answerable for p in pairs) == 54
    assert pairs[0] == GoldPair(
        "g001",
        "How much did Xinjiang live-streaming sales grow?",
        ("56 percent",),
        "004_62637a1ca6fb8c94",
        True,
    )
    assert all(p.doc_id is None and not p.answers for p in pairs if not p.answerable)


GOOD = '{"id": "q1", "question": "Q?", "answers": ["a"], "doc_id": null, "answerable": true}'


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "q2", "question": "Q?", "doc_id": null}', r"gold\.jsonl:3: missing key 'answers'"),
        ('{"id": "q2", "question": "Q?", "answers": "a"}', r":3: 'answers' must be a list"),
        ('{"id": "q2", "question": "", "answers": ["a"]}', r":3: 'question' must be a non-empty"),
        ('{"id": true, "question": "Q?", "answers": ["a"]}', r":3: 'id' must be a string"),
        (
            '{"id": "q2", "question": "Q?", "answers": [], "answerable": true}',
            r":3: 'answerable' is true but 'answers' is empty",
        ),
        (
            '{"id": "q2", "question": "Q?", "answers": ["a"], "answerable": "yes"}',
            r":3: 'answerable' must be true or false",
        ),
        ('{"id": "q2", "question": "Q?", "answers": ["a"], "doc_id": 4}', r":3: 'doc_id' must"),
        (
            '{"id": "q1", "question": "Q?", "answers": ["a"]}',
            r":3: id 'q1' is already used on line 1",
        ),
        ('{"id": "q2", "question": "Q?",', r"gold\.jsonl:3: not valid JSON"),
        ('["q2", "Q?"]', r":3: expected a JSON object"),
    ],
)
def test_read_gold_errors_name_file_and_line(tmp_path: Path, bad_line: str, message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(f"{GOOD}\n\n{bad_line}\n")  # a blank line is skipped, but still counted
    with pytest.raises(GoldError, match=message):
        read_gold(path)


def test_read_gold_defaults_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": 7, "question": "Q?", "answers": []}\n')
    assert read_gold(path) == [GoldPair("7", "Q?", (), None, False)]
    path.write_text("\n\n")
    with pytest.raises(GoldError, match="no gold pairs"):
        read_gold(path)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_gold(tmp_path / "missing.jsonl")


def test_read_squad_v1() -> None:
    squad = read_squad(FIXTURES / "squad_v1.json")
    assert squad.version == "1.1"
    assert [a.doc_id for a in squad.articles] == ["steam-engine", "zurich-zoo"]
    assert [a.title for a in squad.articles] == ["Steam engine", "Zürich Zoo"]
    assert squad.articles[0].text.startswith("Steam engines are external")
    assert "in 1712.\n\nJames Watt" in squad.articles[0].text  # paragraphs joined
    assert squad.pairs[0] == GoldPair(
        "v1-q1",
        "Who built the first commercial steam engine?",
        ("Thomas Newcomen", "Newcomen"),
        "steam-engine",
        True,
    )
    assert all(p.answerable for p in squad.pairs) and squad.pairs[2].doc_id == "zurich-zoo"


def test_read_squad_v2_unanswerable() -> None:
    squad = read_squad(FIXTURES / "squad_v2.json")
    assert squad.version == "v2.0" and len(squad.pairs) == 6
    impossible = [p for p in squad.pairs if not p.answerable]
    assert [p.id for p in impossible] == ["v2-q3", "v2-q5"]
    assert all(p.answers == () and p.doc_id is None for p in impossible)
    assert squad.pairs[0].answers == ("October 1973",)  # repeated answers kept once
    assert read_gold(FIXTURES / "squad_v2.json") == list(squad.pairs)


def test_read_squad_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"version": "v2.0", "rows": []}')
    with pytest.raises(GoldError, match="not SQuAD JSON"):
        read_squad(path)
    path.write_text('{"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}')
    with pytest.raises(GoldError, match=r"data\[0\]\.paragraphs\[0\]: not in SQuAD form"):
        read_squad(path)
    path.write_text('{"data": [\n{"title": ')
    with pytest.raises(GoldError, match=r"bad\.json:2: not valid JSON"):
        read_squad(path)


def test_squad_corpus_round_trip(tmp_path: Path) -> None:
    from rag.ingest.corpus import load_corpus

    squad = read_squad(FIXTURES / "squad_v1.json")
    folder = write_squad_corpus(squad, tmp_path / "corpus")
    loaded = load_corpus(folder)
    assert [a.doc_id for a in loaded.articles] == ["steam-engine", "zurich-zoo"]
    assert [a.title for a in loaded.articles] == ["Steam engine", "Zürich Zoo"]
    assert [a.text for a in loaded.articles] == [a.text for a in squad.articles]
    before = (folder / "articles.jsonl").stat().st_mtime_ns
    write_squad_corpus(squad, folder)  # unchanged content is not rewritten
    assert (folder / "articles.jsonl").stat().st_mtime_ns == before
