"""Extractive, cited question answering over a corpus of news articles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .settings import __version__

if TYPE_CHECKING:
    from .assistant import Assistant
    from .eval.run import evaluate
    from .types import Answer, Evidence, ShortAnswer

__all__ = ["Answer", "Assistant", "Evidence", "ShortAnswer", "__version__", "ask", "evaluate"]

_default: Assistant | None = None


def ask(question: str, *, top_k: int | None = None, mode: str | None = None) -> Answer:
    """Answer a question from the bundled corpus/ with the default index/ (built on first use)."""
    global _default
    if _default is None:
        from .assistant import Assistant

        _default = Assistant.from_corpus()
    return _default.ask(question, top_k=top_k, mode=mode)


def __getattr__(name: str) -> object:
    # Lazy, so that `import rag` (and `rag --help`) does not import torch.
    if name == "Assistant":
        from .assistant import Assistant

        return Assistant
    if name == "evaluate":
        from .eval.run import evaluate

        return evaluate
    if name in ("Answer", "Evidence", "ShortAnswer"):
        from . import types

        return getattr(types, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
