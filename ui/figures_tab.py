"""The Figures tab: every figure of the articles, filtered, as charts and a sortable table."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.answer.figures import MEASURES

from .assets import FIGURES_JS
from .figures import render_figures
from .library import Library, article_choices

# The filters' "any" choice: no place or doc_id is empty, and gradio keeps "" as a value.
ANY = ""
MEASURE_CHOICES = [("Any", ANY), *((measure.capitalize(), measure) for measure in MEASURES)]


@dataclass(frozen=True)
class FiguresTab:
    """The tab's filters, and what `refresh` fills from the assistant of the moment: the body,
    the place choices and the article choices (on every page load, and after an upload)."""

    filters: list[Any]
    outputs: list[Any]
    refresh: Callable[..., tuple[Any, ...]]


def filtered_by(measure: str, about: str, place: str, article: str, titles: dict[str, str]) -> str:
    """What the filters keep, as the count's tail: " of growth about “online retail sales”"."""
    parts = [f" of {measure}" if measure else ""]
    parts.append(f" about “{about}”" if about else "")
    parts.append(f" in {place}" if place else "")
    parts.append(f" in “{titles.get(article, article)}”" if article else "")
    return "".join(parts)


def figures_body(library: Library, measure: str, about: str, place: str, article: str) -> str:
    """The tab's body for these filters (ANY, "" or None leave one open)."""
    assistant, articles = library.state
    about = " ".join((about or "").split())[:200]
    if article and article not in articles:  # gone with an index rebuilt since: all articles
        article = ANY
    try:
        records = assistant.figures(
            measure=measure or None,
            about=about or None,
            place=place or None,
            article=article or None,
        )
    except ValueError as exc:  # an assistant that serves no table (a cluster's) says why
        return f'<p class="rag-fig-count" role="status">{html.escape(str(exc))}</p>'

    titles = {doc_id: a.title or doc_id for doc_id, a in articles.items()}
    tail = filtered_by(measure or "", about, place or "", article or "", titles)
    return render_figures(records, articles, filtered=tail)


def build_figures_tab(library: Library) -> FiguresTab:
    """The tab's filters and body, inside the caller's `gr.Tab`; filtering is live."""

    def places() -> list[tuple[str, str]]:
        try:
            table = library.assistant.figures()
        except ValueError:  # no table served: figures_body says why
            table = []
        named = sorted({r.place for r in table if r.place}, key=str.lower)
        return [("Any place", ANY)] + [(name, name) for name in named]

    def articles() -> list[tuple[str, str]]:
        return [("All articles", ANY), *article_choices(library.assistant.articles)]

    def body(measure: str, about: str, place: str, article: str) -> str:
        return figures_body(library, measure, about, place, article)

    def refresh(measure: str, about: str, place: str, article: str) -> tuple[Any, ...]:
        return (
            body(measure, about, place, article),
            gr.update(choices=places()),
            gr.update(choices=articles()),
        )

    def clear() -> tuple[str, str, str, str]:
        return ANY, "", ANY, ANY

    with gr.Row(equal_height=False, elem_id="rag-fig-filters"):
        measure = gr.Radio(
            MEASURE_CHOICES,
            value=ANY,
            label="Measure",
            elem_id="rag-fig-measure",
            scale=2,
            min_width=300,
        )
        about = gr.Textbox(
            label="About (what it is a figure of)",
            placeholder="online retail sales",
            elem_id="rag-fig-about",
            scale=2,
            min_width=220,
        )
        place = gr.Dropdown(
            places(), value=ANY, label="Place", elem_id="rag-fig-place", scale=1, min_width=160
        )
        article = gr.Dropdown(
            articles(), value=ANY, label="Article", elem_id="rag-fig-article", scale=2
        )
    reset = gr.Button("Clear filters", size="sm", scale=0, min_width=130, elem_id="rag-fig-clear")
    shown = gr.HTML(
        body(ANY, "", ANY, ANY), elem_id="rag-figures", js_on_load=FIGURES_JS, padding=False
    )
    filters = [measure, about, place, article]
    # One listener for every filter, so that a quick second change waits for the first and
    # then runs with the filters as they are last (two listeners race, and a stale body can
    # arrive last).
    gr.on(
        [field.change for field in filters],
        body,
        inputs=filters,
        outputs=shown,
        api_visibility="private",
        show_progress="hidden",
        trigger_mode="always_last",
    )
    reset.click(clear, outputs=filters, api_visibility="private", queue=False)
    return FiguresTab(filters, [shown, place, article], refresh)
