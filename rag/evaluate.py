"""Evaluation harness: score an Assistant on gold Q&A pairs (JSONL or SQuAD JSON), report, plot."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import types
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .compose import MODES, WEIGHTS_FILE, load_scorer
from .errors import SettingsError
from .store import cache_root
from .types import Answer, Article, Evidence

if TYPE_CHECKING:
    from .assistant import Assistant

PRIMARY_METRIC = "hit@1"
GOLD_KEYS = ("id", "question", "answers", "doc_id", "answerable")
_GOLD_EXAMPLE = (
    '{"id": "q1", "question": "How much did sales grow?", "answers": ["56 percent"], '
    '"doc_id": "article-stem", "answerable": true}'
)
LATENCY_SAMPLE = 50  # questions asked one at a time for p50/p95; the rest go in batches
BATCH_SIZE = 64

# (summary key, label, one-line definition, format): one source for the terminal table, report.md
# and the README, so a metric is always shown with the same name and meaning.
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("questions", "questions", "gold pairs evaluated", "int"),
    ("answerable", "answerable", "gold pairs marked answerable", "int"),
    ("unanswerable", "unanswerable", "gold pairs marked unanswerable", "int"),
    ("hit@1", "hit@1",
     "share of answerable questions whose first evidence sentence contains a gold answer "
     "(normalized), counted even when the assistant abstained (retrieval quality)", "rate"),
    ("hit@3", "hit@3",
     "the same over the first 3 evidence sentences (all of them when top-k < 3)", "rate"),
    ("mrr", "MRR",
     "mean over answerable questions of 1/rank of the first evidence sentence containing a "
     "gold answer (0 when none of the top-k does)", "rate"),
    ("doc_recall@k", "doc recall@k",
     "share of answerable questions with a gold doc_id where one of the top-k evidence sentences "
     "comes from that document", "rate"),
    ("answered_correct", "answered & correct",
     "share of answerable questions it answered (did not abstain) with a gold answer in the "
     "first evidence sentence", "rate"),
    ("false_abstention", "false abstention",
     "share of answerable questions on which it abstained", "rate"),
    ("abstain_precision", "abstain precision",
     "share of its abstentions that were on unanswerable questions", "rate"),
    ("abstain_recall", "abstain recall",
     "share of unanswerable questions on which it abstained", "rate"),
    ("abstain_f1", "abstain F1",
     "harmonic mean of abstention precision and recall, 2TP / (2TP + FP + FN)", "rate"),
    ("coverage", "coverage",
     "share of all questions it answered at its current threshold", "rate"),
    ("accuracy", "accuracy",
     "share of answered questions that are answerable and hit@1 (answering an unanswerable "
     "question counts as wrong)", "rate"),
    ("latency_p50_ms", "latency p50 ms",
     f"median milliseconds per question asked alone (up to {LATENCY_SAMPLE} questions evenly "
     "spread over the gold set, after one warm-up question)", "ms"),
    ("latency_p95_ms", "latency p95 ms", "95th percentile of the same", "ms"),
    ("index_seconds", "index s",
     "seconds to build the index (or to reload it, marked 'loaded'), model load included "
     "unless an embedder was passed in", "s"),
    ("eval_seconds", "eval s", "seconds to answer every gold question in this mode", "s"),
)
CURVE_DEFINITION = (
    "coverage/accuracy curve: for each threshold t, the assistant answers only when its "
    "confidence >= t; coverage = share of questions answered, accuracy = share of those answered "
    "that are answerable and hit@1"
)
KEEP_CORRECT = 0.9  # calibration keeps at least this share of the right answers it can give
CALIBRATION_OBJECTIVE = (
    f"the highest abstain recall that keeps answered & correct >= {KEEP_CORRECT:.0%} of its best"
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
    return GoldPair(str(ident), question, tuple(answers), doc_id, answerable)


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


# --- metrics: pure functions ----------------------------------------------------------------

# Numbers keep their inner '.' and ',' ("12.9", "1,000": compared as written); symbols such as
# % and $ are tokens of their own, so "12.9%" == "12.9 %"; other punctuation separates words.
_NORM_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|\d|[^\w\s]", re.UNICODE)
_KEPT_MARKS = frozenset("%‰")  # punctuation by Unicode category, but part of a figure


def normalize(text: str) -> str:
    """Casefolded tokens joined by single spaces, punctuation dropped, numbers kept as written."""
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens = [
        token for token in _NORM_TOKEN.findall(text)
        if len(token) > 1 or token in _KEPT_MARKS or not unicodedata.category(token).startswith("P")
    ]
    return " ".join(tokens)


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """True when `text` holds one of `answers` as whole tokens after `normalize`."""
    haystack = f" {normalize(text)} "
    for answer in answers:
        needle = normalize(answer)
        # Whole tokens only: "12 percent" must not be found inside "112 percent".
        if needle and f" {needle} " in haystack:
            return True
    return False


def first_hit(texts: Sequence[str], answers: Sequence[str]) -> int | None:
    """1-based rank of the first text containing a gold answer, None when none does."""
    for rank, text in enumerate(texts, start=1):
        if contains_answer(text, answers):
            return rank
    return None


def hit_at_k(texts: Sequence[str], answers: Sequence[str], k: int) -> bool:
    """True when one of the first `k` texts contains a gold answer."""
    return first_hit(texts[:k], answers) is not None


def reciprocal_rank(texts: Sequence[str], answers: Sequence[str]) -> float:
    """1 / rank of the first text containing a gold answer; 0.0 when none does."""
    rank = first_hit(texts, answers)
    return 0.0 if rank is None else 1.0 / rank


def first_match(doc_ids: Sequence[str], gold_doc_id: str | None) -> int | None:
    """1-based rank of the first evidence from the gold document, None when none (or no gold)."""
    if gold_doc_id is None:
        return None
    return next((rank for rank, d in enumerate(doc_ids, start=1) if d == gold_doc_id), None)


def abstention_metrics(
    abstained: Sequence[bool], answerable: Sequence[bool]
) -> dict[str, float | None]:
    """Abstention as detection of unanswerable questions: precision, recall, F1, false rate.

    A value whose denominator is zero (no abstention, no unanswerable question) is None.
    """
    if len(abstained) != len(answerable):
        raise ValueError("abstained and answerable must have the same length")
    tp = sum(a and not g for a, g in zip(abstained, answerable, strict=True))
    fp = sum(a and g for a, g in zip(abstained, answerable, strict=True))
    fn = sum(not a and not g for a, g in zip(abstained, answerable, strict=True))
    n_answerable = sum(bool(g) for g in answerable)
    n_unanswerable = len(answerable) - n_answerable
    return {
        "abstain_precision": _ratio(tp, tp + fp),
        "abstain_recall": _ratio(tp, n_unanswerable),
        "abstain_f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "false_abstention": _ratio(fp, n_answerable),
    }


@dataclass(frozen=True)
class CurvePoint:
    """What the assistant would do if it answered only when confidence >= threshold."""

    threshold: float
    coverage: float | None  # share of all questions answered
    accuracy: float | None  # share of answered ones that are answerable and hit@1
    answered_correct: float | None  # share of answerable ones answered and hit@1
    abstain_recall: float | None  # share of unanswerable ones not answered


def threshold_grid(current: float | None = None, step: float = 0.01) -> list[float]:
    """Thresholds 0, step, ..., 1 (plus `current`), for plotting the curve."""
    count = round(1 / step)
    grid = {round(i * step, 6) for i in range(count + 1)}
    if current is not None:
        grid.add(float(current))
    return sorted(grid)


def coverage_curve(
    confidences: Sequence[float],
    correct: Sequence[bool],
    answerable: Sequence[bool],
    thresholds: Sequence[float],
) -> list[CurvePoint]:
    """One CurvePoint per threshold; equal confidences are all answered or all held back."""
    conf = np.asarray(confidences, dtype=np.float64)
    good = np.asarray(correct, dtype=bool) & np.asarray(answerable, dtype=bool)
    gold = np.asarray(answerable, dtype=bool)
    if not len(conf) == len(good) == len(gold):
        raise ValueError("confidences, correct and answerable must have the same length")
    points = []
    for t in thresholds:
        answered = conf >= t
        n_answered = int(answered.sum())
        points.append(
            CurvePoint(
                threshold=float(t),
                coverage=_ratio(n_answered, len(conf)),
                accuracy=_ratio(int((answered & good).sum()), n_answered),
                answered_correct=_ratio(int((answered & good).sum()), int(gold.sum())),
                abstain_recall=_ratio(int((~answered & ~gold).sum()), int((~gold).sum())),
            )
        )
    return points


def choose_threshold(points: Sequence[CurvePoint]) -> CurvePoint:
    """The highest abstain recall among points keeping KEEP_CORRECT of the best answered & correct.

    Users judge the assistant first by the right answers it gives, so abstention may only cost
    a bounded share of them; ties go to the lowest threshold, which answers as much or more.
    """
    if not points:
        raise ValueError("choose_threshold needs at least one curve point")
    best = max(p.answered_correct or 0.0 for p in points)
    allowed = [p for p in points if (p.answered_correct or 0.0) >= KEEP_CORRECT * best]
    return max(sorted(allowed, key=lambda p: p.threshold), key=lambda p: p.abstain_recall or 0.0)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation, None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q!r}")
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _mean(values: Sequence[float]) -> float | None:
    return _ratio(sum(values), len(values))


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    """One gold question as answered in one mode, with its hit flags."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    answerable: bool
    abstained: bool
    confidence: float
    evidence: tuple[Evidence, ...]
    answer_rank: int | None  # first evidence containing a gold answer, 1-based
    doc_rank: int | None  # first evidence from the gold document, 1-based
    seconds: float | None = None  # set for the questions timed one at a time

    def hit(self, k: int) -> bool:
        return self.answer_rank is not None and self.answer_rank <= k

    @property
    def answered_correct(self) -> bool:
        return self.answerable and not self.abstained and self.hit(1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready row of report.json."""
        return {
            "id": self.id,
            "question": self.question,
            "gold": {"answers": list(self.answers), "doc_id": self.doc_id,
                     "answerable": self.answerable},
            "abstained": self.abstained,
            "confidence": self.confidence,
            "hit@1": self.hit(1),
            "hit@3": self.hit(3),
            "doc_hit": self.doc_rank is not None,
            "answered_correct": self.answered_correct,
            "answer_rank": self.answer_rank,
            "doc_rank": self.doc_rank,
            "seconds": self.seconds,
            "evidence": [
                {"rank": rank, "doc_id": e.doc_id, "title": e.title, "text": e.text,
                 "start": e.start, "end": e.end, "score": e.score,
                 "contains_answer": self.answerable and contains_answer(e.text, self.answers)}
                for rank, e in enumerate(self.evidence, start=1)
            ],
        }


def result_row(pair: GoldPair, answer: Answer, seconds: float | None = None) -> QuestionResult:
    """Score one Answer against its GoldPair."""
    texts = [e.text for e in answer.evidence]
    return QuestionResult(
        id=pair.id,
        question=pair.question,
        answers=pair.answers,
        doc_id=pair.doc_id,
        answerable=pair.answerable,
        abstained=answer.abstained,
        confidence=float(answer.confidence),
        evidence=tuple(answer.evidence),
        answer_rank=first_hit(texts, pair.answers) if pair.answerable else None,
        doc_rank=first_match([e.doc_id for e in answer.evidence], pair.doc_id),
        seconds=seconds,
    )


def summarize(
    rows: Sequence[QuestionResult],
    *,
    index_seconds: float | None = None,
    eval_seconds: float | None = None,
) -> dict[str, float | int | None]:
    """The flat summary dict (keys of METRICS) for a list of results; None where undefined."""
    gold = [r for r in rows if r.answerable]
    with_doc = [r for r in gold if r.doc_id is not None]
    answered = [r for r in rows if not r.abstained]
    latencies = [r.seconds * 1000 for r in rows if r.seconds is not None]
    summary: dict[str, float | int | None] = {
        "questions": len(rows),
        "answerable": len(gold),
        "unanswerable": len(rows) - len(gold),
        "hit@1": _mean([r.hit(1) for r in gold]),
        "hit@3": _mean([r.hit(3) for r in gold]),
        "mrr": _mean([1 / r.answer_rank if r.answer_rank else 0.0 for r in gold]),
        "doc_recall@k": _mean([r.doc_rank is not None for r in with_doc]),
        "answered_correct": _mean([r.answered_correct for r in gold]),
    }
    summary.update(
        abstention_metrics([r.abstained for r in rows], [r.answerable for r in rows])
    )
    summary.update(
        coverage=_ratio(len(answered), len(rows)),
        accuracy=_mean([r.answerable and r.hit(1) for r in answered]),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        index_seconds=index_seconds,
        eval_seconds=eval_seconds,
    )
    return {key: summary[key] for key, *_ in METRICS}


@dataclass(frozen=True)
class EvalReport:
    """Flat `summary` of metrics (primary: hit@1), one row per question, and the curve."""

    mode: str
    top_k: int
    threshold: float  # the abstention threshold the assistant used
    summary: dict[str, float | int | None]
    rows: tuple[QuestionResult, ...]
    curve: tuple[CurvePoint, ...]
    source: str = ""  # the gold file, when read from one
    index_built: bool = True  # False when the index was reloaded, not built
    warnings: tuple[str, ...] = ()
    primary_metric: ClassVar[str] = PRIMARY_METRIC

    @property
    def primary(self) -> float | None:
        return self.summary[PRIMARY_METRIC]  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, summary, curve and rows."""
        return {
            "mode": self.mode,
            "top_k": self.top_k,
            "threshold": self.threshold,
            "source": self.source,
            "index_built": self.index_built,
            "primary_metric": self.primary_metric,
            "summary": dict(self.summary),
            "warnings": list(self.warnings),
            "curve": [asdict(p) for p in self.curve],
            "rows": [r.to_dict() for r in self.rows],
        }


def evaluate(
    assistant: Assistant,
    gold: str | os.PathLike[str] | Sequence[GoldPair],
    *,
    mode: str | None = None,
    top_k: int | None = None,
    progress: bool = False,
    batch_size: int = BATCH_SIZE,
    latency_sample: int = LATENCY_SAMPLE,
    source: str | None = None,
) -> EvalReport:
    """Ask every gold question and score the answers.

    `gold` is a gold JSONL or SQuAD JSON path, or GoldPairs. Up to `latency_sample` questions,
    evenly spread, are asked one at a time and timed; the rest go through `ask_many` in
    batches of `batch_size`, about twice as fast per question.
    """
    if isinstance(gold, (str, os.PathLike)):
        source = str(gold) if source is None else source
        pairs = read_gold(gold)
    else:
        pairs = list(gold)
    if not pairs:
        raise GoldError("no gold pairs to evaluate")
    mode = mode or assistant.settings.mode
    if mode not in MODES:
        raise SettingsError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    top_k = assistant.settings.top_k if top_k is None else top_k
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise SettingsError(f"top_k must be a positive integer, got {top_k!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise SettingsError(f"batch_size must be a positive integer, got {batch_size!r}")
    known = {a.doc_id for a in assistant.articles}
    unknown = sorted({p.doc_id for p in pairs if p.doc_id is not None} - known)
    warnings = (
        (f"{len(unknown)} gold doc_id(s) not in the corpus, so never recalled: "
         + ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else ""),)
        if unknown else ()
    )
    timed = _spread(len(pairs), latency_sample)
    answers: list[Answer | None] = [None] * len(pairs)
    seconds: list[float | None] = [None] * len(pairs)
    started = time.perf_counter()
    from tqdm.auto import tqdm

    with tqdm(total=len(pairs), desc=f"eval {mode}", unit="q", disable=not progress,
              file=sys.stderr, mininterval=0.5, leave=True) as bar:
        if timed:
            # Warm-up: the first call pays one-off costs (lazy imports, caches) no user sees twice.
            assistant.ask(pairs[timed[0]].question, top_k=top_k, mode=mode)
        for i in timed:
            t0 = time.perf_counter()
            answers[i] = assistant.ask(pairs[i].question, top_k=top_k, mode=mode)
            seconds[i] = time.perf_counter() - t0
            bar.update(1)
        chosen = set(timed)
        rest = [i for i in range(len(pairs)) if i not in chosen]
        for offset in range(0, len(rest), batch_size):
            chunk = rest[offset : offset + batch_size]
            got = assistant.ask_many([pairs[i].question for i in chunk], top_k=top_k, mode=mode)
            for i, answer in zip(chunk, got, strict=True):
                answers[i] = answer
            bar.update(len(chunk))
    eval_seconds = time.perf_counter() - started
    rows = tuple(
        result_row(p, a, s)
        for p, a, s in zip(pairs, answers, seconds, strict=True)
        if a is not None
    )
    threshold = float(assistant.settings.threshold)
    report = getattr(assistant, "build_report", None)
    summary = summarize(
        rows, index_seconds=getattr(report, "seconds", None), eval_seconds=eval_seconds
    )
    curve = coverage_curve(
        [r.confidence for r in rows], [r.hit(1) for r in rows], [r.answerable for r in rows],
        threshold_grid(threshold),
    )
    return EvalReport(
        mode=mode, top_k=top_k, threshold=threshold, summary=summary, rows=rows,
        curve=tuple(curve), source=source or "",
        index_built=bool(getattr(report, "rebuilt", True)), warnings=warnings,
    )


def _spread(n: int, count: int) -> list[int]:
    """Up to `count` indices evenly spread over range(n)."""
    if n == 0 or count <= 0:
        return []
    if count >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (count - 1)) for i in range(count)} if count > 1 else {0})


