"""Per-article annotations (the figures table) stored with an index generation, each computed
once per article text."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..types import Article
from .cache import article_keys


@dataclass(frozen=True)
class Annotation:
    """What a wing above the index stores with each generation, article by article.

    Attributes:
        name: the document it is saved as (`<name>.json` in the generation).
        version: of the code that computes it: values of another version are computed again.
        compute: an article's value, JSON-ready.
    """

    name: str
    version: str
    compute: Callable[[Article], Any]


@dataclass(frozen=True)
class Annotated:
    """An annotation's values, one per article of the index, and what making them took."""

    values: tuple[Any, ...]
    computed: int  # articles computed by this build (the others' values were reused)
    seconds: float


def annotate(
    annotation: Annotation,
    articles: Sequence[Article],
    keys: Sequence[tuple[str, str]],
    previous: Any,
) -> Annotated:
    """Each article's value: the previous generation's stored `previous` document's for an
    article of the same doc_id and text, else computed; an article removed since is dropped."""
    started = time.perf_counter()
    reused = _by_key(previous, annotation)
    values, computed = [], 0
    for article, key in zip(articles, keys, strict=True):
        value = reused.get(tuple(key))
        if value is None:
            value = annotation.compute(article)
            computed += 1
        values.append(value)
    return Annotated(tuple(values), computed, time.perf_counter() - started)


def annotate_all(
    annotations: Sequence[Annotation],
    articles: Sequence[Article],
    keys: Sequence[tuple[str, str]],
    previous: Mapping[str, Any],
) -> tuple[dict[Annotation, tuple[Any, ...]], int, float]:
    """`annotate` for each of `annotations` (`previous`: the documents stored, by name): their
    values, the articles computed and the seconds taken, all annotations together."""
    made = {a: annotate(a, articles, keys, previous.get(a.name)) for a in annotations}
    values = {annotation: m.values for annotation, m in made.items()}
    return values, sum(m.computed for m in made.values()), sum(m.seconds for m in made.values())


def held(
    annotations: Sequence[Annotation], documents: Mapping[str, Any], articles: Sequence[Article]
) -> dict[Annotation, tuple[Any, ...]]:
    """The values a loaded generation's `documents` hold for its `articles` of each of
    `annotations`; one it lacks is left out."""
    if not annotations:
        return {}  # no text hashed
    keys = article_keys(articles)
    found = {a: stored_values(documents.get(a.name), a, keys) for a in annotations}
    return {annotation: values for annotation, values in found.items() if values is not None}


def document(
    annotation: Annotation, keys: Sequence[tuple[str, str]], values: Sequence[Any]
) -> dict[str, Any]:
    """The JSON document an annotation is saved as: its version and (doc_id, text hash, value)
    per article."""
    rows = [[doc_id, digest, value] for (doc_id, digest), value in zip(keys, values, strict=True)]
    return {"version": annotation.version, "articles": rows}


def stored_values(
    stored: Any, annotation: Annotation, keys: Sequence[tuple[str, str]]
) -> tuple[Any, ...] | None:
    """The values a loaded generation holds for `keys` (its articles, in order); None when it
    holds none of this version for each of them (written before the annotation, or by other
    code): the caller computes them then."""
    found = _by_key(stored, annotation)
    values = tuple(found.get(tuple(key)) for key in keys)
    return None if any(value is None for value in values) else values


def _by_key(stored: Any, annotation: Annotation) -> Mapping[tuple[str, str], Any]:
    if not isinstance(stored, dict) or stored.get("version") != annotation.version:
        return {}
    try:
        return {(doc_id, digest): value for doc_id, digest, value in stored["articles"]}
    except (KeyError, TypeError, ValueError):
        return {}
