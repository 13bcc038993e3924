"""Sentence splitting and tokenization, shared by every stage."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import snowballstemmer

# Words that end with a period without ending the sentence ("No. 1", "Mr. Li", "U.S. firms").
_ABBREVIATIONS = frozenset(
    """no nos mr mrs ms dr prof st jr sr inc ltd co corp dept gov govt gen col lt sgt capt
    vs etc al fig approx est jan feb mar apr jun jul aug sep sept oct nov dec mt ft
    e.g i.e u.s u.k u.n e.u p.m a.m u.s.a a.k.a""".split()
)
# Sentence-ending punctuation, optionally followed by closing quotes or brackets.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|[。！？]+[”’」』）)]*|\n\s*")
_LAST_WORD = re.compile(r"[\w.]+$")
_LOOKBACK = 64  # longer than any abbreviation or acronym
_NEXT_STARTS_SENTENCE = re.compile(r"\s*[\"'“‘(\[]?[A-Z0-9\u4e00-\u9fff]")

_STOPWORDS = frozenset(
    """a an the and or but if of at by for with about against between into through during
    before after above below to from up down in out on off over under again further then
    once here there when where why how all any both each few more most other some such
    nor not only own same so than too very s t can will just don should now is are was
    were be been being have has had having do does did doing i me my we our you your he
    him his she her it its they them their what which who whom this that these those am
    would could shall may might must much many""".split()
)

_NUMBER = r"\d+(?:[.,]\d+)*"
_TOKEN = re.compile(
    rf"(?P<money>[$¥€£]\s?{_NUMBER})"
    rf"|(?P<percent>{_NUMBER}\s?(?:%|percent\b|per cent\b))"
    rf"|(?P<number>{_NUMBER})"
    r"|(?P<cjk>[\u3400-\u9fff])"
    r"|(?P<acronym>(?:[^\W\d_]\.){2,})"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)?(?:-[^\W\d_]+)*)",
    re.UNICODE,
)
# Newsroom abbreviations of magnitudes, written out so that "53.4bn" meets "53.4 billion".
_MAGNITUDES = {
    "bn": "billion",
    "bln": "billion",
    "mln": "million",
    "tn": "trillion",
    "trn": "trillion",
}
_stemmer = snowballstemmer.stemmer("english")
# Names this tokenizer in index fingerprints, so stored tokens are never reused by other code.
TOKENIZER = (
    hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    + f"+snowballstemmer-{version('snowballstemmer')}"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split text into sentences: (start, end) offsets, surrounding white space trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    text_end = len(text.rstrip())
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        mark = match.group()
        if mark.strip():
            if not _is_sentence_end(text, match.start(), end, text_end):
                continue
        elif mark.count("\n") == 1 and end < len(text) and text[end].islower():
            continue  # a hard-wrapped line ("... 43.7 billion yuan last\nyear, up 25 percent")
        _append_trimmed(text, start, end, spans)
        start = end
    _append_trimmed(text, start, len(text), spans)
    return spans


def _is_sentence_end(text: str, punct_start: int, punct_end: int, text_end: int) -> bool:
    """Decide whether the punctuation at text[punct_start:punct_end] closes a sentence."""
    mark = text[punct_start]
    if mark in "。！？":
        return True
    if mark == "." and text[punct_start:punct_end].rstrip("\"'”’)]") == ".":
        # Look back a bounded stretch only: slicing text[:punct_start] made long texts quadratic.
        lo = max(0, punct_start - _LOOKBACK)
        word = _LAST_WORD.search(text, lo, punct_start)
        if word and (word.start() > lo or lo == 0):
            token = word.group().lower()
            if token in _ABBREVIATIONS:
                return False
            # An initial ("J. K. Rowling") or an acronym with dots ("U.S."), not a sentence.
            if len(token) == 1 and token.isalpha() and text[punct_start - 1].isupper():
                return False
    # Only break when what follows looks like a new sentence (capital, digit, quote, CJK).
    return bool(_NEXT_STARTS_SENTENCE.match(text, punct_end)) or punct_end >= text_end


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _number(raw: str) -> str:
    # "53,420" and "53420" are one number; "53.42" keeps its decimal point.
    return re.sub(r",(?=\d{3}\b)", "", raw)


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Lowercase, stemmed tokens for BM25 and overlap features.

    Numbers keep their units ("12.9%" and "12.9 percent" both give "12.9%" plus "12.9";
    "$6.3" gives "$6.3" plus "6.3"; "bn" gives "billion"); a hyphenated word gives its joined
    form and its parts ("live-streaming" -> "livestream", "live", "stream"); CJK characters are
    unigrams.
    """
    text = _fold_accents(unicodedata.normalize("NFKC", text).lower())
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        raw = match.group()
        if kind == "money":
            number = _number(re.sub(r"\s", "", raw[1:]))
            tokens += [raw[0] + number, number]
        elif kind == "percent":
            number = _number(re.match(_NUMBER, raw).group())
            tokens += [number + "%", number]
        elif kind == "number":
            tokens.append(_number(raw))
        elif kind == "cjk":
            tokens.append(raw)
        elif kind == "acronym":
            tokens.append(raw.replace(".", ""))
        else:
            tokens += _word_tokens(raw, keep_stopwords)
    return tokens


def _fold_accents(text: str) -> str:
    """ "Temür" and "Temur", "Céloron" and "Celoron" are the same word to a reader."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _word_tokens(word: str, keep_stopwords: bool) -> list[str]:
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    parts = [p for p in word.split("-") if p]
    if len(parts) > 1:
        joined = _stem("".join(parts))
        return [joined] + [_stem(p) for p in parts if len(p) > 1 and p not in _STOPWORDS]
    if not keep_stopwords and word in _STOPWORDS:
        return []
    return [_stem(_MAGNITUDES.get(word, word))]