# --- calibration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """The threshold chosen on a development set and what it gives there."""

    threshold: float
    point: CurvePoint
    previous: float
    source: str
    mode: str
    top_k: int

    def note(self) -> str:
        """The provenance written next to the threshold in scorer.json."""
        p = self.point
        date = datetime.now(timezone.utc).date().isoformat()
        return (
            f"Chosen by `rag eval --calibrate` on {Path(self.source).name or 'the gold pairs'} "
            f"(mode {self.mode}, top-k {self.top_k}) on {date}: coverage {_fmt(p.coverage)}, "
            f"accuracy {_fmt(p.accuracy)}, answered & correct {_fmt(p.answered_correct)} of "
            f"answerable, abstain recall {_fmt(p.abstain_recall)}; objective: "
            f"{CALIBRATION_OBJECTIVE}."
        )

    def line(self) -> str:
        """One line for the terminal."""
        p = self.point
        return (
            f"calibrated threshold {self.threshold:.4f} (was {self.previous:.4f}) on "
            f"{Path(self.source).name or 'the gold pairs'}, {self.mode}: coverage "
            f"{_fmt(p.coverage)}, accuracy {_fmt(p.accuracy)}, answered & correct "
            f"{_fmt(p.answered_correct)}, abstain recall {_fmt(p.abstain_recall)}"
        )


