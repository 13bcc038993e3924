"""Library: the assistant the chat page answers with, re-indexed when articles are uploaded."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.index.upload import Uploaded, UploadReport, precheck
from rag.ingest.links import fetch_links

FILTER_CHOICES = 1000  # articles a filter lists, newest first (the API takes any doc_id)

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.types import Article


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

    def add(self, files: Sequence[tuple[str, Path]], links: Sequence[str] = ()) -> Uploaded:
        """Check and add `files` (name given, path) and the articles of `links` (web pages or
        feeds, kept in `corpus/uploads/` as JSON lines with their address), then rebuild the
        index over them, once."""
        if self.corpus is None:
            raise ValueError("this server does not take uploads (started with --read-only)")
        with tempfile.TemporaryDirectory(prefix="rag-links-") as folder:
            # Fetched and checked outside the lock: no waiting for another upload's build.
            fetched = fetch_links(links, Path(folder), private=self.fetch_private)
            files, refused = precheck([*files, *fetched.files])
            said = ([*refused, *fetched.problems], fetched.notes)
            if not files:
                return Uploaded(UploadReport()).after(*said)
            with self._lock:
                fresh, done = self.assistant.uploaded(files, self.corpus, self.index_dir)
                self._use(fresh)
        return done.after(*said)


def article_choices(articles: Sequence[Article]) -> list[tuple[str, str]]:
    """A filter's choices of article, newest first: (what it shows, the doc_id it gives)."""
    newest = sorted(articles, key=lambda a: a.published, reverse=True)[:FILTER_CHOICES]
    return [(f"{a.title or a.doc_id} ({a.published[:10] or 'no date'})", a.doc_id) for a in newest]
