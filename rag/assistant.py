"""Assistant: the facade that answers questions from one corpus's Index through a Composer."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .answer.about import answer_from_metadata, metadata_question
from .answer.compare import comparison
from .answer.compose import Composer
from .answer.features import CandidateSet
from .answer.figures import MEASURES
from .answer.followup import Conversation
from .answer.reader import Reader, core_threads
from .answer.retrieve import Source, candidate_sets
from .answer.scorer import ReaderScorer, SentenceScorer, load_scorer
from .answer.table import FIGURES, FigureRecord, figure_records, select, stored_records
from .errors import SettingsError
from .index.build_report import BuildReport
from .index.embed import DEFAULT_MODEL, Embedder
from .index.index import Index
from .index.upload import Uploaded, UploadReport, add_uploads, commit_uploads, remove_uploads
from .scope import EVERYTHING, Scope
from .settings import DEFAULT_CORPUS, DEFAULT_INDEX, Mode, Settings, positive, validate_questions
from .types import Answer, Article


class Assistant:
    """Answers questions from one corpus with extracted, cited sentences."""

    def __init__(
        self, index: Source, embedder: Embedder, composer: Composer, settings: Settings
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.composer = composer
        self.settings = settings
        self._figures: tuple[FigureRecord, ...] | None = None

    @classmethod
    def from_corpus(
        cls,
        corpus: str | os.PathLike[str] = DEFAULT_CORPUS,
        index_dir: str | os.PathLike[str] | None = DEFAULT_INDEX,
        *,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        embedder: Embedder | None = None,
        scorer: SentenceScorer | str = "reader",
        short_answers: bool = True,
        rebuild: bool = False,
        progress: bool = False,
        stale_ok: bool = True,
        update: bool = True,
        **settings: object,
    ) -> Assistant:
        """Reload the index in `index_dir` when it matches the corpus, else build and save it.

        A build after a change embeds and tokenizes only the texts the old index lacks;
        `rebuild=True` builds from scratch. `index_dir=None` builds in memory only. Extra
        keywords override `Settings` fields. `scorer` is "reader" (the trees, then the learned
        reader on their best candidates), "trees" (the boosted trees alone) or a
        `SentenceScorer`.
        `short_answers=False` reads no short answers: only figures found by rule are marked.
        An index folder that cannot be written is an IndexWriteError, or with `stale_ok` the
        last good generation answers, after a warning (`Index.for_corpus`); so does an
        out-of-date index with `update=False`, instead of being brought up to date.
        """
        config = Settings(**settings)  # type: ignore[arg-type]
        embedder = embedder or Embedder(model)
        index = Index.for_corpus(
            corpus,
            index_dir,
            embedder,
            config,
            rebuild=rebuild,
            progress=progress,
            stale_ok=stale_ok,
            update=update,
            annotations=(FIGURES,),
        )
        return cls.over(index, embedder, config, scorer=scorer, short_answers=short_answers)

    def reindexed(
        self, corpus: str | os.PathLike[str], index_dir: str | os.PathLike[str] | None
    ) -> Assistant:
        """The same model and composer over `corpus` as it is now (articles added or removed):
        the index in `index_dir` is rebuilt embedding only the texts it lacks; IndexWriteError
        when it cannot be saved (never the old index: the caller added articles to it)."""
        index = Index.for_corpus(
            corpus, index_dir, self.embedder, self.settings, stale_ok=False, annotations=(FIGURES,)
        )
        return Assistant(index, self.embedder, self.composer, self.settings)

    def add(
        self,
        sources: Sequence[str | os.PathLike[str]],
        corpus: str | os.PathLike[str] = DEFAULT_CORPUS,
        index_dir: str | os.PathLike[str] | None = DEFAULT_INDEX,
        *,
        fetch_private: bool = True,
    ) -> tuple[Assistant, Uploaded]:
        """Add article files (any format `rag index` reads) and http(s) links to pages or feeds
        to `corpus/uploads/`, and the assistant that answers from them too, over the index in
        `index_dir` brought up to date (only the new texts are embedded).

        Each file and link is checked as hostile input and refused with the reason (see
        `Uploaded.report`); this assistant is left as it was. `fetch_private=False` refuses
        links to loopback, private and link-local addresses, as a server does.
        """
        from .ingest.links import fetch_links

        links = [str(s) for s in sources if "://" in str(s)]
        files = [(Path(s).name, Path(s)) for s in sources if "://" not in str(s)]
        with tempfile.TemporaryDirectory(prefix="rag-links-") as folder:
            fetched = fetch_links(links, Path(folder), private=fetch_private)
            assistant, done = self.uploaded([*files, *fetched.files], corpus, index_dir)
        return assistant, done.after(fetched.problems, fetched.notes)

    def uploaded(
        self,
        files: Sequence[tuple[str, Path]],
        corpus: str | os.PathLike[str],
        index_dir: str | os.PathLike[str] | None,
    ) -> tuple[Assistant, Uploaded]:
        """`files` (name given, path) added to `corpus/uploads/` (`rag.index.upload`), then
        the assistant over the index rebuilt with them; when the rebuild fails they are taken
        out again and this assistant answers on."""
        report = add_uploads(corpus, files, self.articles, index_dir)
        if not report.added:
            return self, Uploaded(report)
        try:
            fresh = self.reindexed(corpus, index_dir)
        except Exception as exc:  # the corpus must stay as it was: take the files out
            remove_uploads(corpus, report)
            error = f"the index could not be rebuilt with them ({exc}); nothing was added"
            return self, Uploaded(UploadReport((), report.problems), error=error)
        commit_uploads(corpus)
        added = {item.path for item in report.added}
        return fresh, Uploaded(report, tuple(fresh.build_report.details(added)))

    @classmethod
    def over(
        cls,
        index: Source,
        embedder: Embedder,
        settings: Settings,
        *,
        scorer: SentenceScorer | str = "reader",
        short_answers: bool = True,
    ) -> Assistant:
        """The assistant over an index already loaded (one machine's, or a `ShardedIndex`)."""
        scorer = load_scorer(scorer) if isinstance(scorer, str) else scorer
        reader = None
        if short_answers:  # a reader scorer's own reader: one model ranks and reads the spans
            reader = scorer.reader if isinstance(scorer, ReaderScorer) else Reader()
        composer = Composer(scorer, settings.threshold, reader)
        return cls(index, embedder, composer, settings)

    @property
    def articles(self) -> tuple[Article, ...]:
        """The cleaned articles: every `Evidence.start/end` indexes into one's `text`."""
        return self.index.articles

    @property
    def build_report(self) -> BuildReport:
        """What the build or reload found: counts, files skipped, what cleaning removed."""
        return self.index.report

    @property
    def threshold(self) -> float:
        """Below this confidence answers abstain."""
        return self.composer.threshold

    @property
    def high_threshold(self) -> float:
        """From this confidence an answer is rated high (calibrated on the development file)."""
        return self.composer.high_threshold

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        mode: str | None = None,
        scope: Scope | None = None,
    ) -> Answer:
        """Answer one question with up to `top_k` cited sentences, or abstain."""
        return self.ask_many([question], top_k=top_k, mode=mode, scope=scope)[0]

    def ask_many(
        self,
        questions: Sequence[str],
        *,
        top_k: int | None = None,
        mode: str | None = None,
        scope: Scope | None = None,
    ) -> list[Answer]:
        """Answer a batch of questions, side by side on the cores, each as `ask` answers it.

        A comparison ("compare A and B", "A vs B") is asked as one question per side, and
        answered with the best sentence of each (`rag.answer.compare`); a question about an
        article's author, publisher or date is answered from its metadata (`rag.answer.about`).
        With a `scope`, only its articles and dates are searched (ScopeError when it names an
        unknown article or leaves none); each answer says so in `Answer.scope`.
        """
        top_k = positive("top_k", self.settings.top_k if top_k is None else top_k)
        chosen = Mode.of(mode or self.settings.mode)
        validate_questions(questions)
        scope = scope or EVERYTHING
        scope.check(self.articles)
        about = [metadata_question(question) for question in questions]
        plans = [comparison(question) for question in questions]
        asked = [
            side
            for question, plan, field in zip(questions, plans, about, strict=True)
            if field is None
            for side in (plan.questions if plan else (question,))
        ]

        def answer(raw: str) -> Answer:
            cands = self.candidate_sets([raw], chosen, scope)[0]
            return self.composer.compose(raw, cands, self.index.articles, top_k, chosen)

        # Side by side, each question as `ask` answers it: one's Python work runs while
        # another's reader runs (ONNX Runtime lets go of the GIL).
        answers = iter(
            core_threads("question").map(answer, asked) if len(asked) > 1 else map(answer, asked)
        )
        admitted = [a for a in self.articles if scope.admits(a)]
        out = []
        for question, plan, field in zip(questions, plans, about, strict=True):
            if field is not None:  # "Who wrote the Yichang article?": its metadata answers
                out.append(answer_from_metadata(question, field, admitted, chosen))
            elif plan is None:
                out.append(next(answers))
            else:
                sides = (next(answers), next(answers))
                out.append(plan.combine(question, sides, top_k))
        if scope.everything:
            return out
        return [replace(answer, scope=scope.describe()) for answer in out]

    def candidate_sets(
        self, questions: Sequence[str], mode: str | Mode, scope: Scope = EVERYTHING
    ) -> list[CandidateSet]:
        """For each question, its analysis and every candidate sentence with its features."""
        return candidate_sets(
            self.index, self.embedder, questions, Mode.of(mode), self.settings, scope
        )

    def with_composer(self, composer: Composer) -> Assistant:
        """The same index and embedder answering through another composer (for ablations)."""
        return Assistant(self.index, self.embedder, composer, self.settings)

    def with_scorer(self, scorer: SentenceScorer | str) -> Assistant:
        """The same index and embedder answering through another scorer (for ablations)."""
        current = self.composer
        if isinstance(scorer, str):
            scorer = load_scorer(scorer, reader=current.reader)
        reader = current.reader
        if reader is not None and isinstance(scorer, ReaderScorer):
            reader = scorer.reader  # an ablation of another reader file measures it alone
        return self.with_composer(
            Composer(scorer, self.settings.threshold, reader, current.rule_first)
        )

    def figures(
        self,
        *,
        measure: str | None = None,
        about: str | None = None,
        place: str | None = None,
        article: str | None = None,
        period: str | None = None,
        scope: Scope | None = None,
    ) -> list[FigureRecord]:
        """Every figure of the corpus (`rag.answer.table`): value, unit, measure, subject,
        place, period and source; filtered by `measure` ("growth", "share", "amount",
        "level"), what it is `about` ("online retail sales"), `place`, `article` (a doc_id),
        `period` (figures of that period: "2024", "H1 2024", "2024-05") and `scope` (articles
        and publication dates, as `ask` takes them; ScopeError as there).

        The table is built with the index and stored with each generation (an update computes
        only new articles' figures); an index without one (a cluster's) computes it once here.
        """
        if measure is not None and measure not in MEASURES:
            raise SettingsError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
        admitted = None
        if scope is not None and not scope.everything:
            scope.check(self.articles)
            admitted = {a.doc_id for a in self.articles if scope.admits(a)}
        if self._figures is None:
            stored = self.index.annotation(FIGURES.name) if isinstance(self.index, Index) else None
            self._figures = tuple(
                figure_records(self.articles)
                if stored is None
                else stored_records(self.articles, stored)
            )
        return select(
            self._figures, measure=measure, about=about, place=place, article=article,
            period=period, articles=admitted,
        )  # fmt: skip

    def conversation(self) -> Conversation:
        """A conversation in which short follow-ups build on the previous question."""
        return Conversation(self)
