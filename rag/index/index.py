"""Index: a corpus's sentence and passage tables, tokens, BM25 and vectors; built, saved, loaded."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import IndexCorruptError, IndexWriteError
from ..ingest.corpus import Corpus, load_corpus
from ..ingest.passages import Texts, passage_table, sentence_table
from ..ingest.text import TOKENIZER, tokenize
from ..ingest.tokens import TokenTable
from ..scope import EVERYTHING, Scope, passage_mask
from ..settings import Mode, Settings, __version__
from ..types import Article
from .annotations import Annotation, annotate_all, document, held
from .build_report import BuildReport
from .cache import Previous, article_keys, content_keys, token_table
from .candidate import Candidate
from .dense import DenseIndex, auto_kind, sentence_similarities
from .embed import Encoder
from .fusion import Ranking, fuse
from .sparse import SparseIndex, Statistics, passage_segments
from .store import StoredIndex, build_lock, fingerprint, load, read_manifest, save

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Index:
    """Everything retrieval reads, for one corpus: one row per sentence, passage and token list.

    `sentences` is (doc, start, end) per sentence; `passages` (first, last) sentence ids;
    `tokens` each sentence's tokens and then each article title's; `sentence_vectors` half
    precision, one per sentence; `dense` the passage vectors in faiss.
    """

    articles: tuple[Article, ...]
    sentences: np.ndarray
    passages: np.ndarray
    tokens: TokenTable
    sparse: SparseIndex
    dense: DenseIndex
    sentence_vectors: np.ndarray
    report: BuildReport
    text_keys: np.ndarray  # content key of each passage, then each sentence (`rag.index.cache`)
    # Values per article of each annotation (the figures table) stored with this generation.
    annotations: Mapping[Annotation, tuple[Any, ...]] = field(default_factory=dict)
    # What every sentence of an article implicitly says: its headline and its year.
    doc_tokens: tuple[frozenset[str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        count = len(self.sentences)
        doc_tokens = tuple(
            frozenset(self.tokens[count + doc] + tuple(tokenize(article.published[:4])))
            for doc, article in enumerate(self.articles)
        )
        object.__setattr__(self, "doc_tokens", doc_tokens)

    @classmethod
    def for_corpus(
        cls,
        corpus: str | os.PathLike[str],
        index_dir: str | os.PathLike[str] | None,
        embedder: Encoder,
        settings: Settings,
        *,
        rebuild: bool = False,
        progress: bool = False,
        stale_ok: bool = True,
        update: bool = True,
        annotations: Sequence[Annotation] = (),
    ) -> Index:
        """Reload the index in `index_dir` when it matches the corpus, else build and save it.

        A build after a change embeds and tokenizes only the texts the old index lacks;
        `rebuild=True` builds from scratch. `index_dir=None` builds in memory only. When the
        folder cannot be written (read-only, disk full), IndexWriteError says what to do, or with
        `stale_ok` a warning does and the last good generation is served (`last_good`).
        `update=False` serves an out-of-date index as built (`last_good`, after a warning)
        instead of rebuilding it, when it can. `annotations` are computed with the index, for
        the articles the previous generation did not annotate, and stored with it.
        """
        started = time.perf_counter()
        loaded = load_corpus(corpus)
        key = index_fingerprint(loaded, embedder, settings)
        if index_dir is None:
            return cls.build(
                loaded, embedder, settings, Previous.none(), started, "in memory", progress,
                annotations=annotations,
            )  # fmt: skip
        index_dir = Path(index_dir)
        # A current index is read without the lock, which needs write access: a generation
        # never changes once written and CURRENT is swapped atomically, so a read-only folder
        # or mount serves.
        manifest = read_manifest(index_dir)
        if not rebuild and manifest is not None and manifest.get("fingerprint") == key:
            try:
                return cls.load(load(index_dir), loaded, started, annotations)
            except IndexCorruptError:
                pass  # looked at again under the lock: replaced meanwhile, or damaged
        elif not (rebuild or update) and manifest is not None:
            try:
                index = cls.last_good(index_dir, loaded, embedder, settings, started, annotations)
            except IndexCorruptError as exc:
                log.warning("the index in %s cannot answer as built (%s)", index_dir, exc)
            else:
                log.warning(
                    "the corpus changed since the index in %s was built; answering from it as "
                    "built (run `rag index` to take the changes in)",
                    index_dir,
                )
                return index
        try:
            with build_lock(index_dir):
                manifest = read_manifest(index_dir)
                if rebuild:
                    reason = "rebuild requested"
                elif manifest is None:
                    reason = "no index yet"
                elif manifest.get("fingerprint") != key:
                    reason = "corpus, model or settings changed"
                    # Never silent: a large change takes minutes (bars show when asked for).
                    log.warning("updating the index in %s (%s)", index_dir, reason)
                else:
                    try:
                        return cls.load(load(index_dir), loaded, started, annotations)
                    except IndexCorruptError as exc:
                        log.warning("rebuilding the index: %s", exc)
                        reason = f"damaged index ({exc})"
                # What the index being replaced computed (nothing when a rebuild from scratch
                # was asked for): its embeddings and tokens are reused by content key.
                names = [annotation.name for annotation in annotations]
                previous = Previous.none() if rebuild else Previous.of_index(
                    index_dir, embedder.identity, TOKENIZER, documents=names
                )  # fmt: skip
                index = cls.build(
                    loaded, embedder, settings, previous, started, reason, progress,
                    annotations=annotations,
                )  # fmt: skip
                index.save(index_dir, key, embedder.identity, settings)
                return index
        except OSError as exc:  # a read-only folder or mount, a full disk: CURRENT is untouched
            problem = f"the index in {index_dir} cannot be written ({exc.strerror or exc})"
            fix = "free space or make it writable, then run `rag index`"
            if not stale_ok:
                raise IndexWriteError(f"{problem}; {fix}") from None
            try:
                index = cls.last_good(index_dir, loaded, embedder, settings, started, annotations)
            except IndexCorruptError as why:
                raise IndexWriteError(f"{problem}, nor an old one served ({why}); {fix}") from None
            log.warning("%s; answering from the last good one; %s", problem, fix)
            return index

    @classmethod
    def last_good(
        cls, index_dir: Path, loaded: Corpus, embedder: Encoder, settings: Settings, started: float,
        annotations: Sequence[Annotation] = (),
    ) -> Index:  # fmt: skip
        """The current generation, stale, over the articles it was built from: served when it
        was built with this model, tokenizer and settings, and the corpus still holds every one
        of its articles unchanged (articles added since are left out). IndexCorruptError when
        it cannot be."""
        stored = load(index_dir)
        built = stored.manifest
        same = (built.get("model"), built.get("tokenizer"), built.get("settings"))
        if same != (embedder.identity, TOKENIZER, settings.index_part()):
            raise IndexCorruptError("it was built with another model, tokenizer or settings")
        listed = stored.documents.get("articles")
        if not isinstance(listed, list):
            raise IndexCorruptError("it does not list its articles (built by an older version)")
        keys = article_keys(loaded.articles)
        by_key = {tuple(key): article for key, article in zip(keys, loaded.articles, strict=True)}
        try:
            articles = tuple(by_key[tuple(key)] for key in listed)
        except (KeyError, TypeError):
            raise IndexCorruptError("an article it was built from was changed or removed") from None
        index = cls.load(stored, replace(loaded, articles=articles), started, annotations)
        report = replace(index.report, reason="stale: the corpus changed, the index could not")
        return replace(index, report=report)

    @classmethod
    def build(
        cls,
        loaded: Corpus,
        embedder: Encoder,
        settings: Settings,
        previous: Previous,
        started: float,
        reason: str,
        progress: bool = False,
        statistics: Statistics | None = None,
        passages_in_corpus: int | None = None,
        annotations: Sequence[Annotation] = (),
    ) -> Index:
        """Split, tokenize and embed `loaded`, reusing whatever `previous` already computed.

        A shard of a larger corpus passes that corpus's BM25 `statistics` and passage count.
        Each of `annotations` is computed for the articles `previous` did not store it for.
        """
        articles = loaded.articles
        annotated, computed, seconds = annotate_all(
            annotations, articles, article_keys(articles), previous.documents
        )
        sentences = sentence_table(articles)
        passages = passage_table(sentences, window=settings.window, stride=settings.stride)
        texts = Texts(articles, sentences, passages)
        sentence_texts = Texts(articles, sentences, None)
        passage_keys, sentence_keys = content_keys(texts), content_keys(sentence_texts)
        # Tokens and BM25 first: their temporary arrays are gone before the vectors arrive.
        tokens = token_table(articles, sentence_texts, previous, sentence_keys)
        sparse = SparseIndex.of_segments(
            tokens.words,
            tokens.ids,
            passage_segments(tokens, sentences, passages),
            statistics=statistics,
        )

        # One bar a stage, over every chunk the stage encodes (only texts not seen before).
        # The bar's total is set once the stage knows how many texts it encodes.
        def encoder(stage: str) -> tuple[Callable[[list[str]], np.ndarray], tqdm, Callable]:
            bar = tqdm(desc=f"Embedding {stage}", unit="text", disable=not progress)

            def total(count: int) -> None:
                bar.total = count
                bar.refresh()

            return (lambda todo: embedder.encode(todo, progress=bar.update)), bar, total

        # An inverted file keeps half precision anyway, so its input needs no more.
        kind = auto_kind(passages_in_corpus or len(passages))
        precision = np.float16 if kind == "ivf" else np.float32
        encode, bar, total = encoder("passages")
        vectors, encoded = previous.embed(
            texts, passage_keys, encode, embedder.dimension, dtype=precision, total=total
        )
        bar.close()
        dense = DenseIndex(vectors, kind=kind, like=previous.dense)
        del vectors  # faiss holds its own copy
        previous = previous.for_sentences()  # frees the old passage index
        # Half precision halves the largest array; cosine scores move by under 1e-3.
        encode, bar, total = encoder("sentences")
        sentence_vectors, encoded_sentences = previous.embed(
            sentence_texts, sentence_keys, encode, embedder.dimension, dtype=np.float16, total=total
        )
        bar.close()
        encoded += encoded_sentences
        del previous
        reused = len(passage_keys) + len(sentence_keys) - encoded
        report = BuildReport.of(
            loaded, len(sentences), len(passages), started, reason, encoded, reused, computed,
            seconds,
        )  # fmt: skip
        text_keys = np.vstack([passage_keys, sentence_keys])
        return cls(
            articles, sentences, passages, tokens, sparse, dense, sentence_vectors, report,
            text_keys, annotated,
        )  # fmt: skip

    def save(self, index_dir: Path, key: str, model: str, settings: Settings) -> None:
        """Write this index to `index_dir` as a new generation (see `rag.index.store`)."""
        save(index_dir, self.stored(key, model, settings))

    def stored(self, key: str, model: str, settings: Settings) -> StoredIndex:
        """The files this index is saved as."""
        keys = article_keys(self.articles)
        return StoredIndex(
            manifest={
                "fingerprint": key,
                "version": __version__,
                "model": model,
                "tokenizer": TOKENIZER,
                "settings": settings.index_part(),
                "counts": {
                    "articles": len(self.articles),
                    "sentences": len(self.sentences),
                    "passages": len(self.passages),
                },
            },
            documents={
                "build": asdict(self.report),
                "vocabulary": self.sparse.words,
                "articles": keys,  # what `last_good` serves it over
                **{a.name: document(a, keys, values) for a, values in self.annotations.items()},
            },
            arrays={
                "sentences": self.sentences,
                "passages": self.passages,
                "sentence_vectors": self.sentence_vectors,
                "text_keys": self.text_keys,
                "token_ids": self.tokens.ids,
                "token_offsets": self.tokens.offsets,
                **self.sparse.arrays(),
            },
            vectors={"passages": self.dense.faiss_index},
        )

    @classmethod
    def load(
        cls, stored: StoredIndex, loaded: Corpus, started: float,
        annotations: Sequence[Annotation] = (),
    ) -> Index:  # fmt: skip
        """The index in `stored`, for the corpus `loaded` whose fingerprint it matched, with
        the `annotations` it stored (one it lacks is left out: `annotation` is then None)."""
        # The fingerprint matched, so the corpus just read holds the articles the index was
        # built from: no second copy of their text is stored or read.
        articles = loaded.articles
        try:
            sentences = stored.arrays["sentences"]
            passages = stored.arrays["passages"]
            vectors = stored.arrays["sentence_vectors"]
            dense = DenseIndex.from_faiss(stored.vectors["passages"])
            words = stored.documents["vocabulary"]
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise IndexCorruptError("the stored vocabulary is not a list of strings")
            tokens = TokenTable(words, stored.arrays["token_ids"], stored.arrays["token_offsets"])
            sparse = SparseIndex.from_arrays(words, stored.arrays, len(passages))
            keys = stored.arrays["text_keys"]
        except KeyError as exc:
            raise IndexCorruptError(f"index is missing a part: {exc}") from exc
        if (
            not len(vectors) == len(tokens) - len(articles) == len(sentences)
            or len(dense) != len(passages)
            or tokens.offsets[-1] != len(tokens.ids)
            or (len(tokens.ids) and int(tokens.ids.max()) >= len(words))
        ):
            raise IndexCorruptError("index parts disagree in size")
        report = BuildReport.of(loaded, len(sentences), len(passages), started, None)
        stored_annotations = held(annotations, stored.documents, articles)
        return cls(
            articles, sentences, passages, tokens, sparse, dense, vectors, report, keys,
            stored_annotations,
        )  # fmt: skip

    def annotation(self, name: str) -> tuple[Any, ...] | None:
        """The values per article of the annotation `name`, None when this index has none."""
        return next((v for a, v in self.annotations.items() if a.name == name), None)

    def idf(self, token: str) -> float:
        """The BM25 inverse document frequency of a token (0 when no passage holds it)."""
        return self.sparse.idf(token)

    def candidates(
        self,
        question: str,
        vector: np.ndarray,
        mode: Mode,
        settings: Settings,
        scope: Scope = EVERYTHING,
    ) -> list[Candidate]:
        """Every sentence of the best fused passages, with the signals the features are made of."""
        ranked = self.ranked(question, vector, mode, settings.fetch, scope)
        return self.sentences_of(fuse(ranked, settings.passages), vector, mode)

    def ranked(
        self, question: str, vector: np.ndarray, mode: Mode, limit: int, scope: Scope = EVERYTHING
    ) -> list[Ranking]:
        """The `limit` best passages of articles in `scope` by BM25 and by the dense vectors,
        as `mode` asks."""
        allowed = passage_mask(scope, self.articles, self.sentences, self.passages)
        rankings = []
        if mode.sparse:
            rankings.append(self.sparse.search(question, limit, allowed))
        if mode.dense:
            rankings.append(self.dense.search(vector, limit, allowed))
        return rankings

    def sentences_of(
        self, passages: Sequence[tuple[int, float]], vector: np.ndarray, mode: Mode
    ) -> list[Candidate]:
        """The sentences of `passages` (id, fused weight), each with its best passage's weight."""
        best: dict[int, float] = {}
        for pid, weight in passages:
            first, last = self.passages[pid]
            for sid in range(int(first), int(last) + 1):
                best[sid] = max(best.get(sid, 0.0), weight)
        if not best:
            return []
        ids = sorted(best)
        spans = [self.neighbours(sid) for sid in ids]
        similarity = sentence_similarities(self.sentence_vectors, ids, spans, vector, mode.dense)
        out = []
        for k, (sid, (lo, hi)) in enumerate(zip(ids, spans, strict=True)):
            doc, start, end = (int(v) for v in self.sentences[sid])
            article = self.articles[doc]
            tokens = self.tokens[sid]
            previous = frozenset(self.tokens[lo]) if lo < sid else frozenset()
            following = frozenset(self.tokens[hi]) if hi > sid else frozenset()
            dense, context, before, after = similarity[k]
            out.append(
                Candidate(
                    sentence=sid,
                    text=article.text[start:end],
                    tokens=tokens,
                    context_tokens=self.doc_tokens[doc].union(tokens, previous, following),
                    dense=dense,
                    context_dense=context,
                    passage=best[sid],
                    previous_tokens=previous,
                    next_tokens=following,
                    previous_dense=before,
                    next_dense=after,
                    lead=lo == sid,  # no previous sentence in its article
                    published=article.published,
                    doc=doc,
                    start=start,
                    end=end,
                    title=article.title,
                    previous=self.sentence_text(lo) if lo < sid else "",
                    next=self.sentence_text(hi) if hi > sid else "",
                )
            )
        return out

    def sentence_text(self, sid: int) -> str:
        """The text of sentence `sid`."""
        doc, start, end = self.sentences[sid]
        return self.articles[int(doc)].text[int(start) : int(end)]

    def neighbours(self, sid: int) -> tuple[int, int]:
        """The first and last sentence ids of `sid` with its neighbours in the same article."""
        doc = self.sentences[sid, 0]
        lo = sid - 1 if sid > 0 and self.sentences[sid - 1, 0] == doc else sid
        last = len(self.sentences) - 1
        hi = sid + 1 if sid < last and self.sentences[sid + 1, 0] == doc else sid
        return lo, hi


def index_fingerprint(loaded: Corpus, embedder: Encoder, settings: Settings, **more: Any) -> str:
    """What an index depends on (the corpus's files, the model, the tokenizer, the settings, this
    version, and `more`), hashed: an index whose manifest holds another is rebuilt."""
    return fingerprint(
        {
            "corpus": loaded.files,
            "model": embedder.identity,
            "tokenizer": TOKENIZER,
            "settings": settings.index_part(),
            "version": __version__,
            **more,
        }
    )
