"""The short answer inside a sentence: a MiniLM span model, run in ONNX Runtime."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .onnx_model import checked_session
from .reader import pad

MODELS = Path(__file__).with_name("models")
SPAN_FILE = MODELS / "span.int8.onnx"
QUESTION_TOKENS = 40  # longer questions are cut; almost none is this long
MAX_ANSWER_TOKENS = 24  # SQuAD answers are short: 99% of the training answers fit


def load_tokenizer():
    """The packaged all-MiniLM-L6-v2 tokenizer, padding and truncation off: callers set widths."""
    from tokenizers import Tokenizer

    from .embed import packaged_model_path

    tokenizer = Tokenizer.from_file(str(packaged_model_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@dataclass(frozen=True)
class SpanInput:
    """`[CLS] question [SEP] sentence [SEP]` as ids, with each sentence token's character span."""

    ids: list[int]
    types: list[int]
    first: int  # position of the sentence's first token
    offsets: list[tuple[int, int]]  # characters of `sentence` covered by each sentence token


def encode_span_input(tokenizer, question: str, sentence: str, max_length: int) -> SpanInput:
    """Encode a (question, sentence) pair; a sentence too long for `max_length` loses its end."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    head = [cls, *tokenizer.encode(question, add_special_tokens=False).ids[:QUESTION_TOKENS], sep]
    body = tokenizer.encode(sentence, add_special_tokens=False)
    keep = max(max_length - len(head) - 1, 1)
    ids = head + body.ids[:keep] + [sep]
    types = [0] * len(head) + [1] * (len(ids) - len(head))
    return SpanInput(ids, types, len(head), [tuple(o) for o in body.offsets[:keep]])


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, item: SpanInput
) -> tuple[int, int, float]:
    """(first char, end char, score) of the best sentence span: start ≤ end, at most
    MAX_ANSWER_TOKENS tokens; the score is the softmax probability of that start and that end.
    """
    n = len(item.offsets)
    starts = start_logits[item.first : item.first + n].astype(np.float64)
    ends = end_logits[item.first : item.first + n].astype(np.float64)
    pair = starts[:, None] + ends[None, :]
    allowed = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(
        np.ones((n, n), dtype=bool), MAX_ANSWER_TOKENS
    )
    pair = np.where(allowed, pair, -np.inf)
    i, j = np.unravel_index(int(np.argmax(pair)), pair.shape)
    norm = np.logaddexp.reduce(starts) + np.logaddexp.reduce(ends)
    return item.offsets[i][0], item.offsets[j][1], float(np.exp(pair[i, j] - norm))


@dataclass(frozen=True)
class Span:
    """A stretch of one sentence: `sentence[start:end] == text`; `score` is the model's belief."""

    text: str
    start: int
    end: int
    score: float


class SpanReader:
    """Finds the answer to a question inside given sentences, with the int8 model in `rag/models`.

    The model's SHA-256 is checked against `span.json` at load, as the reader's is: a damaged
    file is an error that says how to export it again, never a silent fallback.
    """

    def __init__(self, model: str | os.PathLike[str] = SPAN_FILE) -> None:
        self._session, self.manifest = checked_session(Path(model), "span.json", "--span")
        self.max_length = int(self.manifest["max_length"])
        self._tokenizer = load_tokenizer()

    def spans(self, question: str, sentences: Sequence[str]) -> list[Span | None]:
        """The best span of each sentence (None for an empty one), in one batch."""
        inputs = [
            encode_span_input(self._tokenizer, question, s, self.max_length) for s in sentences
        ]
        found: list[Span | None] = [None] * len(sentences)
        rows = [i for i, item in enumerate(inputs) if item.offsets]
        if not rows:
            return found
        ids, types, mask = pad([(inputs[i].ids, inputs[i].types) for i in rows])
        feeds = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
        starts, ends = self._session.run(None, feeds)
        for row, i in enumerate(rows):
            start, end, score = best_span(starts[row], ends[row], inputs[i])
            found[i] = Span(sentences[i][start:end], start, end, score)
        return found
