"""rag/ reads as its pipeline: imports run one way, assistant -> answer -> index -> ingest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

RAG = ROOT / "rag"
# What each wing may import from rag: the wings below it and the shared vocabulary.
VOCABULARY = {"types", "errors", "settings", "scope"}
MAY_IMPORT = {
    "ingest": {"ingest"} | VOCABULARY,
    "index": {"index", "ingest"} | VOCABULARY,
    "answer": {"answer", "index", "ingest"} | VOCABULARY,
}


def rag_imports(path: Path) -> set[str]:
    """The first part under rag of every module `path` imports ("index" for rag.index.store)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                names = [parts] if node.module else [base + [a.name] for a in node.names]
            else:
                names = [(node.module or "").split(".")]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        found |= {parts[1] for parts in names if len(parts) > 1 and parts[0] == "rag"}
    return found


@pytest.mark.parametrize("wing", sorted(MAY_IMPORT))
def test_no_wing_imports_a_wing_above_it_or_the_tooling(wing: str) -> None:
    wrong = {
        f"{path.name} imports rag.{name}"
        for path in (RAG / wing).glob("*.py")
        for name in rag_imports(path) - MAY_IMPORT[wing]
    }
    assert not wrong


def test_the_root_holds_the_facade_and_the_vocabulary_only() -> None:
    wings_and_tooling = {"ingest", "index", "answer", "eval", "bench", "train", "cluster"}
    entries = {p.name for p in RAG.iterdir() if p.name != "__pycache__"} - wings_and_tooling
    assert len(entries) <= 12, sorted(entries)
    assert not {n for n in entries if n.endswith(".py")} - {
        "__init__.py",
        "assistant.py",
        "cli.py",
        *(f"{n}.py" for n in VOCABULARY),
    }
