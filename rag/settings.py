"""Settings and the retrieval Mode: every tunable and every input check, defined once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .errors import QuestionError, SettingsError

__version__ = "0.1.0"  # part of the index fingerprint: a new version rebuilds every index
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "corpus"
DEFAULT_INDEX = ROOT / "index"
MAX_QUESTION_CHARS = 2000
# Control characters, and lone surrogates (valid in a JSON string, not in text: the tokenizer
# raises on them), read as spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class Mode(str, Enum):
    """Which retrievers feed the composer; an ablation switches one off."""

    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"

    # Equal to its value as a string everywhere: in dicts keyed by name, in f-strings, in JSON.
    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def of(cls, value: object) -> Mode:
        """`value` as a Mode; SettingsError naming the choices otherwise."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise SettingsError(f"mode must be one of {choices}; got {value!r}") from None

    @property
    def sparse(self) -> bool:
        return self is not Mode.DENSE

    @property
    def dense(self) -> bool:
        return self is not Mode.BM25


@dataclass(frozen=True)
class Settings:
    """Every tunable of the pipeline, checked once here; `index_part` feeds the fingerprint."""

    window: int = 3  # sentences per passage
    stride: int = 2  # sentences between passage starts (window - stride overlap)
    fetch: int = 50  # candidates each retriever over-fetches before fusion
    passages: int = 8  # fused passages whose sentences the composer scores
    top_k: int = 3  # evidence sentences returned
    mode: Mode = Mode.HYBRID
    threshold: float | None = None  # abstain below this confidence; None: the scorer's own

    def __post_init__(self) -> None:
        for name in ("window", "stride", "fetch", "passages", "top_k"):
            positive(name, getattr(self, name))
        if self.stride > self.window:
            raise SettingsError(f"stride ({self.stride}) must not exceed window ({self.window})")
        object.__setattr__(self, "mode", Mode.of(self.mode))
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise SettingsError(f"threshold must be within [0, 1], got {self.threshold!r}")

    def index_part(self) -> dict[str, int]:
        return {"window": self.window, "stride": self.stride}


def positive(name: str, value: object) -> int:
    """`value` if it is a positive integer; SettingsError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name} must be a positive integer, got {value!r}")
    return value


def validate_questions(questions: object) -> list[str]:
    """A batch of questions, each checked (`validate_question`) and cleaned; a lone string is a
    TypeError, so that it is never answered a character at a time."""
    if isinstance(questions, str):
        raise TypeError("ask_many takes a list of questions; use ask() for a single string")
    return [validate_question(question) for question in questions]  # type: ignore[attr-defined]


def validate_question(question: object) -> str:
    """The question with control characters removed; TypeError/QuestionError saying what to fix."""
    if not isinstance(question, str):
        raise TypeError(f"question must be a string, got {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask the question itself, not a document"
        )
    cleaned = " ".join(_CONTROL.sub(" ", question).split())
    if not cleaned:
        raise QuestionError("question is empty; type a question such as 'How much did sales grow?'")
    return cleaned
