"""Gold data: gold JSONL and SQuAD files read into GoldPairs, and SQuAD articles as a corpus."""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..index.store import cache_root
from ..types import Article

GOLD_KEYS = ("id", "question", "answers", "doc_id", "answerable")
_GOLD_EXAMPLE = (
    '{"id": "q1", "question": "How much did sales grow?", "answers": ["56 percent"], '
    '"doc_id": "article-stem", "answerable": true}'
)


class GoldError(ValueError):
    """A gold file (JSONL or SQuAD JSON) is malformed; the message names file:line and the fix."""


# --- gold data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldPair:
    """One gold question: the answers that count as found, its source document, answerable."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    doc_id: str | None = None
    answerable: bool = True
    kind: str = ""  # what sort of question it is ("growth", "metadata"), for the report by kind


@dataclass(frozen=True)
class SquadSet:
    """A SQuAD file read as a corpus (one Article per title) plus its questions as gold pairs."""

    version: str
    articles: tuple[Article, ...]
    pairs: tuple[GoldPair, ...]


def read_gold(path: str | os.PathLike[str]) -> list[GoldPair]:
    """Gold pairs from a JSONL file, or from a SQuAD v1.1/v2.0 `.json` file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"gold file {str(path)!r} not found; pass a JSONL of Q&A pairs or a SQuAD .json file"
        )
    if path.suffix.lower() == ".json":
        return list(read_squad(path).pairs)
    return read_gold_jsonl(path)


def read_gold_jsonl(path: str | os.PathLike[str]) -> list[GoldPair]:
    """Parse a gold JSONL file, one object a line; GoldError names file:line of any bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GoldError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    pairs: list[GoldPair] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
        if not isinstance(record, dict):
            raise GoldError(f"{where}: expected a JSON object such as {_GOLD_EXAMPLE}")
        pair = _gold_pair(record, where)
        if pair.id in seen:
            raise GoldError(f"{where}: id {pair.id!r} is already used on line {seen[pair.id]}")
        seen[pair.id] = number
        pairs.append(pair)
    if not pairs:
        raise GoldError(f"{path}: no gold pairs; write one JSON object a line: {_GOLD_EXAMPLE}")
    return pairs


def _gold_pair(record: dict[str, Any], where: str) -> GoldPair:
    missing = [key for key in ("id", "question", "answers") if key not in record]
    if missing:
        raise GoldError(
            f"{where}: missing key {', '.join(repr(k) for k in missing)}; each line needs "
            f"{', '.join(GOLD_KEYS)} (doc_id and answerable may be left out)"
        )
    ident, question, answers = record["id"], record["question"], record["answers"]
    if isinstance(ident, bool) or not isinstance(ident, (str, int)):
        raise GoldError(f"{where}: 'id' must be a string, got {type(ident).__name__}")
    if not isinstance(question, str) or not question.strip():
        raise GoldError(f"{where}: 'question' must be a non-empty string, got {question!r}")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise GoldError(f"{where}: 'answers' must be a list of strings, got {answers!r}")
    doc_id = record.get("doc_id")
    if doc_id is not None and not isinstance(doc_id, str):
        raise GoldError(f"{where}: 'doc_id' must be a string or null, got {doc_id!r}")
    answerable = record.get("answerable", bool(answers))
    if not isinstance(answerable, bool):
        raise GoldError(f"{where}: 'answerable' must be true or false, got {answerable!r}")
    answers = [a for a in answers if a.strip()]
    if answerable and not answers:
        raise GoldError(
            f"{where}: 'answerable' is true but 'answers' is empty; list the answer strings "
            "or set answerable to false"
        )
    kind = record.get("kind", "")
    if not isinstance(kind, str):
        raise GoldError(f"{where}: 'kind' must be a string, got {kind!r}")
    return GoldPair(str(ident), question, tuple(answers), doc_id, answerable, kind)


def read_squad(path: str | os.PathLike[str]) -> SquadSet:
    """Read SQuAD v1.1 or v2.0 JSON: each title one article, each question one gold pair.

    Paragraphs are joined with blank lines; `is_impossible` questions become unanswerable
    (doc_id None); repeated answer texts are kept once.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise GoldError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise GoldError(
            f"{path}: not SQuAD JSON; expected {{\"version\": ..., \"data\": [{{\"title\": ..., "
            "\"paragraphs\": [{\"context\": ..., \"qas\": [...]}]}]}"
        )
    version = str(data.get("version", ""))
    articles: list[Article] = []
    pairs: list[GoldPair] = []
    ids: set[str] = set()
    doc_ids: set[str] = set()
    where = f"{path}: data"
    try:
        for a_index, item in enumerate(data["data"]):
            where = f"{path}: data[{a_index}]"
            title = str(item["title"])
            doc_id = _unique(slugify(title), doc_ids)
            contexts: list[str] = []
            for p_index, paragraph in enumerate(item["paragraphs"]):
                where = f"{path}: data[{a_index}].paragraphs[{p_index}]"
                contexts.append(str(paragraph["context"]).strip())
                for q_index, qa in enumerate(paragraph["qas"]):
                    where = f"{path}: data[{a_index}].paragraphs[{p_index}].qas[{q_index}]"
                    pairs.append(_squad_pair(qa, doc_id, ids, where))
            articles.append(
                Article(doc_id=doc_id, text="\n\n".join(c for c in contexts if c),
                        title=title.replace("_", " "))
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise GoldError(f"{where}: not in SQuAD form ({type(exc).__name__}: {exc})") from exc
    if not pairs:
        raise GoldError(f"{path}: no questions in this SQuAD file")
    return SquadSet(version, tuple(articles), tuple(pairs))


def _squad_pair(qa: dict[str, Any], doc_id: str, ids: set[str], where: str) -> GoldPair:
    ident = str(qa["id"])
    if ident in ids:
        raise GoldError(f"{where}: question id {ident!r} is used twice")
    ids.add(ident)
    impossible = bool(qa.get("is_impossible", False))
    answers: list[str] = []
    if not impossible:
        for answer in qa["answers"]:
            text = str(answer["text"]).strip()
            if text and text not in answers:
                answers.append(text)
        if not answers:
            raise GoldError(f"{where}: question {ident!r} has no answer and is not is_impossible")
    return GoldPair(ident, str(qa["question"]), tuple(answers),
                    None if impossible else doc_id, not impossible)


def slugify(title: str) -> str:
    """A file-name-safe doc_id from a title: 'European_Union_law' -> 'european-union-law'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", "-", ascii_title.lower()).strip("-") or "article"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


def write_squad_corpus(squad: SquadSet, directory: str | os.PathLike[str]) -> Path:
    """Write the SQuAD articles as `articles.jsonl` ({"id", "title", "text"}) under `directory`.

    The file is rewritten only when its content changes, so an index built on it stays valid.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"id": a.doc_id, "title": a.title, "text": a.text}, ensure_ascii=False)
        for a in squad.articles
    ]
    target = directory / "articles.jsonl"
    content = "\n".join(lines) + "\n"
    if not target.is_file() or target.read_text(encoding="utf-8") != content:
        target.write_text(content, encoding="utf-8")
    return directory


def squad_cache_dir(path: str | os.PathLike[str]) -> Path:
    """Per-file cache folder (corpus/ and index/) for a SQuAD file, keyed by its content."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    return cache_root() / f"squad-{digest}"

