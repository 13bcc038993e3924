"""`rag train`: the trees, the reader or the span model, trained and exported."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from .paths import SPAN_WARM_START, TRAIN_ROOT


def add_parser(commands: Any) -> None:
    """`rag train` and its options, on the command-line parser's subcommands."""
    train = commands.add_parser(
        "train",
        help="refit the trees (--squad), or train and export the reader (--reader) or the "
        "span model it starts from (--span)",
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
        help="train the span model the reader starts from on --train-file and the answerable "
        "questions of --abstain-file, then export it to --work",
    )
    train.add_argument("--train-file", metavar="FILE", help="SQuAD v1.1 training JSON")
    train.add_argument("--abstain-file", metavar="FILE", help="SQuAD 2.0 JSON with unanswerables")
    train.add_argument(
        "--work",
        default=None,
        metavar="DIR",
        help="lists, checkpoints and log; a rerun resumes from here (default: "
        "~/.cache/rag-news/train/reader or .../span)",
    )
    train.add_argument("--articles", type=int, default=120, help="training articles indexed")
    train.add_argument("--layers", type=int, default=6, help="MiniLM layers kept, 1-6")
    train.add_argument(
        "--max-length",
        type=int,
        default=None,
        help="tokens per pair (default: reader 80, span 96)",
    )
    train.add_argument(
        "--max-lists",
        type=int,
        default=None,
        help="reader: train on at most this many question lists (size a run to the time it "
        "may take: the log gives rows/s)",
    )
    train.add_argument(
        "--epochs", type=int, default=1, help="reader: passes over the lists (default 1)"
    )
    train.add_argument(
        "--answerable-share",
        type=float,
        default=1.0,
        metavar="SHARE",
        help="reader: keep this share of the answerable lists, chosen by question id (default "
        "1; the unanswerable lists always stay)",
    )
    train.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="reader: cut the epochs to what fits in this many minutes of training, timed over "
        "the first 50 steps (the learning rate decays to zero at the cut)",
    )
    train.add_argument(
        "--lists-per-batch",
        type=int,
        default=8,
        help="reader: question lists a step (default 8; a GPU takes 16 or more)",
    )
    train.add_argument(
        "--learning-rate", type=float, default=5e-5, help="reader: the encoder's (default 5e-5)"
    )
    train.add_argument(
        "--swapped",
        type=int,
        default=0,
        metavar="N",
        help="reader: add N unanswerable lists, answerable questions with a name, year or "
        "number swapped for another article's (default 0)",
    )
    train.add_argument(
        "--warm-start",
        default=str(SPAN_WARM_START),
        metavar="ONNX",
        help="reader: the span model it starts from ('none': the raw embedding model; default: "
        "the one `rag train --span` exports)",
    )
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
        max_lists=args.max_lists,
        epochs=args.epochs,
        minutes=args.minutes,
        answerable_share=args.answerable_share,
        lists_per_batch=args.lists_per_batch,
        learning_rate=args.learning_rate,
        swapped=args.swapped,
        warm_start=None if args.warm_start == "none" else args.warm_start,
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
    layers: int,
    max_length: int | None,
    max_lists: int | None,
    epochs: int,
    minutes: float | None,
    answerable_share: float,
    lists_per_batch: int,
    learning_rate: float,
    swapped: int,
    warm_start: str | None,
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
        lists = Path(work or TRAIN_ROOT / "reader") / "lists.jsonl"
        if not export_only and not lists.is_file() and not (train_file and abstain_file):
            raise ValueError(
                "--reader needs --train-file (SQuAD v1.1) and --abstain-file "
                f"(SQuAD 2.0 with unanswerables) to make its lists, {lists}"
            )
        from .reader import TrainingSettings

        settings = TrainingSettings(
            layers=layers,
            seed=seed,
            max_lists=max_lists,
            warm_start=warm_start,
            epochs=epochs,
            minutes=minutes,
            answerable_share=answerable_share,
            lists_per_batch=lists_per_batch,
            learning_rate=learning_rate,
        )
        if max_length:
            settings = replace(settings, max_length=max_length)
        return _reader(
            train_file, abstain_file, lists.parent, articles, swapped, settings, export_only
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
        Path(work or TRAIN_ROOT / "span"),
        layers=layers,
        max_length=max_length or SpanTraining.max_length,
        seed=seed,
        export_only=export_only,
    )
    print(
        f"wrote the span model ({manifest['bytes'] / 2**20:.1f} MB, sha256 "
        f"{manifest['sha256'][:16]}…); held-out {manifest['training'].get('held_out')}"
    )
    return 0


def _reader(train_file, abstain_file, work, articles, swapped, settings, export_only) -> int:
    from .pipeline import train_and_export

    manifest = train_and_export(
        train_file,
        abstain_file,
        work,
        settings,
        articles=articles,
        swapped=swapped,
        export_only=export_only,
    )
    print(
        f"wrote the reader ({manifest['bytes'] / 2**20:.1f} MB, sha256 "
        f"{manifest['sha256'][:16]}…); run `rag eval --squad DEV --calibrate` next"
    )
    return 0


def _trees(squad: str, scorer_file: str | None) -> int:
    from ..answer.scorer import WEIGHTS_FILE
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