def calibrate_threshold(report: EvalReport) -> Calibration:
    """Choose the abstention threshold on `report`'s questions (see `choose_threshold`).

    Candidates are the observed confidences, so each distinct decision is tried exactly once.
    """
    confidences = [r.confidence for r in report.rows]
    candidates = sorted({min(max(c, 0.0), 1.0) for c in confidences} | {0.0, 1.0})
    points = coverage_curve(
        confidences, [r.hit(1) for r in report.rows], [r.answerable for r in report.rows],
        candidates,
    )
    best = choose_threshold(points)
    return Calibration(best.threshold, best, report.threshold, report.source, report.mode,
                       report.top_k)


def write_threshold(
    threshold: float, note: str, scorer: str | os.PathLike[str] = WEIGHTS_FILE
) -> Path:
    """Set "threshold" and "threshold_note" in the scorer JSON, keeping every other key."""
    path = Path(scorer)
    if not 0.0 <= threshold <= 1.0:
        raise SettingsError(f"threshold must be within [0, 1], got {threshold!r}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    updated: dict[str, Any] = {}
    for key, value in data.items():
        if key == "threshold_note":
            continue
        updated[key] = value
        if key == "threshold":
            updated[key] = threshold
            updated["threshold_note"] = note
    if "threshold" not in updated:
        updated.update(threshold=threshold, threshold_note=note)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dump_json(updated) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    if path.resolve() == Path(WEIGHTS_FILE).resolve():
        load_scorer.cache_clear()
    return path


def dump_json(value: Any, indent: int = 0, lead: int = 0, width: int = 100) -> str:
    """JSON that keeps nested values on one line when they fit, as scorer.json is laid out.

    A list of plain values (the scorer's tree arrays) always stays on one line.
    """
    compact = json.dumps(value, ensure_ascii=False)
    flat = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
    if not isinstance(value, (dict, list)) or flat or (indent and lead + len(compact) < width):
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, list):
        inner = [pad + dump_json(v, indent + 2, len(pad), width) for v in value]
        return "[\n" + ",\n".join(inner) + "\n" + " " * indent + "]"
    inner = []
    for key, item in value.items():
        head = f"{pad}{json.dumps(key, ensure_ascii=False)}: "
        inner.append(head + dump_json(item, indent + 2, len(head), width))
    return "{\n" + ",\n".join(inner) + "\n" + " " * indent + "}"


