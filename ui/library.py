"""Library: the assistant the chat page answers with, re-indexed when articles are uploaded."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.index.upload import (
    UploadReport,
    add_uploads,
    commit_uploads,
    precheck,
    remove_uploads,
)
from rag.ingest.links import fetch_links

FILTER_CHOICES = 1000  # articles a filter lists, newest first (the API takes any doc_id)

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.types import Article


@dataclass(frozen=True)
class Uploaded:
    """An upload's outcome: the files added or refused, and what cleaning did to the added."""

    report: UploadReport
    details: tuple[str, ...] = ()  # how links were read; the build report on the added files
    error: str = ""  # set when the index could not be rebuilt: then nothing was added


class Library:
    """The one assistant of a served page; uploads (when `corpus` is given) add articles to
    `corpus/uploads/` and swap in an assistant over the index rebuilt with them."""

    def __init__(
        self,
        assistant: Assistant,
        corpus: str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        *,
        fetch_private: bool = False,
    ) -> None:
        self.corpus = None if corpus is None else Path(corpus)
        self.index_dir = index_dir
        # Links to loopback, private and link-local addresses are refused unless this is set
        # (`rag serve --fetch-private`, `rag add` on the user's own machine).
        self.fetch_private = fetch_private
        self._lock = threading.Lock()  # one upload at a time; questions never wait for it
        self._use(assistant)

    @property
    def accepts_uploads(self) -> bool:
        return self.corpus is not None

    def _use(self, assistant: Assistant) -> None:
        # Both replaced together, so a question sees the old pair or the new one.
        by_id = {article.doc_id: article for article in assistant.articles}
        self.state: tuple[Assistant, dict[str, Article]] = (assistant, by_id)

    @property
    def assistant(self) -> Assistant:
        return self.state[0]

    def add(self, files: Sequence[tuple[str, Path]]) -> Uploaded:
        """Check and add `files` (name given, path), then rebuild the index over them."""
        if self.corpus is None:
            raise ValueError("this server does not take uploads (started with --read-only)")
        files, refused = precheck(files)  # no waiting for another upload's build to refuse
        if not files:
            return Uploaded(UploadReport((), tuple(refused)))
        with self._lock:
            report = add_uploads(self.corpus, files, self.assistant.articles, self.index_dir)
            report = UploadReport(report.added, (*refused, *report.problems))
            if not report.added:
                return Uploaded(report)
            try:
                fresh = self.assistant.reindexed(self.corpus, self.index_dir)
            except Exception as exc:  # the corpus must stay as it was: take the files out
                remove_uploads(self.corpus, report)
                return Uploaded(
                    UploadReport((), report.problems),
                    error=f"the index could not be rebuilt with them ({exc}); nothing was added",
                )
            commit_uploads(self.corpus)
            self._use(fresh)
        added = {item.path for item in report.added}
        return Uploaded(report, tuple(fresh.build_report.details(added)))

    def add_links(self, urls: Sequence[str]) -> Uploaded:
        """Fetch each of `urls` (a web page or a feed), then add its articles as `add` does:
        kept in `corpus/uploads/` as JSON lines with their address, which citations link to."""
        if self.corpus is None:
            raise ValueError("this server does not take uploads (started with --read-only)")
        with tempfile.TemporaryDirectory(prefix="rag-links-") as folder:
            fetched = fetch_links(urls, Path(folder), private=self.fetch_private)
            done = self.add(fetched.files) if fetched.files else Uploaded(UploadReport())
        report = UploadReport(done.report.added, (*fetched.problems, *done.report.problems))
        return Uploaded(report, (*fetched.notes, *done.details), done.error)


def article_choices(articles: Sequence[Article]) -> list[tuple[str, str]]:
    """A filter's choices of article, newest first: (what it shows, the doc_id it gives)."""
    newest = sorted(articles, key=lambda a: a.published, reverse=True)[:FILTER_CHOICES]
    return [(f"{a.title or a.doc_id} ({a.published[:10] or 'no date'})", a.doc_id) for a in newest]
