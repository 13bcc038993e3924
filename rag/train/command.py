"""`rag train`: the trees, the reader or the span model, trained and exported."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """`rag train` and its options, on the command-line parser's subcommands."""
    train = commands.add_parser(
        "train",
        help="refit the trees (--squad), or train and export the reader (--reader) or the "
        "span model (--span)",
    )
    train.add_argument("--squad", metavar="FILE", help="SQuAD training JSON for the trees")
    train.add_argument(
        "--scorer",
        default=None,
        metavar="JSON",
        help="where the trees go (default: rag/scorer.json)",
    )
    train.add_argument(
        "--reader",
        action="store_true",
        help="train the reader on --train-file and --abstain-file, then export it",
    )
    train.add_argument(
        "--span",
        action="store_true",
        help="train the span model (the short answer) on --train-file and the answerable "
        "questions of --abstain-file, then export it",
    )
    train.add_argument("--train-file", metavar="FILE", help="SQuAD v1.1 training JSON")
    train.add_argument("--abstain-file", metavar="FILE", help="SQuAD 2.0 JSON with unanswerables")
    train.add_argument(
        "--work",
        default=None,
        metavar="DIR",
        help="lists, checkpoints and log; a rerun resumes from here (default: reader-work or "
        "span-work)",
    )
    train.add_argument("--articles", type=int, default=60, help="training articles indexed")
    train.add_argument(
        "--layers",
        type=int,
        default=None,
        help="MiniLM layers kept, 1-6 (default: reader 4, span 6)",
    )
    train.add_argument("--max-length", type=int, default=96, help="tokens per pair")
    train.add_argument("--seed", type=int, default=13)
    train.add_argument(
        "--export-only",
        action="store_true",
        help="export the finished checkpoint in --work again, without training",
    )


def run(args: argparse.Namespace) -> int:
    """`rag train` as parsed."""
    return run_command(
        squad=args.squad,
        scorer_file=args.scorer,
        reader=args.reader,
        span=args.span,
        train_file=args.train_file,
        abstain_file=args.abstain_file,
        work=args.work,
        articles=args.articles,
        layers=args.layers,
        max_length=args.max_length,
        seed=args.seed,
        export_only=args.export_only,
    )


def run_command(
    *,
    squad: str | None,
    scorer_file: str | None,
    reader: bool,
    span: bool,
    train_file: str | None,
    abstain_file: str | None,
    work: str | None,
    articles: int,
    layers: int | None,
    max_length: int,
    seed: int,
    export_only: bool,
) -> int:
    """Train what was asked for (trees, reader or span model); print what to do next."""
    if reader and span:
        raise ValueError("pass --reader or --span, not both: each trains one model")
    if span:
        if not export_only and not train_file:
            raise ValueError("--span needs --train-file (SQuAD JSON with answers)")
        return _span(train_file, abstain_file, work, layers, max_length, seed, export_only)
    if reader:
        if not export_only and not (train_file and abstain_file):
            raise ValueError(
                "--reader needs --train-file (SQuAD v1.1) and --abstain-file "
                "(SQuAD 2.0 with unanswerables)"
            )
        return _reader(
            train_file, abstain_file, work, articles, layers, max_length, seed, export_only
        )
    if not squad:
        raise ValueError(
            "pass --squad FILE to refit the trees, --reader to train the reader or --span to "
            "train the span model"
        )
    return _trees(squad, scorer_file)


def _span(train_file, abstain_file, work, layers, max_length, seed, export_only) -> int:
    from .pipeline import train_span_and_export
    from .span import SpanTraining

    manifest = train_span_and_export(
        [f for f in (train_file, abstain_file) if f],  # the answerable questions of both
        Path(work or "span-work"),
        layers=layers or SpanTraining.layers,
        max_length=max_length,
        seed=seed,
        export_only=export_only,
    )
    print(
        f"wrote the span model ({manifest['bytes'] / 2**20:.1f} MB, sha256 "
        f"{manifest['sha256'][:16]}…); held-out {manifest['training'].get('held_out')}"
    )
    return 0


def _reader(train_file, abstain_file, work, articles, layers, max_length, seed, export_only) -> int:
    from .pipeline import train_and_export
    from .reader import TrainingSettings

    manifest = train_and_export(
        train_file,
        abstain_file,
        Path(work or "reader-work"),
        articles=articles,
        layers=layers or TrainingSettings.layers,
        max_length=max_length,
        seed=seed,
        export_only=export_only,
    )
    print(
        f"wrote the reader ({manifest['bytes'] / 2**20:.1f} MB, sha256 "
        f"{manifest['sha256'][:16]}…); run `rag eval --squad DEV --calibrate` next"
    )
    return 0


def _trees(squad: str, scorer_file: str | None) -> int:
    from ..scorer import WEIGHTS_FILE
    from .scorer import train

    result = train(squad, scorer_file or WEIGHTS_FILE)
    for mode, figures in result["training"].items():
        print(
            f"{mode:7s} {figures['rows']:,} candidate sentences, "
            f"training hit@1 {figures['hit@1']:.3f}"
        )
    print(
        f"wrote {scorer_file or WEIGHTS_FILE}; run `rag eval --squad DEV --mode hybrid "
        "--calibrate` to choose the threshold"
    )
    return 0