# --- output ---------------------------------------------------------------------------------


def _fmt(value: float | int | None, kind: str = "rate") -> str:
    if value is None:
        return "–"
    if kind == "int":
        return f"{int(value):,}"
    if kind in ("ms", "s"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def summary_table(reports: Mapping[str, EvalReport]) -> list[list[str]]:
    """Rows of [metric, value per mode], the header first."""
    table = [["metric", *reports]]
    for key, label, _, kind in METRICS:
        cells = []
        for report in reports.values():
            cell = _fmt(report.summary.get(key), kind)
            if key == "index_seconds" and not report.index_built and cell != "–":
                cell += " (loaded)"
            cells.append(cell)
        table.append([label.replace("@k", f"@{_first(reports).top_k}"), *cells])
    return table


def _first(reports: Mapping[str, EvalReport]) -> EvalReport:
    return next(iter(reports.values()))


def format_table(reports: Mapping[str, EvalReport]) -> str:
    """The summary as an aligned plain-text table for the terminal."""
    table = summary_table(reports)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                          strict=True)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    first = _first(reports)
    lines.append(f"(top-k {first.top_k}, threshold {first.threshold:.4f})")
    return "\n".join(lines)


def markdown_table(reports: Mapping[str, EvalReport]) -> str:
    """The summary as a Markdown table."""
    table = summary_table(reports)
    lines = ["| " + " | ".join(table[0]) + " |",
             "| --- |" + " ---: |" * (len(table[0]) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join(lines)


def definitions_markdown() -> str:
    """One line per metric, for report.md and the README."""
    lines = [f"- **{label}**: {definition}." for key, label, definition, _ in METRICS
             if key not in ("questions", "answerable", "unanswerable")]
    lines.append(f"- **curve**: {CURVE_DEFINITION}.")
    lines.append(
        "- Normalization: Unicode NFKC, casefold, punctuation dropped, symbols such as % and $ "
        "kept as tokens, numbers compared as written ('12.9%' matches '12.9 %', '1,000' does "
        "not match '1000'); a gold answer must appear as whole tokens."
    )
    return "\n".join(lines)


def plot_curve(reports: Mapping[str, EvalReport], path: str | os.PathLike[str]) -> Path:
    """PNG: accuracy and coverage against the threshold, and accuracy against coverage."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    fig = Figure(figsize=(11, 4.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    for n, (mode, report) in enumerate(reports.items()):
        color = f"C{n}"
        t = [p.threshold for p in report.curve]
        acc = [np.nan if p.accuracy is None else p.accuracy for p in report.curve]
        cov = [np.nan if p.coverage is None else p.coverage for p in report.curve]
        left.plot(t, acc, color=color, label=f"{mode} accuracy")
        left.plot(t, cov, color=color, linestyle="--", label=f"{mode} coverage")
        right.plot(cov, acc, color=color, label=mode)
        now = next(p for p in report.curve if p.threshold == report.threshold)
        if now.coverage is not None and now.accuracy is not None:
            right.plot([now.coverage], [now.accuracy], "o", color=color)
    current = _first(reports).threshold
    left.axvline(current, color="grey", linestyle=":", label=f"current threshold {current:.2f}")
    left.set(xlabel="confidence threshold", ylabel="rate", xlim=(0, 1), ylim=(0, 1.02),
             title="Accuracy and coverage by threshold")
    right.set(xlabel="coverage (share answered)", ylabel="accuracy of answered",
              xlim=(0, 1.02), ylim=(0, 1.02),
              title=f"Coverage / accuracy (dots: current threshold {current:.2f})")
    left.legend(fontsize=7, loc="lower left")
    right.legend(fontsize=8)
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path


def plot_hits(reports: Mapping[str, EvalReport], path: str | os.PathLike[str]) -> Path:
    """PNG: grouped bars of hit@1, hit@3, MRR, doc recall and answered & correct per mode."""
    from matplotlib.figure import Figure

    keys = ("hit@1", "hit@3", "mrr", "doc_recall@k", "answered_correct")
    labels = {key: label for key, label, *_ in METRICS}
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(reports), 1)
    x = np.arange(len(keys))
    for n, (mode, report) in enumerate(reports.items()):
        values = [report.summary.get(k) or 0.0 for k in keys]
        bars = ax.bar(x + (n - (len(reports) - 1) / 2) * width, values, width, label=mode)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    k = _first(reports).top_k
    ax.set_xticks(x, [labels[key].replace("@k", f"@{k}") for key in keys])
    ax.set(ylim=(0, 1.1), ylabel="share of answerable questions", title="hit@k by mode")
    ax.legend()
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path


def write_outputs(
    reports: Mapping[str, EvalReport],
    out_dir: str | os.PathLike[str],
    *,
    corpus: str = "",
    command: str = "",
) -> list[Path]:
    """Write report.json, report.md, coverage_accuracy.png and hit_by_mode.png to `out_dir`."""
    if not reports:
        raise ValueError("no reports to write")
    from . import __version__

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = _first(reports)
    meta = {
        "gold": first.source,
        "corpus": corpus,
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__,
        "top_k": first.top_k,
        "threshold": first.threshold,
        "primary_metric": PRIMARY_METRIC,
        "metrics": {key: definition for key, _, definition, _ in METRICS},
    }
    data = {**meta, "summary": {m: r.summary for m, r in reports.items()},
            "reports": {m: r.to_dict() for m, r in reports.items()}}
    paths = [out / "report.json", out / "report.md"]
    paths[0].write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths.append(plot_curve(reports, out / "coverage_accuracy.png"))
    paths.append(plot_hits(reports, out / "hit_by_mode.png"))
    paths[1].write_text(_report_markdown(reports, meta), encoding="utf-8")
    return paths


def _report_markdown(reports: Mapping[str, EvalReport], meta: Mapping[str, Any]) -> str:
    lines = [
        "# Evaluation report",
        "",
        f"- gold: `{meta['gold'] or '(pairs)'}`",
        f"- corpus: `{meta['corpus'] or '(given)'}`",
        f"- command: `{meta['command']}`" if meta["command"] else "",
        f"- created: {meta['created']}, rag {meta['version']}, top-k {meta['top_k']}, "
        f"abstention threshold {meta['threshold']:.4f}",
        "",
        "## Summary",
        "",
        markdown_table(reports),
        "",
        "![coverage / accuracy](coverage_accuracy.png)",
        "",
        "![hit@k by mode](hit_by_mode.png)",
        "",
        "## Metrics",
        "",
        definitions_markdown(),
        "",
    ]
    for mode, report in reports.items():
        for warning in report.warnings:
            lines.append(f"> warning ({mode}): {warning}")
        misses = [r for r in report.rows if r.answerable and not r.hit(report.top_k)]
        wrong = sorted((r for r in report.rows if not r.answerable and not r.abstained),
                       key=lambda r: -r.confidence)
        lines += [f"## {mode}: answerable questions with no gold answer in the evidence "
                  f"({len(misses)}, first 20)", ""]
        lines += [f"- `{r.id}` {r.question} — gold: {'; '.join(r.answers)} — got: "
                  f"{_short(r.evidence[0].text) if r.evidence else '(no evidence)'}"
                  for r in misses[:20]]
        lines += ["", f"## {mode}: unanswerable questions it answered ({len(wrong)}, "
                  "most confident first, first 20)", ""]
        lines += [f"- `{r.id}` ({r.confidence:.2f}) {r.question} — got: "
                  f"{_short(r.evidence[0].text) if r.evidence else '(no evidence)'}"
                  for r in wrong[:20]]
        lines.append("")
    return "\n".join(line for n, line in enumerate(lines) if line or n == 0 or lines[n - 1])


def _short(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- command line ---------------------------------------------------------------------------


def command(args: argparse.Namespace) -> int:
    """`rag eval`: evaluate, print the table, write the report; `--calibrate` sets the threshold."""
    from .assistant import DEFAULT_CORPUS, DEFAULT_INDEX, Assistant
    from .cli import default_index_for

    modes: list[str | None] = list(MODES) if args.mode == "all" else [args.mode]
    if args.calibrate and len(modes) > 1:
        raise SettingsError("--calibrate chooses one threshold; pass --mode bm25|dense|hybrid, "
                            "or leave --mode out for the default")
    if args.top_k is not None and args.top_k < 1:
        raise SettingsError(f"--top-k must be a positive integer, got {args.top_k}")
    # Read the gold data before loading the model, so a bad file fails in a second.
    if args.squad:
        if args.gold or args.corpus:
            raise ValueError("--squad FILE is both the corpus and the gold set; "
                             "drop GOLD and --corpus")
        squad = read_squad(args.squad)
        cache = squad_cache_dir(args.squad)
        corpus = write_squad_corpus(squad, cache / "corpus")
        index = Path(args.index) if args.index else cache / "index"
        pairs, source = list(squad.pairs), str(args.squad)
    else:
        corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
        gold = Path(args.gold) if args.gold else corpus / "gold_qa.jsonl"
        if not args.gold and not gold.is_file():
            raise FileNotFoundError(f"no GOLD file given and {str(gold)!r} does not exist; "
                                    "pass a gold JSONL: rag eval GOLD.jsonl --corpus DIR")
        pairs, source = read_gold(gold), str(gold)
        index = Path(args.index) if args.index else (
            DEFAULT_INDEX if args.corpus is None else Path(default_index_for(str(corpus)))
        )
    assistant = Assistant.from_corpus(corpus, index, rebuild=args.rebuild, progress=True)
    print(assistant.build_report.lines()[0])
    reports = {}
    for mode in modes:
        report = evaluate(assistant, pairs, mode=mode, top_k=args.top_k, progress=True,
                          source=source)
        reports[report.mode] = report
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    print(format_table(reports))
    written = write_outputs(reports, args.out, corpus=str(corpus), command=_command_line(args))
    print(f"wrote {', '.join(p.name for p in written)} to {args.out}")
    if args.calibrate:
        choice = calibrate_threshold(_first(reports))
        scorer = write_threshold(choice.threshold, choice.note(), args.scorer or WEIGHTS_FILE)
        print(f"{choice.line()}; written to {scorer}")
    return 0


def _command_line(args: argparse.Namespace) -> str:
    """The `rag eval` invocation that reproduces a report."""
    parts = ["rag", "eval"]
    parts += [args.gold] if args.gold else []
    for flag, value in (("--squad", args.squad), ("--corpus", args.corpus),
                        ("--mode", args.mode), ("--top-k", args.top_k), ("--out", args.out)):
        if value is not None:
            parts += [flag, str(value)]
    return " ".join(parts)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> EvalReport:
        return evaluate(*args, **kwargs)


# Importing the submodule `rag.evaluate` replaces the package attribute `rag.evaluate` (the
# function) with this module; making the module callable keeps `rag.evaluate(a, gold)` working.
sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "EvalReport", "GoldPair", "QuestionResult", "CurvePoint", "Calibration", "GoldError",
    "evaluate", "read_gold", "read_squad", "normalize", "contains_answer", "hit_at_k",
    "reciprocal_rank", "abstention_metrics", "coverage_curve", "choose_threshold", "percentile",
    "calibrate_threshold", "write_threshold", "write_outputs",
]
