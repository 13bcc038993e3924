"""`rag eval`: its options on the one parser, and the run they ask for (rag/eval/suite.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..settings import Mode


def add_parser(commands: Any, paths: Callable[[argparse.ArgumentParser], None]) -> None:
    """`rag eval` and its options, on the command-line parser's subcommands (`paths` adds the
    shared --corpus and --index)."""
    ev = commands.add_parser(
        "eval", help="score the answers against gold Q&A pairs (JSONL or SQuAD JSON)"
    )
    ev.add_argument(
        "gold",
        nargs="?",
        default=None,
        help="gold Q&A JSONL (default: gold_qa.jsonl in the corpus folder)",
    )
    ev.add_argument(
        "--squad",
        default=None,
        metavar="FILE",
        help="SQuAD v1.1/v2.0 JSON: its articles are the corpus, its questions the gold",
    )
    ev.add_argument(
        "--figures",
        default=None,
        metavar="FILE",
        help="score the figures table instead, against figures labelled by hand in this JSONL "
        "(its articles: the file's folder, or --corpus)",
    )
    paths(ev)
    ev.add_argument(
        "--mode",
        choices=[*(m.value for m in Mode), "all"],
        default=None,
        help="retrieval mode; all = ablation table over the three (default: hybrid)",
    )
    ev.add_argument(
        "--scorer-kind",
        choices=("trees", "reader", "both"),
        default="reader",
        help="reader: the trees, then the reader on their best (default, the assistant's "
        "scorer); trees: the boosted trees alone; both: an ablation table without and with "
        "the reader",
    )
    ev.add_argument(
        "--reader-model",
        default=None,
        metavar="ONNX",
        help="another exported reader, with its reader.json beside it (default: the "
        "packaged rag/models/reader.int8.onnx)",
    )
    ev.add_argument(
        "--span-source",
        choices=("default", "reader"),
        default="default",
        help="default: the assistant's choice (the reader's span, or for percentage and money "
        "questions the figure found by rule when the reader is unsure); reader: the reader's "
        "span for every question",
    )
    ev.add_argument("--top-k", type=int, default=None, help="evidence sentences (default 3)")
    ev.add_argument("--out", default="eval_out", help="folder for report.json, report.md, plots")
    ev.add_argument("--rebuild", action="store_true", help="rebuild the index (to time the build)")
    ev.add_argument(
        "--calibrate",
        action="store_true",
        help="choose the abstention threshold on this gold set and write it",
    )
    ev.add_argument(
        "--scorer",
        default=None,
        metavar="JSON",
        help="the file --calibrate writes the threshold into (default: that of the "
        "scorer evaluated, rag/models/reader.json or rag/scorer.json)",
    )


def run(args: argparse.Namespace) -> int:
    """`rag eval` as parsed."""
    if args.figures:
        from ..errors import SettingsError
        from .figures import run_figures

        if args.gold or args.squad:
            raise SettingsError("--figures FILE is the gold file; drop GOLD and --squad")
        run_figures(args.figures, args.corpus, args.out, _command_line(args))
        return 0
    from .suite import run_command

    return run_command(
        gold=args.gold,
        squad=args.squad,
        corpus=args.corpus,
        index=args.index,
        mode=args.mode,
        scorer_kind=args.scorer_kind,
        top_k=args.top_k,
        out=args.out,
        rebuild=args.rebuild,
        calibrate=args.calibrate,
        scorer_file=args.scorer,
        command=_command_line(args),
        reader_model=args.reader_model,
        span_source=args.span_source,
    )


def _command_line(args: argparse.Namespace) -> str:
    """The `rag eval` invocation that reproduces a report."""
    parts = ["rag", "eval"] + ([args.gold] if args.gold else [])
    for flag, value in (
        ("--figures", args.figures),
        ("--squad", args.squad),
        ("--corpus", args.corpus),
        ("--mode", args.mode),
        ("--top-k", args.top_k),
        ("--out", args.out),
    ):
        if value is not None:
            parts += [flag, str(value)]
    if args.reader_model:
        parts += ["--reader-model", args.reader_model]
    if args.scorer_kind != "reader":
        parts += ["--scorer-kind", args.scorer_kind]
    return " ".join(parts)
