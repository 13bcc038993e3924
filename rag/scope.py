"""Scope: the articles and publication dates a question is restricted to, honoured by retrieval."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import ScopeError
from .types import Article

# A year, a month or a day: "2024", "2024-07", "2024-07-19".
_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")


@dataclass(frozen=True)
class Scope:
    """Search only these articles (by doc_id; none named: all) published from `since` to
    `until` (ISO dates, both inclusive, each a year, month or day; "": open).

    With a date bound, an article without a publication date is left out: nothing says it
    falls inside the range.

    Attributes:
        articles: the doc_ids searched; empty: every article.
        since: the first publication date searched ("2024", "2024-07", "2024-07-19"); "": open.
        until: the last one, inclusive; "": open.
    """

    articles: tuple[str, ...] = ()
    since: str = ""
    until: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.articles, str):  # one id given as a string, not a sequence of them
            object.__setattr__(self, "articles", (self.articles,))
        object.__setattr__(self, "articles", tuple(dict.fromkeys(self.articles)))
        for name in ("since", "until"):
            value = getattr(self, name)
            if not isinstance(value, str) or (value and not _DATE.fullmatch(value.strip())):
                raise ScopeError(
                    f"{name} must be a date as YYYY, YYYY-MM or YYYY-MM-DD; got {value!r}"
                )
            object.__setattr__(self, name, value.strip())
        shared = min(len(self.since), len(self.until))  # "2024-07-20" to "2024-07" is fine
        if self.since and self.until and self.since[:shared] > self.until[:shared]:
            raise ScopeError(f"since ({self.since}) is after until ({self.until}); swap them")

    @property
    def everything(self) -> bool:
        """Whether this scope leaves every article in."""
        return not (self.articles or self.since or self.until)

    def admits(self, article: Article) -> bool:
        """Whether `article` is inside this scope."""
        if self.articles and article.doc_id not in self.articles:
            return False
        if not (self.since or self.until):
            return True
        day = article.published[:10]
        if not day:
            return False
        return (not self.since or day[: len(self.since)] >= self.since) and (
            not self.until or day[: len(self.until)] <= self.until
        )

    def mask(self, articles: Sequence[Article]) -> np.ndarray | None:
        """Which of `articles` are inside (a boolean per article); None when all are."""
        if self.everything:
            return None
        return np.fromiter((self.admits(a) for a in articles), dtype=bool, count=len(articles))

    def check(self, articles: Iterable[Article]) -> None:
        """Raise ScopeError when a named article is not indexed, or no article is inside."""
        if self.everything:  # every question passes here: no walk over the articles for it
            return
        articles = list(articles)
        known = {a.doc_id for a in articles}
        unknown = [doc_id for doc_id in self.articles if doc_id not in known]
        if unknown:
            raise ScopeError(
                f"no indexed article has the id {_few(unknown)}; the {len(known):,} indexed "
                f"articles include {_few(sorted(known))} (/api/articles lists them all)"
            )
        if not any(self.admits(a) for a in articles):
            dated = sorted(a.published[:10] for a in articles if a.published)
            span = (
                f"the articles' dates run from {dated[0]} to {dated[-1]}"
                if dated
                else "no article has a date"
            )
            raise ScopeError(f"no indexed article is among {self.describe()}; {span}")

    def describe(self) -> str:
        """ "2 chosen articles, published from 2024-07 to 2024-12", or "" for every article."""
        parts = []
        if self.articles:
            count = len(self.articles)
            parts.append(f"{count} chosen article{'s' if count > 1 else ''}")
        if self.since and self.until:
            parts.append(f"published from {self.since} to {self.until}")
        elif self.since:
            parts.append(f"published from {self.since}")
        elif self.until:
            parts.append(f"published up to {self.until}")
        return ", ".join(parts)


EVERYTHING = Scope()


def passage_mask(
    scope: Scope, articles: Sequence[Article], sentences: np.ndarray, passages: np.ndarray
) -> np.ndarray | None:
    """Which passages lie in articles inside `scope` (a boolean per passage); None: all."""
    inside = scope.mask(articles)
    if inside is None:
        return None
    return inside[sentences[passages[:, 0], 0]]


def _few(ids: Sequence[str], shown: int = 5) -> str:
    """The first `shown` ids, quoted, then how many more: an error stays short for any corpus."""
    listed = ", ".join(map(repr, ids[:shown]))
    return listed + (f" and {len(ids) - shown:,} more" if len(ids) > shown else "")
