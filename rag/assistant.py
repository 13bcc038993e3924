"""Assistant: build or reload the index for a corpus, then answer questions from it."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from . import __version__
from .cache import Previous, content_keys
from .compose import (
    MISSING_TERM_PENALTY,
    MODES,
    SIDE_BY_SIDE_SHARE,
    Candidate,
    CandidateSet,
    answer_span,
    clamp_unit,
    default_threshold,
    differing_figures,
    features,
    missing_terms,
    score,
    select,
    with_other_articles,
)
from .corpus import ArticleReport, Corpus, Problem, load_corpus
from .dense import DEFAULT_MODEL, DenseIndex, Embedder, auto_kind
from .errors import IndexCorruptError, QuestionError, SettingsError
from .fusion import reciprocal_rank_fusion
from .passages import Texts, passage_table, sentence_table
from .question import QuestionAnalysis, analyze
from .sparse import SparseIndex
from .store import StoredIndex, build_lock, fingerprint, load, read_manifest, save
from .text import TOKENIZER, tokenize
from .timeref import resolve_period
from .tokens import TokenTable
from .types import Answer, Article, Evidence

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "corpus"
DEFAULT_INDEX = ROOT / "index"
MAX_QUESTION_CHARS = 2000
# Control characters, and lone surrogates (valid in a JSON string, not in text: the tokenizer
# raises on them), read as spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class Settings:
    """Every tunable of the pipeline, checked once here; `index_part` feeds the fingerprint."""

    window: int = 3  # sentences per passage
    stride: int = 2  # sentences between passage starts (window - stride overlap)
    fetch: int = 50  # candidates each retriever over-fetches before fusion
    passages: int = 8  # fused passages whose sentences the composer scores
    top_k: int = 3  # evidence sentences returned
    mode: str = "hybrid"
    threshold: float = field(default_factory=default_threshold)  # abstain below this confidence

    def __post_init__(self) -> None:
        for name in ("window", "stride", "fetch", "passages", "top_k"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} must be a positive integer, got {value!r}")
        if self.stride > self.window:
            raise SettingsError(f"stride ({self.stride}) must not exceed window ({self.window})")
        _check_mode(self.mode)
        if not 0.0 <= self.threshold <= 1.0:
            raise SettingsError(f"threshold must be within [0, 1], got {self.threshold!r}")

    def index_part(self) -> dict[str, int]:
        return {"window": self.window, "stride": self.stride}


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SettingsError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


@dataclass(frozen=True)
class BuildReport:
    """What building (or reloading) the index found: counts, cleaning, skipped files."""

    articles: int
    sentences: int
    passages: int
    rebuilt: bool
    seconds: float
    reason: str  # why it was rebuilt, or "fingerprint matches"
    reports: tuple[ArticleReport, ...] = ()
    problems: tuple[Problem, ...] = ()
    encoded: int = 0  # texts embedded by this build
    reused: int = 0  # texts whose embedding the previous index already had

    @classmethod
    def of(
        cls,
        loaded: Corpus,
        sentences: int,
        passages: int,
        started: float,
        rebuilt_because: str | None,
        encoded: int = 0,
        reused: int = 0,
    ) -> BuildReport:
        """The report for an index just built (`rebuilt_because` says why) or reloaded (None)."""
        return cls(
            articles=len(loaded.articles),
            sentences=sentences,
            passages=passages,
            rebuilt=rebuilt_because is not None,
            seconds=time.perf_counter() - started,
            reason=rebuilt_because or "fingerprint matches",
            reports=loaded.reports,
            problems=loaded.problems,
            encoded=encoded,
            reused=reused,
        )

    def lines(self) -> list[str]:
        """Human-readable summary: one line per removal and per problem."""
        verb = "built" if self.rebuilt else "loaded"
        out = [
            f"{verb} index: {self.articles} articles, {self.passages} passages, "
            f"{self.sentences} sentences in {self.seconds:.1f}s ({self.reason})"
        ]
        if self.rebuilt:
            out.append(
                f"  embedded {self.encoded:,} texts, reused {self.reused:,} from the previous index"
            )
        for report in self.reports:
            for removal in report.removed:
                text = removal.text if len(removal.text) <= 90 else removal.text[:87] + "..."
                out.append(f"  {report.doc_id}: removed {removal.kind}: {text}")
            if report.encoding != "utf-8":  # a guess that a reader should be able to check
                out.append(f"  {report.source}: not UTF-8, decoded as {report.encoding}")
        out += [f"  skipped {problem}" for problem in self.problems]
        return out


class Assistant:
    """Answers questions from one corpus with extracted, cited sentences."""

    def __init__(
        self,
        articles: Sequence[Article],
        sentences: np.ndarray,
        passages: np.ndarray,
        tokens: TokenTable,
        sparse: SparseIndex,
        sentence_vectors: np.ndarray,
        dense: DenseIndex,
        embedder: Embedder,
        settings: Settings,
        report: BuildReport,
    ) -> None:
        self.articles = tuple(articles)
        self.settings = settings
        self.build_report = report
        self._sentences = sentences
        self._passages = passages
        self._sentence_vectors = sentence_vectors
        self._dense = dense
        self._embedder = embedder
        # Each sentence's tokens, then each article title's: computed once, stored with the index.
        self._tokens = tokens
        self._sparse = sparse
        # What every sentence of an article implicitly says: its headline and its year.
        self._doc_tokens = [
            frozenset(tokens[len(sentences) + doc] + tuple(tokenize(article.published[:4])))
            for doc, article in enumerate(self.articles)
        ]

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_corpus(
        cls,
        corpus: str | os.PathLike[str] = DEFAULT_CORPUS,
        index_dir: str | os.PathLike[str] | None = DEFAULT_INDEX,
        *,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        embedder: Embedder | None = None,
        rebuild: bool = False,
        progress: bool = False,
        **settings: object,
    ) -> Assistant:
        """Reload the index in `index_dir` when it matches the corpus, else build and save it.

        A build after a change embeds and tokenizes only the texts the old index lacks;
        `rebuild=True` builds from scratch. `index_dir=None` builds in memory only. Extra
        keywords override `Settings` fields.
        """
        config = Settings(**settings)  # type: ignore[arg-type]
        started = time.perf_counter()
        loaded = load_corpus(corpus)
        embedder = embedder or Embedder(model)
        key = fingerprint(
            {
                "corpus": loaded.files,
                "model": embedder.identity,
                "tokenizer": TOKENIZER,
                "settings": config.index_part(),
                "version": __version__,
            }
        )
        if index_dir is None:
            return cls._build(loaded, embedder, config, key, None, started, "in memory", progress)
        index_dir = Path(index_dir)
        with build_lock(index_dir):
            manifest = read_manifest(index_dir)
            if rebuild:
                reason = "rebuild requested"
            elif manifest is None:
                reason = "no index yet"
            elif manifest.get("fingerprint") != key:
                reason = "corpus, model or settings changed"
            else:
                try:
                    return cls._from_stored(load(index_dir), loaded, embedder, config, started)
                except IndexCorruptError as exc:
                    log.warning("rebuilding the index: %s", exc)
                    reason = f"damaged index ({exc})"
            return cls._build(
                loaded,
                embedder,
                config,
                key,
                index_dir,
                started,
                reason,
                progress,
                reuse=not rebuild,
            )

    @classmethod
    def _build(
        cls,
        loaded: Corpus,
        embedder: Embedder,
        config: Settings,
        key: str,
        index_dir: Path | None,
        started: float,
        reason: str,
        progress: bool,
        *,
        reuse: bool = False,
    ) -> Assistant:
        # What the index being replaced computed (nothing when a rebuild from scratch was asked
        # for); released as soon as it is used up, so that it never sits in memory beside the
        # new BM25 matrix and the files being written.
        previous = (
            Previous.of_index(index_dir, embedder.identity, TOKENIZER) if reuse else Previous.none()
        )
        articles = loaded.articles
        sentences = sentence_table(articles)
        passages = passage_table(sentences, window=config.window, stride=config.stride)
        texts = Texts(articles, sentences, passages)
        sentence_texts = Texts(articles, sentences, None)
        passage_keys, sentence_keys = content_keys(texts), content_keys(sentence_texts)
        # Tokens and BM25 first: their temporary arrays are gone before the vectors arrive.
        tokens = _token_table(articles, sentence_texts, previous, sentence_keys)
        sparse = SparseIndex.of_segments(
            tokens.words, tokens.ids, _passage_segments(tokens, sentences, passages)
        )

        def encode(todo: list[str]) -> np.ndarray:
            return embedder.encode(todo, progress=progress)

        # An inverted file keeps half precision anyway, so its input needs no more.
        precision = np.float16 if auto_kind(len(passages)) == "ivf" else np.float32
        vectors, encoded = previous.embed(
            texts, passage_keys, encode, embedder.dimension, dtype=precision
        )
        dense = DenseIndex(vectors, like=previous.dense)
        del vectors  # faiss holds its own copy
        previous = previous.for_sentences()  # frees the old passage index
        # Half precision halves the largest array; cosine scores move by under 1e-3.
        sentence_vectors, encoded_sentences = previous.embed(
            sentence_texts, sentence_keys, encode, embedder.dimension, dtype=np.float16
        )
        encoded += encoded_sentences
        del previous
        report = BuildReport.of(
            loaded,
            len(sentences),
            len(passages),
            started,
            reason,
            encoded,
            len(passage_keys) + len(sentence_keys) - encoded,
        )
        if index_dir is not None:
            save(
                index_dir,
                StoredIndex(
                    manifest={
                        "fingerprint": key,
                        "version": __version__,
                        "model": embedder.identity,
                        "tokenizer": TOKENIZER,
                        "settings": config.index_part(),
                        "counts": {
                            "articles": len(articles),
                            "sentences": len(sentences),
                            "passages": len(passages),
                        },
                    },
                    documents={"build": asdict(report), "vocabulary": sparse.words},
                    arrays={
                        "sentences": sentences,
                        "passages": passages,
                        "sentence_vectors": sentence_vectors,
                        "text_keys": np.vstack([passage_keys, sentence_keys]),
                        "token_ids": tokens.ids,
                        "token_offsets": tokens.offsets,
                        **sparse.arrays(),
                    },
                    vectors={"passages": dense.faiss_index},
                ),
            )
        return cls(
            articles,
            sentences,
            passages,
            tokens,
            sparse,
            sentence_vectors,
            dense,
            embedder,
            config,
            report,
        )

    @classmethod
    def _from_stored(
        cls,
        stored: StoredIndex,
        loaded: Corpus,
        embedder: Embedder,
        config: Settings,
        started: float,
    ) -> Assistant:
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
        return cls(
            articles,
            sentences,
            passages,
            tokens,
            sparse,
            vectors,
            dense,
            embedder,
            config,
            report,
        )

    # --- answering ------------------------------------------------------------------------

    def ask(self, question: str, *, top_k: int | None = None, mode: str | None = None) -> Answer:
        """Answer one question with up to `top_k` cited sentences, or abstain."""
        return self.ask_many([question], top_k=top_k, mode=mode)[0]

    def ask_many(
        self, questions: Sequence[str], *, top_k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        """Answer a batch of questions; embeds them in one pass."""
        top_k = self.settings.top_k if top_k is None else top_k
        if not isinstance(top_k, int) or top_k < 1:
            raise SettingsError(f"top_k must be a positive integer, got {top_k!r}")
        mode = _check_mode(mode or self.settings.mode)
        return [
            self._answer(raw, candidates, top_k, mode)
            for raw, candidates in zip(questions, self.candidate_sets(questions, mode), strict=True)
        ]

    def candidate_sets(self, questions: Sequence[str], mode: str) -> list[CandidateSet]:
        """For each question, its analysis and every candidate sentence with its features.

        This is what the composer ranks; `rag train` fits the scorer on the same rows.
        """
        if isinstance(questions, str):
            raise TypeError("ask_many takes a list of questions; use ask() for a single string")
        cleaned = [validate_question(q) for q in questions]
        if mode == "bm25":
            vectors = np.zeros((len(cleaned), 1), dtype=np.float32)
        else:
            vectors = self._embedder.encode(cleaned)
        out = []
        for question, vector in zip(cleaned, vectors, strict=True):
            analysis = analyze(question)
            candidates = self._candidates(question, vector, mode)
            out.append(
                CandidateSet(analysis, candidates, features(analysis, candidates, self._sparse.idf))
            )
        return out

    def _answer(self, raw: str, cands: CandidateSet, top_k: int, mode: str) -> Answer:
        question = cands.analysis.text
        if not cands.candidates:
            return self._abstain(raw, question, [], 0.0, mode, [])
        probabilities = score(cands.matrix, mode)
        chosen = select(cands.candidates, probabilities, top_k)
        missing = missing_terms(cands.analysis, cands.candidates)
        confidence = float(probabilities[chosen[0]])
        if missing:
            confidence *= MISSING_TERM_PENALTY
        evidence = [
            self._evidence(cands.candidates[i], float(probabilities[i]), cands.analysis)
            for i in chosen
        ]
        floor = SIDE_BY_SIDE_SHARE * probabilities[chosen[0]]
        rivals = (
            self._evidence(cands.candidates[i], float(probabilities[i]), cands.analysis)
            for i in np.argsort(-probabilities, kind="stable")
            if probabilities[i] >= floor and i not in chosen
        )
        evidence = with_other_articles(evidence, rivals)
        if confidence < self.settings.threshold:
            return self._abstain(raw, question, evidence, clamp_unit(confidence), mode, missing)
        text = " ".join(f"[{i}] {e.text}" for i, e in enumerate(evidence, start=1))
        differing = differing_figures(evidence)
        if differing:
            text = f"{_side_by_side(evidence, differing)} {text}"
        return Answer(raw, text, False, clamp_unit(confidence), evidence, question, mode, differing)

    def _candidates(self, question: str, vector: np.ndarray, mode: str) -> list[Candidate]:
        rankings = []
        if mode in ("bm25", "hybrid"):
            rankings.append(self._sparse.search(question, self.settings.fetch)[0].tolist())
        if mode in ("dense", "hybrid"):
            rankings.append(self._dense.search(vector, self.settings.fetch)[0].tolist())
        fused = reciprocal_rank_fusion(rankings, limit=self.settings.passages)
        if not fused:
            return []
        top = fused[0][1]
        best: dict[int, float] = {}
        for pid, value in fused:
            first, last = self._passages[pid]
            for sid in range(int(first), int(last) + 1):
                best[sid] = max(best.get(sid, 0.0), value / top)
        ids = sorted(best)
        spans = [self._neighbours(sid) for sid in ids]
        if mode == "bm25":
            dense = context_dense = previous_dense = next_dense = np.zeros(len(ids))
        else:
            # One product per sentence in reach: the candidates' neighbours are mostly candidates.
            reach = sorted({i for lo, hi in spans for i in range(lo, hi + 1)})
            products = self._sentence_vectors[reach].astype(np.float32) @ vector
            cosine = dict(zip(reach, products.tolist(), strict=True))
            dense = [cosine[sid] for sid in ids]
            context_dense = self._context_vectors(spans) @ vector
            pairs = list(zip(ids, spans, strict=True))
            previous_dense = [cosine[lo] if lo < sid else 0.0 for sid, (lo, _) in pairs]
            next_dense = [cosine[hi] if hi > sid else 0.0 for sid, (_, hi) in pairs]
        docs = self._doc_tokens
        out = []
        for k, (sid, (lo, hi)) in enumerate(zip(ids, spans, strict=True)):
            tokens = self._tokens[sid]
            doc = int(self._sentences[sid, 0])
            previous = frozenset(self._tokens[lo]) if lo < sid else frozenset()
            following = frozenset(self._tokens[hi]) if hi > sid else frozenset()
            out.append(
                Candidate(
                    sid,
                    self._sentence_text(sid),
                    tokens,
                    docs[doc].union(tokens, previous, following),
                    float(dense[k]),
                    float(context_dense[k]),
                    best[sid],
                    previous,
                    following,
                    float(previous_dense[k]),
                    float(next_dense[k]),
                    lead=lo == sid,  # no previous sentence in its article
                    published=self.articles[doc].published,
                )
            )
        return out

    def _neighbours(self, sid: int) -> tuple[int, int]:
        """The first and last sentence ids of `sid` with its neighbours in the same article."""
        doc = self._sentences[sid, 0]
        lo = sid - 1 if sid > 0 and self._sentences[sid - 1, 0] == doc else sid
        last = len(self._sentences) - 1
        hi = sid + 1 if sid < last and self._sentences[sid + 1, 0] == doc else sid
        return lo, hi

    def _context_vectors(self, spans: list[tuple[int, int]]) -> np.ndarray:
        """Unit-length mean of each sentence's vector and its neighbours' (no extra encoding)."""
        out = np.stack(
            [self._sentence_vectors[lo : hi + 1].sum(axis=0, dtype=np.float32) for lo, hi in spans]
        )
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def _sentence_text(self, sid: int) -> str:
        doc, start, end = self._sentences[sid]
        return self.articles[int(doc)].text[int(start) : int(end)]

    def _evidence(
        self, item: Candidate, probability: float, analysis: QuestionAnalysis
    ) -> Evidence:
        doc, start, end = (int(v) for v in self._sentences[item.sentence])
        article = self.articles[doc]
        return Evidence(
            text=article.text[start:end],
            doc_id=article.doc_id,
            title=article.title or article.doc_id,
            publisher=article.publisher,
            published=article.published,
            start=start,
            end=end,
            score=clamp_unit(probability),
            answer_span=answer_span(article.text[start:end], analysis),
            period=resolve_period(article.text[start:end], article.published),
        )

    def _abstain(
        self,
        raw: str,
        question: str,
        evidence: list[Evidence],
        confidence: float,
        mode: str,
        missing: list[str],
    ) -> Answer:
        closest = [replace(e, answer_span=None) for e in evidence]
        text = "The articles do not say."
        if missing:
            text = f"The articles do not say: none of the passages found mentions {_join(missing)}."
        if closest:
            text += " Closest passages, which may not answer it: " + " ".join(
                f"[{i}] {e.text}" for i, e in enumerate(closest, start=1)
            )
        return Answer(raw, text, True, confidence, closest, question, mode)


def _token_table(
    articles: Sequence[Article], sentence_texts: Texts, previous: Previous, keys: np.ndarray
) -> TokenTable:
    """Each sentence's tokens (copied from `previous` when it has the text), then each title's."""
    count = len(sentence_texts)
    source = np.full(count + len(articles), -1, dtype=np.int64)
    source[:count] = previous.token_rows(previous.find(keys))

    def tokens_of(row: int) -> list[str]:
        text = sentence_texts[row] if row < count else articles[row - count].title
        return tokenize(text)

    return TokenTable.assemble(len(source), previous.tokens, source, tokens_of)


def _passage_segments(
    tokens: TokenTable, sentences: np.ndarray, passages: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each passage for BM25: its article's title, then its sentences (contiguous rows)."""
    title_rows = len(sentences) + sentences[passages[:, 0], 0]
    first, stop = tokens.offsets[passages[:, 0]], tokens.offsets[passages[:, 1] + 1]
    title = tokens.offsets[title_rows]
    return [(title, tokens.offsets[title_rows + 1] - title), (first, stop - first)]


def _side_by_side(evidence: list[Evidence], positions: tuple[int, ...]) -> str:
    """'The articles give different figures: 56 percent (Title — Publisher, date); ...'."""
    figures = []
    for position in positions:
        item = evidence[position]
        start, end = item.answer_span or (0, 0)
        figures.append(f"{item.text[start:end]} ({item.citation()})")
    return f"The articles give different figures: {'; '.join(figures)}."


def _join(terms: list[str]) -> str:
    quoted = [f"“{t}”" for t in terms]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


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
