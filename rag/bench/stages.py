"""Where a warm answer's time goes: each stage's own milliseconds, and a small chart of them."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

# (stage, module, name): each stage is the function doing it, patched where it is looked up.
# A stage's time excludes the stages it calls (composing excludes reading), so they add up.
STAGES = (
    ("tokenize", "rag.answer.retrieve", "analyze"),
    ("embed", "rag.index.embed", "Embedder.encode_questions"),
    ("BM25", "rag.index.sparse", "SparseIndex.search"),
    ("faiss", "rag.index.dense", "DenseIndex.search"),
    ("fuse", "rag.index.index", "fuse"),
    ("sentences", "rag.index.index", "Index.sentences_of"),
    ("features", "rag.answer.retrieve", "features"),
    ("read", "rag.answer.reader", "Reader._run"),
    ("compose", "rag.answer.compose", "Composer.compose"),
)


def breakdown(ask: Callable[[str], object], questions: Sequence[str]) -> dict[str, Any]:
    """Each stage's mean milliseconds per question over `questions` (asked once to warm up,
    then timed), with "other" for the rest of `ask`'s time."""
    for question in questions[:5]:
        ask(question)
    spent: dict[str, float] = defaultdict(float)
    with _timing(spent):
        started = time.perf_counter()
        for question in questions:
            ask(question)
        total = time.perf_counter() - started
    per = {name: spent[name] / len(questions) * 1000 for name, _, _ in STAGES}
    per["other"] = max(0.0, total / len(questions) * 1000 - sum(per.values()))
    return {"questions": len(questions), "ms": {k: round(v, 3) for k, v in per.items()}}


def chart(row: dict[str, Any], width: int = 40) -> str:
    """The breakdown as text bars, one stage a line, longest first."""
    ms = row["ms"]
    total = sum(ms.values()) or 1.0
    lines = [f"where a warm answer's {total:.1f} ms go ({row['questions']} questions):"]
    for name, value in sorted(ms.items(), key=lambda kv: -kv[1]):
        bar = "█" * round(width * value / total)
        lines.append(f"  {name:<10} {value:6.2f} ms {value / total:6.1%} {bar}")
    return "\n".join(lines)


@contextlib.contextmanager
def _timing(spent: dict[str, float]) -> Iterator[None]:
    """Wrap each stage's function so that its own time (less its timed callees') adds up."""
    import importlib

    stack: list[float] = []  # time taken by callees of each open stage
    undo = []

    def wrap(name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            stack.append(0.0)
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.perf_counter() - started
                inner = stack.pop()
                spent[name] += took - inner
                if stack:
                    stack[-1] += took

        return timed

    for name, module, path in STAGES:
        *owners, attribute = path.split(".")
        target: Any = importlib.import_module(module)
        for owner in owners:
            target = getattr(target, owner)
        original = getattr(target, attribute)
        setattr(target, attribute, wrap(name, original))
        undo.append((target, attribute, original))
    try:
        yield
    finally:
        for target, attribute, original in reversed(undo):
            setattr(target, attribute, original)
