"""`rag index | ask | eval | serve`: the command-line interface."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence

DEFAULT_QUESTION = "How much did Xinjiang live-streaming sales grow?"


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        default=None,
        help="folder of .txt/.md/.jsonl articles (default: bundled corpus/)",
    )
    parser.add_argument(
        "--index",
        default=None,
        help="index folder (default: index/ for the bundled corpus, else ~/.cache/rag-news/...)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Extractive, cited question answering over news articles."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build the index (or confirm it is up to date)")
    _paths(index)
    index.add_argument("--rebuild", action="store_true", help="rebuild even if the index matches")

    ask = commands.add_parser("ask", help="answer a question with cited sentences")
    ask.add_argument("question", help="the question, in quotes")
    _paths(ask)
    ask.add_argument(
        "--top-k", type=int, default=None, help="evidence sentences to return (default 3)"
    )
    ask.add_argument("--mode", choices=("bm25", "dense", "hybrid"), default=None)
    ask.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")

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
        help="SQuAD v1.1/v2.0 JSON: its articles are the corpus, its questions the gold pairs",
    )
    _paths(ev)
    ev.add_argument(
        "--mode",
        choices=("bm25", "dense", "hybrid", "all"),
        default=None,
        help="retrieval mode; all = ablation table over the three (default: hybrid)",
    )
    ev.add_argument(
        "--top-k", type=int, default=None, help="evidence sentences per answer (default 3)"
    )
    ev.add_argument("--out", default="eval_out", help="folder for report.json, report.md, plots")
    ev.add_argument("--rebuild", action="store_true", help="rebuild the index (to time the build)")
    ev.add_argument(
        "--calibrate",
        action="store_true",
        help="choose the abstention threshold on this gold set and write it to --scorer",
    )
    ev.add_argument(
        "--scorer",
        default=None,
        metavar="JSON",
        help="scorer file that --calibrate writes the threshold into (default: rag/scorer.json)",
    )

    train = commands.add_parser(
        "train", help="refit the sentence scorer on SQuAD v1.1 training data (keeps the threshold)"
    )
    train.add_argument("--squad", required=True, metavar="FILE", help="SQuAD training JSON")
    train.add_argument(
        "--scorer", default=None, metavar="JSON", help="where to write (default: rag/scorer.json)"
    )

    bench = commands.add_parser(
        "bench", help="benchmark latency, throughput, build speed and memory (issue 6)"
    )
    from .bench import add_arguments  # no heavy imports: rag.bench loads torch lazily

    add_arguments(bench)

    serve = commands.add_parser("serve", help="start the chat web UI (gradio) and print its URL")
    _paths(serve)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: reachable from this machine only)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=None,
        help="port (default: the first free one from 7860; 0 = any free port)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Argument bytes that are not UTF-8 reach us as lone surrogates; echo them, never crash.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return COMMANDS[args.command](args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"rag {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _assistant(args: argparse.Namespace, **kwargs: object):
    from .assistant import DEFAULT_CORPUS, DEFAULT_INDEX, Assistant

    corpus = args.corpus or DEFAULT_CORPUS
    index = args.index or (DEFAULT_INDEX if args.corpus is None else default_index_for(corpus))
    return Assistant.from_corpus(corpus, index, **kwargs)


def default_index_for(corpus: str) -> str:
    """A per-corpus index folder in the user's cache, so a corpus folder is never written to."""
    from .store import cache_root

    digest = hashlib.sha256(os.path.abspath(corpus).encode()).hexdigest()[:16]
    return str(cache_root() / digest)


def _index(args: argparse.Namespace) -> int:
    assistant = _assistant(args, rebuild=args.rebuild, progress=True)
    print("\n".join(assistant.build_report.lines()))
    return 0


def _ask(args: argparse.Namespace) -> int:
    from .assistant import validate_question

    validate_question(args.question)  # fail fast, before the model loads
    assistant = _assistant(args)
    answer = assistant.ask(args.question, top_k=args.top_k, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(format_answer(answer))
    return 0


def format_answer(answer) -> str:
    """The answer as terminal text: the sentences, then one citation line per source."""
    header = f"{answer.lead()} Closest passages, which may not answer it:"
    lines = [header if answer.abstained else "Answer:", ""]
    for number, item in enumerate(answer.evidence, start=1):
        lines.append(f"[{number}] {item.text}")
        if item.period:
            lines.append(f"    period: {item.period}")
        lines.append(
            f"    — {item.citation()} (chars {item.start}-{item.end}, score {item.score:.2f})"
        )
    lines.append("")
    lines.append(
        f"confidence {answer.confidence:.2f}" + (" — abstained" if answer.abstained else "")
    )
    return "\n".join(lines)


def _eval(args: argparse.Namespace) -> int:
    from .evaluate import command

    return command(args)


def _train(args: argparse.Namespace) -> int:
    from .compose import WEIGHTS_FILE
    from .train import train

    result = train(args.squad, args.scorer or WEIGHTS_FILE)
    for mode, figures in result["training"].items():
        print(
            f"{mode:7s} {figures['rows']:,} candidate sentences, "
            f"training hit@1 {figures['hit@1']:.3f}"
        )
    print(
        f"wrote {args.scorer or WEIGHTS_FILE}; "
        "run `rag eval --squad DEV --mode hybrid --calibrate` "
        "to choose the threshold"
    )
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import command

    return command(args)


def _serve(args: argparse.Namespace) -> int:
    from ui.app import examples_for, launch

    assistant = _assistant(args)
    try:
        launch(assistant, host=args.host, port=args.port, examples=examples_for(args.corpus))
    except OSError as exc:  # port taken or address not available: say so, no traceback
        print(f"rag serve: error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


COMMANDS = {"index": _index, "ask": _ask, "eval": _eval, "train": _train, "serve": _serve,
            "bench": _bench}

if __name__ == "__main__":
    raise SystemExit(main())
