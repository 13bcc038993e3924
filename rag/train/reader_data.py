"""Training lists for the reader: each question with the assistant's top candidates, labelled."""

from __future__ import annotations

import json
import os
import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from ..answer.retrieve import candidate_sets
from ..answer.scorer import TreeScorer
from ..eval.data import GoldPair, read_squad, squad_cache_dir, write_squad_corpus
from ..eval.metrics import contains_answer
from ..index.embed import Embedder
from ..index.index import Index
from ..settings import Mode, Settings

# Candidates kept per question: the trees' best, which the reader reranks at answer time, plus
# the gold sentence wherever the trees put it, so every answerable list holds its positive.
LIST_SIZE = 8


@dataclass(frozen=True)
class Pair:
    """One (question, candidate sentence in context) row; `label` 1 when it holds a gold answer."""

    group: str  # the question's id; a list is the rows of one group
    question: str
    title: str
    previous: str
    sentence: str
    next: str
    tree: float  # the trees' probability, kept so that the reader and trees can be combined
    label: int
    kind: str  # "answerable", "unanswerable" (SQuAD 2.0) or "foreign" (article not indexed)
    answer_start: int = -1  # where a gold answer lies in `sentence` (-1: none found as written)
    answer_end: int = -1


def locate(sentence: str, answers: Sequence[str]) -> tuple[int, int]:
    """Characters of the first gold answer found in `sentence` as written, else any case."""
    for text in (sentence, sentence.lower()):
        for answer in answers:
            needle = answer.strip() if text is sentence else answer.strip().lower()
            at = text.find(needle) if needle else -1
            if at >= 0:
                return at, at + len(needle)
    return -1, -1


def kept(group: str, kind: str, share: float) -> bool:
    """Whether a list stays when answerable lists are thinned to `share`: by a hash of its
    question id, so the same lists stay in every run and on every machine. Unanswerable lists,
    the scarce kind, always stay."""
    if share >= 1 or kind != "answerable":
        return True
    return zlib.crc32(group.encode()) % 100 < round(100 * share)


def candidate_lists(
    index: Index, embedder: Embedder, trees: TreeScorer, pairs: Sequence[GoldPair], kind: str
) -> Iterator[list[Pair]]:
    """Yield the labelled list of each question in `pairs`, asked of `index` (hybrid mode)."""
    questions = [p.question for p in pairs]
    sets = candidate_sets(index, embedder, questions, Mode.HYBRID, Settings())
    for pair, cands in zip(pairs, sets, strict=True):
        if not cands.candidates:
            continue
        probabilities = trees.probabilities(cands, Mode.HYBRID)
        labels = [
            int(kind == "answerable" and contains_answer(c.text, pair.answers))
            for c in cands.candidates
        ]
        if kind == "answerable" and not any(labels):
            continue  # retrieval missed the answer: nothing to teach the reader here
        order = sorted(range(len(labels)), key=lambda i: -probabilities[i])
        keep = order[:LIST_SIZE] + [i for i in order[LIST_SIZE:] if labels[i]][:1]
        yield [
            Pair(
                pair.id,
                pair.question,
                c.title,
                c.previous,
                c.text,
                c.next,
                float(probabilities[i]),
                labels[i],
                kind,
                *(locate(c.text, pair.answers) if labels[i] else (-1, -1)),
            )
            for i in keep
            for c in (cands.candidates[i],)
        ]


def prepare(
    train_file: str | os.PathLike[str],
    abstain_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    articles: int = 60,
    foreign: int = 3000,
    seed: int = 13,
    answerable_share: float = 1.0,
) -> Path:
    """Write the reader's training lists to `out` (JSONL, one row a line).

    `articles` of `train_file` (chosen by `seed`) and all of `abstain_file` are indexed; their
    questions give answerable and SQuAD 2.0 unanswerable lists, and `foreign` questions of the
    other articles of `train_file`, asked of this corpus, give "not in the articles" lists.
    Answerable questions are thinned to `answerable_share` here already (`kept`): training
    would drop the others, and retrieving them is most of the time this step takes.
    """
    from ..types import Article

    share = answerable_share
    rng = random.Random(seed)
    train, extra = read_squad(train_file), read_squad(abstain_file)
    chosen = set(rng.sample([a.doc_id for a in train.articles], min(articles, len(train.articles))))
    corpus_articles: list[Article] = [a for a in train.articles if a.doc_id in chosen]
    corpus_articles += extra.articles
    cache = squad_cache_dir(train_file).with_name(f"reader-{seed}-{articles}")
    write_squad_corpus(type(train)(train.version, tuple(corpus_articles), ()), cache / "corpus")
    trees, embedder = TreeScorer.load(), Embedder()
    index = Index.for_corpus(cache / "corpus", cache / "index", embedder, Settings(), progress=True)
    inside = [p for p in train.pairs if p.doc_id in chosen] + list(extra.pairs)
    outside = [p for p in train.pairs if p.doc_id not in chosen]
    jobs = [
        ("answerable", [p for p in inside if p.answerable and kept(p.id, "answerable", share)]),
        ("unanswerable", [p for p in inside if not p.answerable]),
        ("foreign", rng.sample(outside, min(foreign, len(outside)))),
    ]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # renamed when whole: a rerun never reads half
    with partial.open("w", encoding="utf-8") as handle:
        for kind, pairs in jobs:
            bar = tqdm(total=len(pairs), desc=f"reader lists ({kind})", unit="q")
            for start in range(0, len(pairs), 256):
                chunk = pairs[start : start + 256]
                for rows in candidate_lists(index, embedder, trees, chunk, kind):
                    handle.writelines(
                        json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows
                    )
                bar.update(len(chunk))
            bar.close()
    partial.replace(out)
    return out


def read_lists(path: str | os.PathLike[str]) -> Iterator[list[Pair]]:
    """The lists in a file written by `prepare`, one question's rows at a time."""
    rows: list[Pair] = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            row = Pair(**json.loads(line))
            if rows and row.group != rows[0].group:
                yield rows
                rows = []
            rows.append(row)
    if rows:
        yield rows
