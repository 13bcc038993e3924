"""Shards: one corpus split by article, each scored with the whole corpus's BM25 statistics."""

from __future__ import annotations

import bisect
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import IndexCorruptError, SettingsError
from ..ingest.corpus import Corpus, assemble, corpus_files, read_file
from ..ingest.text import TOKENIZER
from ..scope import EVERYTHING, Scope
from ..settings import Mode, Settings, __version__, positive
from ..types import Article
from .build_report import BuildReport
from .cache import Previous
from .candidate import Candidate
from .embed import Encoder
from .fusion import Ranking, fuse
from .index import Index, index_fingerprint
from .sparse import Statistics, bm25_statistics
from .store import (
    StoredIndex,
    build_lock,
    load,
    read_manifest,
    remove_stale,
    save,
)

SHARD_FOLDER = "shard-{:03d}"

# How a build spreads independent work (reading files, counting a shard's words): the built-in
# `map` on one machine, Ray Data on a cluster (`rag.cluster.build`).
Spread = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]


@dataclass(frozen=True)
class ShardEntry:
    """One shard as the cluster manifest names it: its folder, generation and first rows."""

    folder: str
    generation: str
    first_doc: int
    first_sentence: int
    first_passage: int
    articles: int
    sentences: int
    passages: int


class ShardSearch(Protocol):
    """What a ShardedIndex asks of each shard: a `Shard` in this process, or a deployment."""

    def ranked(
        self, question: str, vector: np.ndarray, mode: Mode, limit: int, scope: Scope
    ) -> list[Ranking]: ...

    def sentences_of(
        self, passages: Sequence[tuple[int, float]], vector: np.ndarray, mode: Mode
    ) -> list[Candidate]: ...


@dataclass(frozen=True, eq=False)
class Shard:
    """One shard's Index, answering in the whole corpus's passage, sentence and article ids."""

    index: Index
    entry: ShardEntry

    @classmethod
    def load(cls, cluster_dir: str | Path, entry: ShardEntry, statistics: str) -> Shard:
        """The shard `entry` of the cluster index in `cluster_dir`, checked against it."""
        name = entry.folder
        try:
            stored = load(Path(cluster_dir) / name, generation=entry.generation)
            if stored.manifest.get("statistics") != statistics:
                raise IndexCorruptError(
                    "it was built with other BM25 statistics than the cluster manifest's"
                )
            articles = tuple(Article(**item) for item in stored.documents["articles"])
            index = Index.load(stored, Corpus(articles), time.perf_counter())
        except (IndexCorruptError, KeyError, TypeError) as exc:
            raise IndexCorruptError(
                f"shard {name} of {str(cluster_dir)!r} cannot be used: {exc}; "
                "build the cluster index again (rag index --cluster ADDRESS)"
            ) from exc
        counts = (len(index.articles), len(index.sentences), len(index.passages))
        if counts != (entry.articles, entry.sentences, entry.passages):
            raise IndexCorruptError(
                f"shard {name} of {str(cluster_dir)!r} holds {counts} (articles, sentences, "
                "passages), not what the cluster manifest says; build the cluster index again"
            )
        return cls(index, entry)

    def ranked(
        self, question: str, vector: np.ndarray, mode: Mode, limit: int, scope: Scope
    ) -> list[Ranking]:
        """The shard's best passages in `scope` by each retriever, in corpus-wide passage ids."""
        first = self.entry.first_passage
        return [
            (ids + first, scores)
            for ids, scores in self.index.ranked(question, vector, mode, limit, scope)
        ]

    def sentences_of(
        self, passages: Sequence[tuple[int, float]], vector: np.ndarray, mode: Mode
    ) -> list[Candidate]:
        """`Index.sentences_of` for corpus-wide passage ids, in corpus-wide ids."""
        entry = self.entry
        local = [(pid - entry.first_passage, weight) for pid, weight in passages]
        return [
            replace(c, sentence=c.sentence + entry.first_sentence, doc=c.doc + entry.first_doc)
            for c in self.index.sentences_of(local, vector, mode)
        ]


