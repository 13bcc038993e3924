"""The reader: one MiniLM pass per (question, sentence in context) gives rank and short answer."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..index.onnx_model import checked_session

READER_DIR = Path(__file__).parents[1] / "models"  # rag/models: the package's data
READER_FILE = READER_DIR / "reader.int8.onnx"
READER_MANIFEST = READER_DIR / "reader.json"
QUESTION_TOKENS = 48  # longer questions are cut; almost none is this long
MAX_ANSWER_TOKENS = 24  # SQuAD answers are short: 99% of the training answers fit
# Readings kept per Reader: the scorer reads the trees' best candidates, and the composer then
# asks for the short answers of those it shows; from here they cost nothing the second time.
REMEMBERED = 256


def load_tokenizer():
    """The packaged all-MiniLM-L6-v2 tokenizer with padding and truncation off.

    The file switches both on (pad to 128, cut at 128): left on, every question would arrive
    as its tokens plus [PAD]s and the sentence's context would never fit. Widths are set here.
    """
    from tokenizers import Tokenizer

    from ..index.embed import packaged_model_path

    tokenizer = Tokenizer.from_file(str(packaged_model_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@dataclass(frozen=True)
class ReaderInput:
    """A candidate sentence as the reader sees it."""

    title: str
    previous: str
    sentence: str
    next: str


@dataclass(frozen=True)
class Encoded:
    """`[CLS] question [SEP] sentence [SEP] title: previous | next [SEP]` as token ids.

    `first` is the position of the sentence's first token and `offsets` the characters of the
    sentence each of its tokens covers, so a span of tokens maps back to the sentence's text.
    """

    ids: list[int]
    types: list[int]
    first: int
    offsets: list[tuple[int, int]]


def encode_pair(tokenizer, question: str, item: ReaderInput, max_length: int) -> Encoded:
    """Encode one pair in at most `max_length` tokens (`tokenizer` from `load_tokenizer`).

    The sentence comes right after the question so that running short of room only ever
    shortens its context: the title, then the end of the previous sentence and the start of
    the next, nearest first. A sentence too long for the room left loses its end.
    """

    def ids(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False).ids if text else []

    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    head = [cls, *ids(question)[:QUESTION_TOKENS], sep]
    sentence = tokenizer.encode(item.sentence, add_special_tokens=False)
    keep = max(max_length - len(head) - 2, 1)
    body = sentence.ids[:keep] + [sep]
    room = max_length - len(head) - len(body) - 1
    title_ids = ids(item.title + ":") if item.title else []
    title_ids = title_ids[: max(room // 4, 0)]
    room -= len(title_ids)
    before, after = ids(item.previous), ids(item.next)
    marker = ids("|") if after else []
    room -= len(marker)
    take_after = min(len(after), max(room // 2, room - len(before)))
    take_before = max(min(len(before), room - take_after), 0)
    context = title_ids + (before[-take_before:] if take_before > 0 else [])
    if take_after > 0:
        context += marker + after[:take_after]
    tail = context + [sep] if context else []
    tokens = head + body + tail
    types = [0] * len(head) + [1] * (len(body) + len(tail))
    offsets = [tuple(o) for o in sentence.offsets[:keep]]
    return Encoded(tokens, types, len(head), offsets)


def pad(encoded: Sequence[Encoded]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, type ids and attention mask, padded to the batch's longest row (not beyond)."""
    width = max(len(e.ids) for e in encoded)
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    types, mask = np.zeros_like(ids), np.zeros_like(ids)
    for row, item in enumerate(encoded):
        ids[row, : len(item.ids)] = item.ids
        types[row, : len(item.ids)] = item.types
        mask[row, : len(item.ids)] = 1
    return ids, types, mask


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, item: Encoded
) -> tuple[int, int, float]:
    """(first char, end char, score) of the best span inside the sentence: start ≤ end, at most
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


@dataclass(frozen=True)
class Reading:
    """What one pass over a pair gives: the logit that the sentence answers, and its span."""

    logit: float
    span: Span | None


class Reader:
    """Reads (question, sentence in context) pairs with the int8 ONNX model in `rag/models`.

    The model file's SHA-256 is checked against its manifest at load: a damaged or replaced file
    is an error that says how to export it again, never a silent fallback to another scorer.
    """

    def __init__(self, model: str | os.PathLike[str] = READER_FILE) -> None:
        self.model = Path(model)
        self._session, self.manifest = checked_session(self.model, "reader.json", "--reader")
        self.max_length = int(self.manifest["max_length"])
        self._tokenizer = load_tokenizer()
        self._remembered: OrderedDict[tuple[str, ReaderInput], Reading] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, question: str, items: Sequence[ReaderInput]) -> list[Reading]:
        """One reading per item; those read lately for this question are not read again."""
        with self._lock:
            known = {i: self._remembered.get((question, i)) for i in items}
        todo = list(dict.fromkeys(i for i, r in known.items() if r is None))
        if todo:
            fresh = dict(zip(todo, self._run(question, todo), strict=True))
            known.update(fresh)
            with self._lock:
                for item, reading in fresh.items():
                    self._remembered[(question, item)] = reading
                while len(self._remembered) > REMEMBERED:
                    self._remembered.popitem(last=False)
        return [known[i] for i in items]

    def _run(self, question: str, items: Sequence[ReaderInput]) -> list[Reading]:
        """Each pair in a run of its own, the runs side by side on the cores.

        Not one padded batch: int8 activations are scaled over the whole input, so in a batch
        a pair's reading would depend on the pairs beside it (by up to 0.47 logits on the
        bundled corpus), and one machine, a sharded index and a warm or cold process must read
        it alike. Runs in parallel threads (ONNX Runtime lets go of the GIL) read each pair
        exactly as alone: 5 pairs took 33 ms on 2 cores against 45 ms one after another.
        """
        if len(items) == 1:
            return [self._read_one(question, items[0])]
        return list(core_threads("read").map(lambda item: self._read_one(question, item), items))

    def _read_one(self, question: str, item: ReaderInput) -> Reading:
        enc = encode_pair(self._tokenizer, question, item, self.max_length)
        ids, types, mask = pad([enc])
        feeds = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
        ranks, starts, ends = self._session.run(None, feeds)
        span = None
        if enc.offsets:
            lo, hi, score = best_span(starts[0], ends[0], enc)
            span = Span(item.sentence[lo:hi], lo, hi, score)
        return Reading(float(ranks[0]), span)


_POOLS: dict[str, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def core_threads(name: str) -> ThreadPoolExecutor:
    """The pool of threads named `name`, one a core, made at first use (after any fork).

    One per use: the questions `ask_many` answers side by side wait on their readings, which
    must not queue behind them in the same pool.
    """
    with _POOLS_LOCK:
        if name not in _POOLS:
            _POOLS[name] = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix=name)
        return _POOLS[name]
