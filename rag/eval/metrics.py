"""Metrics: pure functions over answers and gold pairs, one row per question, a summary."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..types import Answer, Evidence
from .data import GoldPair

PRIMARY_METRIC = "hit@1"

LATENCY_SAMPLE = 50  # questions asked one at a time for p50/p95; the rest go in batches

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
    ("short_em", "short answer EM",
     "share of answerable questions whose short answer (of the first evidence sentence, "
     "abstained or not) equals a gold answer after SQuAD's normalization", "rate"),
    ("short_f1", "short answer F1",
     "mean over answerable questions of the short answer's best SQuAD token F1 against the "
     "gold answers (0 when there is none)", "rate"),
    ("short_em_hit1", "short EM where hit@1",
     "short answer EM over the answerable questions whose first sentence holds a gold answer",
     "rate"),
    ("short_f1_hit1", "short F1 where hit@1", "the same for F1", "rate"),
    ("short_match", "short answer matches",
     "share of answerable questions whose short answer agrees with a gold answer written as a "
     "phrase: inside it, holding all its figures ('419' matches '419 key trade enterprises', "
     "'65' does not match '65 bases in 19 countries'; without figures, token F1 >= 0.5), or "
     "holding it with token F1 >= 0.5", "rate"),
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
HIGH_ACCURACY = 0.9  # "high" confidence: at or above it, this share of the answers is right
CALIBRATION_OBJECTIVE = (
    f"the highest abstain recall that keeps answered & correct >= {KEEP_CORRECT:.0%} of its best"
)


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


_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalization: lower case, punctuation and a/an/the dropped, spaces joined."""
    text = "".join(ch for ch in text.lower() if not unicodedata.category(ch).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when `prediction` equals one of `answers` after `squad_normalize` (SQuAD's EM)."""
    return float(any(squad_normalize(prediction) == squad_normalize(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """The best token-overlap F1 of `prediction` against `answers` (SQuAD's F1)."""
    predicted = squad_normalize(prediction).split()
    best = 0.0
    for answer in answers:
        gold = squad_normalize(answer).split()
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
        elif not predicted and not gold:
            best = 1.0
    return best


def span_matches(prediction: str, answers: Sequence[str]) -> bool:
    """Whether a short answer agrees with a gold answer written as a phrase (see METRICS).

    Inside the gold phrase, it must carry every figure of it ("419" for "419 key trade
    enterprises", not "65" for "65 bases in 19 countries"), or, for a phrase without figures,
    overlap it with token F1 >= 0.5; holding the gold phrase, it must overlap it with F1 >= 0.5
    (a whole sentence holding the answer is not a short answer).
    """
    predicted = squad_normalize(prediction)
    if not predicted:
        return False
    for answer in answers:
        gold = squad_normalize(answer)
        if f" {gold} " in f" {predicted} ":
            if token_f1(prediction, [answer]) >= 0.5:
                return True
        elif f" {predicted} " in f" {gold} ":
            figures = [t for t in gold.split() if any(c.isdigit() for c in t)]
            if figures and set(figures) <= set(predicted.split()):
                return True
            if not figures and token_f1(prediction, [answer]) >= 0.5:
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
    abstain_precision: float | None = None  # share of those not answered that are unanswerable


def threshold_grid(*marks: float, step: float = 0.01) -> list[float]:
    """Thresholds 0, step, ..., 1 plus the `marks` (the thresholds in use), for the curve."""
    count = round(1 / step)
    grid = {round(i * step, 6) for i in range(count + 1)}
    grid.update(float(m) for m in marks)
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
                abstain_precision=_ratio(int((~answered & ~gold).sum()), int((~answered).sum())),
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


def choose_high(points: Sequence[CurvePoint], threshold: float) -> CurvePoint | None:
    """The lowest point at or above the abstention `threshold` whose answers are right at
    least HIGH_ACCURACY of the time: where "medium" confidence becomes "high". None when no
    threshold reaches that accuracy."""
    reaching = [
        p
        for p in points
        if p.threshold >= threshold and p.accuracy is not None and p.accuracy >= HIGH_ACCURACY
    ]
    return min(reaching, key=lambda p: p.threshold, default=None)


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
    kind: str = ""  # the gold pair's kind, when its file gives one

    @property
    def short_answer(self) -> str:
        """The first evidence sentence's short answer, even under an abstention ("" if none)."""
        first = self.evidence[0].short_answer if self.evidence else None
        return first.text if first else ""

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
                     "answerable": self.answerable, "kind": self.kind},
            "abstained": self.abstained,
            "confidence": self.confidence,
            "hit@1": self.hit(1),
            "hit@3": self.hit(3),
            "doc_hit": self.doc_rank is not None,
            "answered_correct": self.answered_correct,
            "answer_rank": self.answer_rank,
            "doc_rank": self.doc_rank,
            "short_answer": (
                asdict(self.evidence[0].short_answer)
                if self.evidence and self.evidence[0].short_answer else None
            ),
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
        kind=pair.kind,
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
        "short_em": _mean([exact_match(r.short_answer, r.answers) for r in gold]),
        "short_f1": _mean([token_f1(r.short_answer, r.answers) for r in gold]),
        "short_em_hit1": _mean([exact_match(r.short_answer, r.answers) for r in gold if r.hit(1)]),
        "short_f1_hit1": _mean([token_f1(r.short_answer, r.answers) for r in gold if r.hit(1)]),
        "short_match": _mean([span_matches(r.short_answer, r.answers) for r in gold]),
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


def fmt(value: float | int | None, kind: str = "rate") -> str:
    if value is None:
        return "–"
    if kind == "int":
        return f"{int(value):,}"
    if kind in ("ms", "s"):
        return f"{value:.1f}"
    return f"{value:.3f}"