class ShardedIndex:
    """Answers exactly as one Index over the whole corpus would, from shards of it.

    Each shard ranks its own passages; their lists are merged into the corpus's best, fused as
    one index fuses, and the shards holding the fused passages return their sentences.
    """

    def __init__(
        self,
        articles: tuple[Article, ...],
        statistics: Statistics,
        shards: Sequence[ShardSearch],
        entries: Sequence[ShardEntry],
        report: BuildReport,
    ) -> None:
        self.articles = articles
        self.shards = tuple(shards)
        self.entries = tuple(entries)
        self.report = report
        self._idf = dict(zip(statistics.words, statistics.idf().tolist(), strict=True))
        self._first = [entry.first_passage for entry in entries]
        self._pool = ThreadPoolExecutor(len(self.shards), thread_name_prefix="shard")

    @classmethod
    def load(
        cls,
        cluster_dir: str | Path,
        open_shard: Callable[[ShardEntry, str], ShardSearch] | None = None,
    ) -> ShardedIndex:
        """The cluster index in `cluster_dir`; `open_shard(entry, statistics digest)` reaches a
        shard (default: loads it into this process, checked against the manifest)."""
        started = time.perf_counter()
        stored, entries = read_cluster(cluster_dir)
        statistics = Statistics(
            tuple(stored.documents["vocabulary"]),
            stored.arrays["document_frequency"],
            int(stored.manifest["documents"]),
            int(stored.manifest["length"]),
        )
        digest = stored.manifest["statistics"]
        if statistics.digest() != digest:
            raise IndexCorruptError(
                f"the BM25 statistics of {str(cluster_dir)!r} do not match their digest"
            )
        open_shard = open_shard or partial(Shard.load, cluster_dir)
        shards = [open_shard(entry, digest) for entry in entries]
        # Articles as the answers cite them: their text stays with their shard.
        articles = tuple(Article(text="", **item) for item in stored.documents["articles"])
        counts = stored.manifest["counts"]
        report = BuildReport(
            len(articles),
            counts["sentences"],
            counts["passages"],
            False,
            time.perf_counter() - started,
            f"{len(entries)} shards",
        )
        return cls(articles, statistics, shards, entries, report)

    def idf(self, token: str) -> float:
        """The corpus-wide BM25 inverse document frequency of a token (0 when unseen)."""
        return self._idf.get(token, 0.0)

    def candidates(
        self,
        question: str,
        vector: np.ndarray,
        mode: Mode,
        settings: Settings,
        scope: Scope = EVERYTHING,
    ) -> list[Candidate]:
        """`Index.candidates` over the whole corpus."""
        per_shard = list(
            self._pool.map(
                lambda shard: shard.ranked(question, vector, mode, settings.fetch, scope),
                self.shards,
            )
        )
        rankings = [merge(lists, settings.fetch) for lists in zip(*per_shard, strict=True)]
        groups: list[list[tuple[int, float]]] = [[] for _ in self.shards]
        for pid, weight in fuse(rankings, settings.passages):
            groups[bisect.bisect_right(self._first, pid) - 1].append((pid, weight))
        found = self._pool.map(
            lambda pair: pair[0].sentences_of(pair[1], vector, mode) if pair[1] else [],
            zip(self.shards, groups, strict=True),
        )
        # Shards hold consecutive articles, so their sentences come in corpus order.
        return [candidate for part in found for candidate in part]


def merge(rankings: Sequence[Ranking], limit: int) -> Ranking:
    """The `limit` best of several shards' rankings, ties broken by id as one index breaks them."""
    ids = np.concatenate([ids for ids, _ in rankings])
    scores = np.concatenate([scores for _, scores in rankings])
    order = np.lexsort((ids, -scores))[:limit]
    return ids[order], scores[order]


