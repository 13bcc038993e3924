"""BuildReport: what building or reloading an index found, in counts and in lines to print."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from ..ingest.corpus import ArticleReport, Corpus, Problem


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
    annotated: int = 0  # articles whose annotations (the figures table) this build computed
    annotation_seconds: float = 0.0  # the time that took, part of `seconds`

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
        annotated: int = 0,
        annotation_seconds: float = 0.0,
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
            annotated=annotated,
            annotation_seconds=annotation_seconds,
        )

    def lines(self, verbose: bool = False) -> list[str]:
        """Human-readable summary: each skipped or guessed file; with `verbose` each line that
        cleaning removed too, else their count (a second `rag index` need not repeat them)."""
        verb = "built" if self.rebuilt else "loaded"
        out = [
            f"{verb} index: {self.articles} articles, {self.passages} passages, "
            f"{self.sentences} sentences in {self.seconds:.1f}s ({self.reason})"
        ]
        if self.rebuilt:
            out.append(
                f"  embedded {self.encoded:,} texts, reused {self.reused:,} from the previous index"
            )
        if verbose:
            return out + self.details()
        removed = sum(len(report.removed) for report in self.reports)
        if removed:
            out.append(f"  {removed} lines removed in cleaning: `rag index --verbose` lists them")
        return out + self.details(removals=False)

    def details(self, files: Collection[str] | None = None, removals: bool = True) -> list[str]:
        """One line per removal (unless not `removals`) and per problem, of the corpus files
        `files` (None: all)."""

        def of_files(source: str) -> bool:
            return files is None or source.split(":", 1)[0] in files

        out = []
        for report in self.reports:
            if not of_files(report.source):
                continue
            if report.reader and removals:  # a page, PDF or feed: how it was read, and what lacked
                said = "; ".join(report.notes)
                out.append(
                    f"  {report.source}: read with {report.reader}" + (f"; {said}" if said else "")
                )
            for removal in report.removed if removals else ():
                text = removal.text if len(removal.text) <= 90 else removal.text[:87] + "..."
                out.append(f"  {report.doc_id}: removed {removal.kind}: {text}")
            if report.encoding not in ("utf-8", ""):  # a guess that a reader should check
                out.append(f"  {report.source}: not UTF-8, decoded as {report.encoding}")
        return out + [f"  skipped {p}" for p in self.problems if of_files(p.path)]
