"""`rag index | add | ask | chat | figures | eval | train | bench | serve`: the one parser."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .answer.figures import MEASURES
from .answer.timeref import period_label
from .cluster import command as cluster
from .eval import command as eval_command
from .scope import Scope
from .settings import DEFAULT_CORPUS, Mode
from .train import command as train_command

MODES = [m.value for m in Mode]


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        default=None,
        help="folder of articles: .txt, .md, .jsonl, .html, .pdf, RSS/Atom feeds "
        "(default: bundled corpus/)",
    )
    parser.add_argument(
        "--index",
        default=None,
        help="index folder (default: index/ for the bundled corpus, else ~/.cache/rag-news/...)",
    )


def _as_built(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-built",
        action="store_true",
        help="when the corpus changed since the index was built, answer from the index as it "
        "is (a warning says so) instead of updating it first, with progress bars",
    )


def _answer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top-k", type=int, default=None, help="evidence sentences (default 3)")
    parser.add_argument("--mode", choices=MODES, default=None, help="retrieval (default hybrid)")
    parser.add_argument(
        "--article",
        action="append",
        default=[],
        metavar="DOC_ID",
        help="search only this article (repeat for several; ids as `rag index` lists them)",
    )
    parser.add_argument(
        "--since",
        default="",
        help="search only articles published from this date on (YYYY, YYYY-MM or YYYY-MM-DD)",
    )
    parser.add_argument(
        "--until", default="", help="search only articles published up to this date (inclusive)"
    )


def _scope(args: argparse.Namespace) -> Scope:
    """The article and date filter of `rag ask` and `rag chat`."""
    return Scope(tuple(args.article), args.since, args.until)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Extractive, cited question answering over news articles."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build the index (or confirm it is up to date)")
    _paths(index)
    index.add_argument("--rebuild", action="store_true", help="rebuild even if the index matches")
    index.add_argument(
        "--verbose", action="store_true", help="list every line cleaning removed and file skipped"
    )
    cluster.add_options(index, serving=False)

    ask = commands.add_parser("ask", help="answer a question with cited sentences")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument(
        "--follow-up",
        metavar="PREVIOUS",
        default=None,
        help="the previous question: a short follow-up is merged with it",
    )
    _paths(ask)
    _as_built(ask)
    _answer_options(ask)
    ask.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")

    chat = commands.add_parser("chat", help="ask questions in turn; follow-ups build on the last")
    _paths(chat)
    _as_built(chat)
    _answer_options(chat)

    figures = commands.add_parser(
        "figures", help="list every figure of the articles: value, unit, measure, of what, when"
    )
    _paths(figures)
    _as_built(figures)
    figures.add_argument("--measure", choices=MEASURES, help="only this measure")
    figures.add_argument("--about", help='only figures of this ("online retail sales")')
    figures.add_argument("--place", help="only figures whose sentence is about this place")
    figures.add_argument("--article", metavar="DOC_ID", help="only this article's figures")
    figures.add_argument(
        "--period",
        help="only figures of this period: a year, a month or a period as the table writes it "
        "(2024, 2024-05, H1 2024, Q3 2024, 2024-01/2024-05)",
    )
    figures.add_argument(
        "--since", default="", help="only articles published from this date on (YYYY[-MM[-DD]])"
    )
    figures.add_argument(
        "--until", default="", help="only articles published up to this date (inclusive)"
    )
    figures.add_argument("--format", choices=("table", "csv", "json"), default="table")

    eval_command.add_parser(commands, _paths)
    train_command.add_parser(commands)
    _bench_parser(commands)

    add = commands.add_parser(
        "add", help="add articles (files, or links to pages and feeds) to the corpus and index"
    )
    add.add_argument(
        "sources",
        nargs="+",
        metavar="FILE_OR_URL",
        help="article files (.txt, .md, .jsonl, .html, .pdf, .xml feeds) or http(s) links; "
        "each is copied (a link: its articles, with their address) into the corpus's uploads/",
    )
    _paths(add)

    serve = commands.add_parser("serve", help="start the chat web UI (gradio) and print its URL")
    _paths(serve)
    _as_built(serve)
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
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a name clients reach the server by, beyond loopback and --host (repeatable; also "
        "RAG_ALLOWED_HOSTS=a,b): requests addressed to any other name are refused",
    )
    serve.add_argument(
        "--read-only",
        action="store_true",
        help="no uploads: the page cannot add articles to the corpus (its uploads/ folder)",
    )
    serve.add_argument(
        "--fetch-private",
        action="store_true",
        help="let links added on the page lead to loopback, private and link-local addresses "
        "(an intranet's pages); by default the server fetches public pages only",
    )
    cluster.add_options(serve, serving=True)
    return parser


def _bench_parser(commands) -> None:
    from .bench.load import CLIENTS, QUESTIONS_EACH
    from .bench.measure import DEFAULT_OUT, DEFAULT_SIZES

    bench = commands.add_parser(
        "bench", help="benchmark latency, throughput, build speed and memory"
    )
    bench.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="passage counts for the retrieval rows (default 10k,100k; 1M "
        "takes several minutes more)",
    )
    bench.add_argument("--questions", type=int, default=300, help="questions per measurement")
    bench.add_argument(
        "--cold-runs",
        type=int,
        default=3,
        help="fresh processes per cold-start measurement (0 skips it)",
    )
    bench.add_argument(
        "--build-corpus",
        default=None,
        metavar="DIR",
        help="corpus folder for the build measurement (default: the bundled one)",
    )
    bench.add_argument(
        "--squad",
        default=None,
        metavar="FILE",
        help="a SQuAD JSON file whose articles get figures-table rows too: its part of their "
        "index build, and GET /api/figures under the --load-clients load",
    )
    bench.add_argument(
        "--load-clients",
        type=int,
        default=CLIENTS,
        metavar="N",
        help=f"concurrent web clients, {QUESTIONS_EACH} requests each, against "
        f"the real server (default {CLIENTS}; 0 skips it)",
    )
    bench.add_argument("--out", default=str(DEFAULT_OUT), help="where to write bench.json")
    bench.add_argument(
        "--peers",
        action="store_true",
        help="only the peers' table: the bundled questions through rag-news, Haystack 2.x and "
        "txtai (`pip install rag-news[peers]`), each in fresh processes, round-robin",
    )
    bench.add_argument("--rounds", type=int, default=3, help="rounds of --peers (median)")
    bench.add_argument("--corpus", default=None, help="corpus of --peers (default: bundled)")
    bench.add_argument(
        "--ingest",
        action="store_true",
        help="only the ingest row: 1,000 web pages read beside the same stories as .txt, and "
        "how much of each story extraction kept (a minute)",
    )
    bench.add_argument(
        "--cluster",
        action="store_true",
        help="instead: builds on local Ray clusters of 1 and 2 nodes, and asking through Serve",
    )


def parse_sizes(text: str) -> list[int]:
    """'10k,100k,1M' -> [10000, 100000, 1000000]."""
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        number = part[:-1] if scale > 1 else part
        try:
            value = int(float(number) * scale)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--sizes takes numbers such as 10k,100k,1M; got {part!r}"
            ) from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"--sizes must be positive; got {part!r}")
        out.append(value)
    return out


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
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        print(f"rag {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _assistant(args: argparse.Namespace, **kwargs: object):
    from .assistant import Assistant
    from .index.store import index_for, read_manifest
    from .index.upload import recover_uploads

    corpus = args.corpus or DEFAULT_CORPUS
    folder = index_for(args.corpus, args.index)
    for line in recover_uploads(corpus, folder):  # before the corpus is read for the index
        print(line, file=sys.stderr, flush=True)
    if read_manifest(folder) is None:
        # A first question on a new folder waits for its index: say so, and show it coming.
        print(f"No index of {corpus} yet: building it in {folder}", file=sys.stderr, flush=True)
    # Bars show only while texts are embedded: when the index is built or brought up to date.
    kwargs.setdefault("progress", True)
    kwargs.setdefault("update", not getattr(args, "as_built", False))
    return Assistant.from_corpus(corpus, folder, **kwargs)


def _index(args: argparse.Namespace) -> int:
    from .index.store import index_for

    if args.cluster:
        return cluster.index(args)
    assistant = _assistant(args, rebuild=args.rebuild, progress=True, stale_ok=False)
    print("\n".join(assistant.build_report.lines(verbose=args.verbose)))
    print(f"index in {index_for(args.corpus, args.index)}")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from .answer.followup import ask_followup
    from .settings import validate_question

    validate_question(args.question)  # fail fast, before the model loads
    previous = validate_question(args.follow_up) if args.follow_up else None
    scope = _scope(args)
    answer = ask_followup(
        _assistant(args), args.question, previous, top_k=args.top_k, mode=args.mode, scope=scope
    )
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer, asked=args.question))
    return 0


def _chat(args: argparse.Namespace) -> int:
    scope = _scope(args)
    conversation = _assistant(args).conversation()
    print("Ask a question (an empty line or Ctrl-D ends; 'clear' forgets the last question).")
    prompt = "question> " if sys.stdin.isatty() else ""  # piped questions need no prompt
    while True:
        try:
            line = input(prompt)
        except EOFError:
            break
        if not line.strip():
            break
        if line.strip().lower() == "clear":
            conversation.clear()
            continue
        try:
            answer = conversation.ask(line, top_k=args.top_k, mode=args.mode, scope=scope)
        except ValueError as exc:
            print(f"error: {exc}")
            continue
        print(format_answer(answer, asked=line.strip()) + "\n")
    return 0


def _figures(args: argparse.Namespace) -> int:
    import csv
    from dataclasses import asdict

    scope = Scope(since=args.since, until=args.until)  # a bad date fails before the index loads
    records = _assistant(args, progress=True).figures(
        measure=args.measure, about=args.about, place=args.place, article=args.article,
        period=args.period, scope=scope,
    )  # fmt: skip
    rows = [asdict(r) for r in records]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        fields = list(rows[0]) if rows else ["value"]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        for r in records:
            period = period_label(r.period) or "period unknown"
            print(f"{r.value:>24}  {r.measure:6}  {r.subject or '(unnamed)'}; "
                  f"{r.place or 'place unknown'}; {period}")  # fmt: skip
            print(f"{'':>24}  — {r.title} ({r.doc_id}, chars {r.start}-{r.end})")
        print(f"{len(records)} figures")
    return 0


def format_answer(answer, asked: str | None = None) -> str:
    """The answer as terminal text: the short answer, the sentences, a citation line for each."""
    lines = []
    if asked is not None and " ".join(asked.split()) != answer.answered_question:
        lines.append(f"Answered as: {answer.answered_question}")
    if answer.scope:
        lines.append(f"Searched only: {answer.scope}.")
    if answer.abstained:
        lines.append(f"{answer.lead()} {answer.CLOSEST}")
    else:
        short = answer.short_answer
        lines.append(f"Answer: {short.text}" if short else "Answer:")
        if answer.lead():  # the figures of different articles, side by side
            lines.append(answer.lead())
    lines.append("")
    for number, item in enumerate(answer.evidence, start=1):
        lines.append(f"[{number}] {item.text}")
        if item.period:
            lines.append(f"    period: {period_label(item.period)}")
        lines.append(
            f"    — {item.citation()} (chars {item.start}-{item.end}, score {item.score:.2f})"
        )
    lines.append("")
    lines.append(
        f"confidence {answer.confidence:.2f}" + (" — abstained" if answer.abstained else "")
    )
    return "\n".join(lines)


def _bench(args: argparse.Namespace) -> int:
    from .bench.cluster import run_cluster_bench
    from .bench.run import run

    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    if args.cluster:
        print(run_cluster_bench(log=log)["table"])
        return 0
    if args.peers:
        from .bench.peers import run_peers

        corpus = Path(args.corpus or DEFAULT_CORPUS)
        done = run_peers(corpus, corpus / "gold_qa.jsonl", rounds=args.rounds, log=log)
        Path(args.out).with_name("peers.json").write_text(json.dumps(done, indent=2) + "\n")
        print(done["table"])
        return 0
    if args.ingest:
        from .bench.ingest import ingest, ingest_row

        row = ingest()
        print(json.dumps(row, indent=2))
        print(ingest_row(row))
        return 0 if row["target_met"] else 1
    result = run(
        sizes=args.sizes,
        questions=args.questions,
        cold_runs=args.cold_runs,
        build_corpus=Path(args.build_corpus) if args.build_corpus else None,
        squad=Path(args.squad) if args.squad else None,
        load_clients=args.load_clients,
        out=Path(args.out),
        log=log,
    )
    print(result["table"])
    print(f"\nwrote {args.out}")
    return 0


def _add(args: argparse.Namespace) -> int:
    from .index.store import index_for

    links = [source for source in args.sources if "://" in source]  # fetch says which it takes
    missing = [s for s in args.sources if s not in links and not Path(s).is_file()]
    if missing:
        print(f"rag add: error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    corpus = args.corpus or DEFAULT_CORPUS
    # The user's own machine: a link may lead to an intranet page (the server refuses those).
    assistant, done = _assistant(args).add(
        args.sources, corpus, index_for(args.corpus, args.index), fetch_private=True
    )
    print("\n".join([*done.report.lines(), *(line.strip() for line in done.details)]))
    if done.error:
        print(f"rag add: error: {done.error}", file=sys.stderr)
    added = sum(item.articles for item in done.report.added)
    print(f"{added} article{'s' if added != 1 else ''} added; {len(assistant.articles)} indexed")
    return 0 if added and not done.error else 1


def _serve(args: argparse.Namespace) -> int:
    from ui.app import examples_for, launch
    from ui.auth import check_exposure, credentials

    check_exposure(args.host, credentials())  # before the model loads or a cluster deploys
    from .index.store import index_for

    assistant = cluster.assistant(args) if args.cluster else _assistant(args)
    # Uploads rebuild one machine's index; a cluster's is rebuilt with `rag index --cluster`.
    uploads = not (args.read_only or args.cluster)
    try:
        launch(
            assistant,
            host=args.host,
            port=args.port,
            examples=examples_for(args.corpus),
            corpus=(args.corpus or DEFAULT_CORPUS) if uploads else None,
            index_dir=index_for(args.corpus, args.index),
            hosts=args.allowed_host,
            fetch_private=args.fetch_private,
        )
    except OSError as exc:  # port taken or address not available: say so, no traceback
        print(f"rag serve: error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


COMMANDS = {
    "index": _index,
    "add": _add,
    "ask": _ask,
    "chat": _chat,
    "eval": eval_command.run,
    "train": train_command.run,
    "bench": _bench,
    "serve": _serve,
    "figures": _figures,
}

if __name__ == "__main__":
    raise SystemExit(main())