def read_cluster(cluster_dir: str | Path) -> tuple[StoredIndex, list[ShardEntry]]:
    """The cluster manifest in use and its shards; IndexCorruptError when there is none."""
    try:
        stored = load(cluster_dir)
        entries = [ShardEntry(**item) for item in stored.manifest["shards"]]
    except (KeyError, TypeError) as exc:
        raise IndexCorruptError(f"the cluster manifest of {str(cluster_dir)!r} is damaged") from exc
    except IndexCorruptError as exc:
        raise IndexCorruptError(
            f"no cluster index in {str(cluster_dir)!r} ({exc}); build one with "
            "`rag index --cluster ADDRESS --shards N`"
        ) from exc
    return stored, entries


def build_shards(
    corpus: str | Path,
    cluster_dir: str | Path,
    shards: int,
    encoder: Encoder,
    settings: Settings,
    *,
    spread: Spread = map,
    rebuild: bool = False,
    progress: bool = False,
) -> BuildReport:
    """Build the cluster index of `corpus` in `shards` shards, unless the one in use matches.

    Each shard is an index generation of its own folder, written beside the shard in use; the
    cluster manifest naming them is switched atomically at the end, so a failed or killed build
    leaves the previous cluster index whole. A shard reuses its previous generation's vectors
    and tokens: adding articles embeds only them.
    """
    positive("shards", shards)
    started = time.perf_counter()
    root, paths, problems = corpus_files(corpus)
    loaded = assemble(root, list(spread(partial(read_file, root), paths)), problems)
    key = index_fingerprint(loaded, encoder, settings, shards=shards)
    cluster_dir = Path(cluster_dir)
    with build_lock(cluster_dir):
        manifest = read_manifest(cluster_dir)
        if manifest is not None and manifest.get("fingerprint") == key and not rebuild:
            try:
                ShardedIndex.load(cluster_dir)
                return BuildReport.of(loaded, *_counts(manifest), started, None)
            except IndexCorruptError as exc:
                reason = f"damaged cluster index ({exc})"
        else:
            reason = "rebuild requested" if rebuild else "no cluster index yet"
            if manifest is not None and not rebuild:
                reason = "corpus, model, settings or shards changed"
        previous = {} if rebuild or manifest is None else _previous_shards(cluster_dir)
        bounds = partition(loaded.articles, shards, previous.get("assignment", {}))
        parts = [loaded.articles[lo:hi] for lo, hi in bounds]
        statistics = Statistics.combine(spread(partial(bm25_statistics, settings=settings), parts))
        digest = statistics.digest()
        entries: list[ShardEntry] = []
        encoded = reused = 0
        for number, (lo, hi) in enumerate(bounds):
            folder = SHARD_FOLDER.format(number)
            generation = previous.get("generations", {}).get(folder)
            old = (
                Previous.of_index(cluster_dir / folder, encoder.identity, TOKENIZER, generation)
                if generation
                else Previous.none()
            )
            part = Corpus(loaded.articles[lo:hi], loaded.reports[lo:hi])
            index = Index.build(
                part,
                encoder,
                settings,
                old,
                started,
                reason,
                progress,
                statistics=statistics,
                passages_in_corpus=statistics.documents,
            )
            del old
            stored = index.stored(key, encoder.identity, settings)
            stored.manifest.update(statistics=digest, shard=folder)
            stored.documents["articles"] = [asdict(article) for article in index.articles]
            path = save(cluster_dir / folder, stored, switch=False)
            entries.append(_entry(folder, path.name, entries, index))
            encoded, reused = encoded + index.report.encoded, reused + index.report.reused
        save(
            cluster_dir,
            _cluster_manifest(key, encoder, settings, statistics, entries, loaded, bounds),
        )
        _remove_unused(cluster_dir, entries)
    return BuildReport.of(
        loaded,
        entries[-1].first_sentence + entries[-1].sentences,
        statistics.documents,
        started,
        reason,
        encoded,
        reused,
    )


