"""Unanswerable training lists made from answerable ones: the question's name, year or number
swapped for one from another article, so the sentence that answered it no longer does."""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from .reader_data import Pair, read_lists

# What can be swapped, by kind: a year, another number, a run of capitalised words (a name or
# a place) that does not open the question. SQuAD 2.0's own unanswerables are mostly of this
# making ("What did Beyoncé release in 2013?" asked of a 2011 release).
KINDS = {
    "year": re.compile(r"(?<![-\w])(?:1[5-9]\d\d|20\d\d)(?![-\w])"),
    "number": re.compile(r"(?<![-\w])\d[\d,.]*(?![-\w])"),
    "name": re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-zà-ÿ]+(?: (?:of |de |the )?[A-Z][a-zà-ÿ]+)*"),
}


def _slots(question: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each swappable part; a year is never also taken as a number."""
    taken: list[tuple[str, int, int]] = []
    for kind, pattern in KINDS.items():
        for m in pattern.finditer(question):
            if not any(m.start() < end and start < m.end() for _, start, end in taken):
                taken.append((kind, m.start(), m.end()))
    return taken


def perturbed_lists(lists: Sequence[list[Pair]], count: int, seed: int) -> list[list[Pair]]:
    """Up to `count` unanswerable lists, each an answerable list whose question had one part
    swapped for a part of the same kind from another article's questions; the new part appears
    nowhere in the list's sentences or their context, so none of them answers it any more."""
    rng = random.Random(seed)
    answerable = [rows for rows in lists if rows[0].kind == "answerable"]
    pools: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KINDS}
    for rows in answerable:
        home = next(r.title for r in rows if r.label)
        for kind, start, end in _slots(rows[0].question):
            pools[kind].append((home, rows[0].question[start:end]))
    out: list[list[Pair]] = []
    for rows in rng.sample(answerable, len(answerable)):
        if len(out) >= count:
            break
        question = rows[0].question
        slots = _slots(question)
        if not slots:
            continue
        kind, start, end = rng.choice(slots)
        home = next(r.title for r in rows if r.label)
        seen = " ".join(f"{r.title} {r.previous} {r.sentence} {r.next}" for r in rows).lower()
        for _ in range(20):  # a few draws find a part that is foreign to the list
            title, part = rng.choice(pools[kind])
            if title != home and part.lower() not in seen and part != question[start:end]:
                break
        else:
            continue
        asked = question[:start] + part + question[end:]
        group = f"{rows[0].group}-swapped"
        out.append(
            [
                replace(
                    r,
                    group=group,
                    question=asked,
                    label=0,
                    kind="swapped",
                    answer_start=-1,
                    answer_end=-1,
                )
                for r in rows
            ]
        )
    return out


def add_perturbed(
    lists_file: str | os.PathLike[str], out: str | os.PathLike[str], count: int, seed: int
) -> Path:
    """`lists_file` with `count` swapped lists appended, written to `out`."""
    lists = list(read_lists(lists_file))
    extra = perturbed_lists(lists, count, seed)
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for rows in [*lists, *extra]:
            handle.writelines(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows)
    partial.replace(out)
    return out
