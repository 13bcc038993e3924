"""The learned reader: a cross-encoder that reads the question and a candidate sentence together."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .onnx_model import checked_session

READER_DIR = Path(__file__).with_name("models")
READER_FILE = READER_DIR / "reader.int8.onnx"
READER_MANIFEST = READER_DIR / "reader.json"
QUESTION_TOKENS = 48  # longer questions are cut; almost none is this long
CLS, SEP = "[CLS]", "[SEP]"


def tokenizer_file() -> Path:
    """The packaged all-MiniLM-L6-v2 tokenizer, which the reader was fine-tuned with."""
    from .embed import packaged_model_path

    return packaged_model_path() / "tokenizer.json"


def encode_pair(
    tokenizer,
    question: str,
    title: str,
    previous: str,
    sentence: str,
    following: str,
    max_length: int,
) -> tuple[list[int], list[int]]:
    """Token ids and type ids of `[CLS] question [SEP] sentence [SEP] title: previous | next [SEP]`.

    The sentence comes right after the question so that truncation only ever shortens its
    context: the end of the previous sentence and the start of the next are kept, nearest first.
    """

    def ids(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False).ids if text else []

    cls, sep = tokenizer.token_to_id(CLS), tokenizer.token_to_id(SEP)
    head = [cls, *ids(question)[:QUESTION_TOKENS], sep]
    body = ids(sentence)[: max(max_length - len(head) - 2, 1)] + [sep]
    room = max_length - len(head) - len(body) - 1
    title_ids = ids(title + ":")[: max(room // 4, 0)]
    room -= len(title_ids)
    before, after = ids(previous), ids(following)
    take_after = min(len(after), max(room // 2, room - len(before)))
    take_before = min(len(before), room - take_after - 1)
    context = title_ids + (before[-take_before:] if take_before > 0 else [])
    context += ids("|") + after[:take_after] if take_after > 0 else []
    tail = context[: max(room, 0)] + [sep]
    tokens = head + body + tail
    return tokens, [0] * len(head) + [1] * (len(body) + len(tail))


def pad(encoded: Sequence[tuple[list[int], list[int]]]) -> tuple[np.ndarray, ...]:
    """Token ids, type ids and attention mask of `encode_pair` results, padded to one width."""
    width = max(len(ids) for ids, _ in encoded)
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    types, mask = np.zeros_like(ids), np.zeros_like(ids)
    for row, (row_ids, row_types) in enumerate(encoded):
        ids[row, : len(row_ids)] = row_ids
        types[row, : len(row_ids)] = row_types
        mask[row, : len(row_ids)] = 1
    return ids, types, mask


@dataclass(frozen=True)
class ReaderInput:
    """A candidate sentence as the reader sees it."""

    title: str
    previous: str
    sentence: str
    next: str


class Reader:
    """Scores (question, sentence in context) pairs with the int8 ONNX model in `rag/models`.

    The model file's SHA-256 is checked against its manifest at load: a damaged or replaced file
    is an error that says how to export it again, never a silent fallback to another scorer.
    """

    def __init__(self, model: str | os.PathLike[str] = READER_FILE) -> None:
        from tokenizers import Tokenizer

        self._session, self.manifest = checked_session(Path(model), "reader.json", "--reader")
        self.max_length = int(self.manifest["max_length"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file()))

    def logits(self, question: str, items: Sequence[ReaderInput]) -> np.ndarray:
        """The reader's logit for each item; sigmoid gives the probability that it answers."""
        if not items:
            return np.zeros(0, dtype=np.float32)
        ids, types, mask = pad(
            [
                encode_pair(
                    self._tokenizer,
                    question,
                    i.title,
                    i.previous,
                    i.sentence,
                    i.next,
                    self.max_length,
                )
                for i in items
            ]
        )
        feeds = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
        return self._session.run(None, feeds)[0].reshape(-1).astype(np.float32)