def partition(
    articles: Sequence[Article], shards: int, previous: Mapping[str, int]
) -> list[tuple[int, int]]:
    """`shards` runs of consecutive articles, as (first, stop): each article stays in the shard
    it was in (a new one joins the article before it); else runs of about equal text."""
    count = len(articles)
    if count < shards:
        raise SettingsError(
            f"{shards} shards need at least {shards} articles; the corpus has {count}: "
            "ask for fewer shards"
        )
    if previous:
        numbers, last = [], 0
        for article in articles:
            last = min(max(last, previous.get(article.doc_id, last)), shards - 1)
            numbers.append(last)
        cuts = np.searchsorted(numbers, np.arange(1, shards))
        if len(set(numbers)) == shards:
            return _runs([int(c) for c in cuts], count)
    size = np.cumsum([len(article.text) for article in articles])
    cuts, low = [], 0
    for k in range(1, shards):
        cut = int(np.argmin(np.abs(size - size[-1] * k / shards))) + 1
        # Each run holds at least one article.
        cut = min(max(cut, low + 1), count - (shards - k))
        cuts.append(cut)
        low = cut
    return _runs(cuts, count)


def _runs(cuts: list[int], count: int) -> list[tuple[int, int]]:
    edges = [0, *cuts, count]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _entry(folder: str, generation: str, before: list[ShardEntry], index: Index) -> ShardEntry:
    last = before[-1] if before else None
    return ShardEntry(
        folder,
        generation,
        first_doc=last.first_doc + last.articles if last else 0,
        first_sentence=last.first_sentence + last.sentences if last else 0,
        first_passage=last.first_passage + last.passages if last else 0,
        articles=len(index.articles),
        sentences=len(index.sentences),
        passages=len(index.passages),
    )


def _cluster_manifest(
    key: str,
    encoder: Encoder,
    settings: Settings,
    statistics: Statistics,
    entries: list[ShardEntry],
    loaded: Corpus,
    bounds: list[tuple[int, int]],
) -> StoredIndex:
    cited = [f.name for f in fields(Article) if f.name != "text"]
    articles = [{name: getattr(article, name) for name in cited} for article in loaded.articles]
    shard_of = [number for number, (lo, hi) in enumerate(bounds) for _ in range(lo, hi)]
    last = entries[-1]
    return StoredIndex(
        manifest={
            "fingerprint": key,
            "version": __version__,
            "model": encoder.identity,
            "tokenizer": TOKENIZER,
            "settings": settings.index_part(),
            "statistics": statistics.digest(),
            "documents": statistics.documents,
            "length": statistics.length,
            "shards": [asdict(entry) for entry in entries],
            "counts": {
                "articles": len(articles),
                "sentences": last.first_sentence + last.sentences,
                "passages": last.first_passage + last.passages,
            },
        },
        documents={
            "vocabulary": list(statistics.words),
            "articles": articles,
            "shard_of": shard_of,
        },
        arrays={"document_frequency": statistics.df},
    )


def _previous_shards(cluster_dir: Path) -> dict[str, dict[str, Any]]:
    """Where each article was and which generation each shard used, in the index in use."""
    try:
        stored, entries = read_cluster(cluster_dir)
        doc_ids = [item["doc_id"] for item in stored.documents["articles"]]
        assignment = dict(zip(doc_ids, stored.documents["shard_of"], strict=True))
    except (IndexCorruptError, KeyError, TypeError, ValueError):
        return {}
    return {
        "assignment": assignment,
        "generations": {entry.folder: entry.generation for entry in entries},
    }


def _remove_unused(cluster_dir: Path, entries: list[ShardEntry]) -> None:
    """Remove shard generations (and shard folders) the new cluster manifest does not name."""
    named = {entry.folder: entry.generation for entry in entries}
    for folder in cluster_dir.glob("shard-*"):
        if folder.name in named:
            remove_stale(folder, keep={named[folder.name]})
        elif folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def _counts(manifest: dict[str, Any]) -> tuple[int, int]:
    counts = manifest.get("counts", {})
    return int(counts.get("sentences", 0)), int(counts.get("passages", 0))
