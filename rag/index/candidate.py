"""Candidate: a sentence the index surfaced for a question, with the raw signals of it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A sentence that retrieval surfaced, with the raw signals the scorer needs."""

    sentence: int  # id in the sentence table
    text: str
    tokens: tuple[str, ...]  # `tokenize(text)`, computed once per index
    context_tokens: frozenset[str]  # the sentence, its neighbours, its article's title and year
    dense: float
    context_dense: float
    passage: float
    # The sentences before and after it in its article (empty at the article's ends): an answer
    # often follows the sentence that repeats the question ("This is called antigenic
    # variation." then "An example is HIV, ...").
    previous_tokens: frozenset[str] = frozenset()
    next_tokens: frozenset[str] = frozenset()
    previous_dense: float = 0.0
    next_dense: float = 0.0
    lead: bool = False  # the first sentence of its article
    published: str = ""  # its article's date, to resolve "the first half of this year"
    # Where it stands, for the evidence: its article's position in the index, and the
    # sentence's offsets in that article's text.
    doc: int = 0
    start: int = 0
    end: int = 0
    # What the reader reads around it: the article's title and the neighbouring sentences.
    title: str = ""
    previous: str = ""
    next: str = ""
