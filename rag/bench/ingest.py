"""Reading articles in: 1,000 web pages beside the same stories as .txt; what extraction kept."""

from __future__ import annotations

import html
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from .measure import DATA, TARGETS

PAGES = 1_000
SOURCE = "squad1_train_full.json"  # training articles: nothing of the development file
PARAGRAPHS = 4  # a page's story: consecutive paragraphs of one SQuAD article
# What pages put around their story, in three layouts news sites use: a semantic <article>, a
# soup of divs, and a story broken by a sign-up box. Every sentence here is boilerplate.
CHROME = {
    "cookie": "We use cookies to improve your experience. By continuing you accept our policy.",
    "nav": ["Home", "World", "Business", "Technology", "Opinion", "Subscribe now"],
    "share": "Share this article on WeChat, Weibo or by email.",
    "newsletter": "Sign up for our daily briefing and never miss a story.",
    "related": ["Five things to know about the new rules.", "Opinion: why it matters now."],
    "comments": ["Great reporting, thank you for this.", "I disagree with the second point."],
    "footer": "Copyright 2024 The Example Times. All rights reserved. Privacy policy.",
}


def stories(count: int = PAGES) -> list[tuple[str, list[str]]]:
    """`count` (title, paragraphs) stories cut from the SQuAD training articles."""
    from ..eval.data import read_squad

    squad = read_squad(DATA / SOURCE)
    out: list[tuple[str, list[str]]] = []
    for article in squad.articles:
        paragraphs = [p for p in article.text.split("\n\n") if p.strip()]
        for start in range(0, len(paragraphs) - PARAGRAPHS + 1, PARAGRAPHS):
            out.append((article.title, paragraphs[start : start + PARAGRAPHS]))
    random.Random(0).shuffle(out)
    if len(out) < count:
        raise ValueError(f"{DATA / SOURCE} gives {len(out)} stories, not {count}")
    return out[:count]


def page(number: int, title: str, paragraphs: list[str]) -> str:
    """A news page around the story, in layout `number % 3`."""
    esc = html.escape
    c = CHROME
    nav = "".join(f'<li><a href="/{i}">{esc(item)}</a></li>' for i, item in enumerate(c["nav"]))
    body = [f"<p>{esc(p)}</p>" for p in paragraphs]
    related = "".join(f'<li><a href="/r{i}">{esc(r)}</a></li>' for i, r in enumerate(c["related"]))
    comments = "".join(f'<div class="comment"><p>{esc(x)}</p></div>' for x in c["comments"])
    head = (
        f"<head><meta charset='utf-8'><title>{esc(title)} | The Example Times</title>"
        f'<meta name="author" content="Reporter {number}">'
        f'<meta property="article:published_time" content="2024-0{1 + number % 9}-1{number % 10}">'
        "</head>"
    )
    cookie = f'<div class="cookie-banner">{esc(c["cookie"])} <button>Accept</button></div>'
    footer = f'<footer class="site-footer"><p>{esc(c["footer"])}</p></footer>'
    layout = number % 3
    if layout == 0:
        story = f"<article><h1>{esc(title)}</h1>{''.join(body)}</article>"
        around = f'<aside class="related"><h2>Related</h2><ul>{related}</ul></aside>'
        around += f'<section id="comments"><h2>Comments</h2>{comments}</section>'
        main = f"<main>{story}{around}</main>"
    elif layout == 1:
        story = f'<div class="content"><div class="headline"><h1>{esc(title)}</h1></div>'
        story += f'<div class="share">{esc(c["share"])}</div><div class="text">{"".join(body)}'
        story += f'</div><div class="read-more"><h3>Read more</h3><ul>{related}</ul></div></div>'
        main = story
    else:
        half = len(body) // 2
        box = f'<div class="newsletter-box">{esc(c["newsletter"])}</div>'
        story = f"<article><h1>{esc(title)}</h1>{''.join(body[:half])}{box}"
        story += f"{''.join(body[half:])}</article>"
        main = f'<div id="main">{story}<div class="comments">{comments}</div></div>'
    nav = f'<header><nav class="menu"><ul>{nav}</ul></nav></header>'
    return f"<!DOCTYPE html><html>{head}<body>{cookie}{nav}{main}{footer}</body></html>"


def ingest(count: int = PAGES) -> dict[str, Any]:
    """`load_corpus` over `count` web pages and over the same stories as .txt files: pages a
    second each way, and the share of the story's sentences the pages kept and of the kept
    sentences that are boilerplate."""
    from ..ingest.corpus import load_corpus
    from ..ingest.text import split_sentences

    def sentences(text: str) -> list[str]:
        return [" ".join(text[a:b].split()) for a, b in split_sentences(text)]

    chosen = stories(count)
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
        pages, texts = Path(tmp, "html"), Path(tmp, "txt")
        pages.mkdir()
        texts.mkdir()
        for number, (title, paragraphs) in enumerate(chosen):
            (pages / f"{number:04}.html").write_text(page(number, title, paragraphs))
            (texts / f"{number:04}.txt").write_text("\n\n".join(paragraphs))
        seconds = {}
        loaded = {}
        for name, folder in (("txt", texts), ("html", pages)):
            started = time.perf_counter()
            loaded[name] = load_corpus(folder)
            seconds[name] = time.perf_counter() - started
    story_total = kept_story = kept_total = 0
    by_id = {a.doc_id: a for a in loaded["html"].articles}
    for number, (_, paragraphs) in enumerate(chosen):
        story = set(sentences("\n\n".join(paragraphs)))
        article = by_id.get(f"{number:04}")
        kept = sentences(article.text) if article is not None else []
        story_total += len(story)
        kept_story += sum(s in kept for s in story)
        kept_total += len(kept)
    kept_boilerplate = kept_total - kept_story
    recall = kept_story / story_total
    boilerplate = kept_boilerplate / max(1, kept_total)
    return {
        "pages": count,
        "txt_pages_per_s": round(count / seconds["txt"], 1),
        "html_pages_per_s": round(count / seconds["html"], 1),
        "html_over_txt_time": round(seconds["html"] / seconds["txt"], 2),
        "articles": len(loaded["html"].articles),
        "refused": [str(p) for p in loaded["html"].problems][:10],
        "story_sentences_kept": round(recall, 4),
        "boilerplate_share": round(boilerplate, 4),
        "target_met": recall >= TARGETS["html_story_kept"]
        and boilerplate < TARGETS["html_boilerplate"],
    }


def ingest_row(row: dict[str, Any]) -> str:
    """Its line of the bench table."""
    mark = "met" if row["target_met"] else "**not met**"
    return (
        f"| ingest, {row['pages']:,} web pages (trafilatura) | {row['html_pages_per_s']:.0f} "
        f"pages/s | the same stories as .txt {row['txt_pages_per_s']:.0f} pages/s "
        f"({row['html_over_txt_time']:.1f}x the time) | kept {row['story_sentences_kept']:.1%} "
        f"of the story's sentences (target >= 95%), {row['boilerplate_share']:.1%} boilerplate "
        f"(target < 5%): {mark} |"
    )
