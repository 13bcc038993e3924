"""`rag eval` end to end: read the gold set, evaluate each mode and scorer, write and calibrate."""

from __future__ import annotations

import sys
from pathlib import Path

from ..answer.reader import READER_FILE
from ..answer.scorer import load_scorer
from ..errors import SettingsError
from ..settings import DEFAULT_CORPUS, Mode, positive
from .calibrate import calibrate_threshold, write_threshold
from .data import GoldPair, read_gold, read_squad, squad_cache_dir, write_squad_corpus
from .report import format_kinds, format_table, write_outputs
from .run import EvalReport, evaluate

SCORER_KINDS = ("trees", "reader")


def run_command(
    *,
    gold: str | None,
    squad: str | None,
    corpus: str | None,
    index: str | None,
    mode: str | None,
    scorer_kind: str,
    top_k: int | None,
    out: str,
    rebuild: bool,
    calibrate: bool,
    scorer_file: str | None,
    command: str,
    reader_model: str | None = None,
    span_source: str = "default",
) -> int:
    """Evaluate, print the table, write the report; `calibrate` sets the threshold."""
    from ..assistant import Assistant

    modes = list(Mode) if mode == "all" else [Mode.of(mode or Mode.HYBRID)]
    kinds = list(SCORER_KINDS) if scorer_kind == "both" else [scorer_kind]
    if calibrate and len(modes) * len(kinds) > 1:
        raise SettingsError(
            "--calibrate chooses one threshold; pass one --mode and one "
            "--scorer-kind, or leave both out for the defaults"
        )
    if top_k is not None:
        positive("--top-k", top_k)
    # Read the gold data before loading the model, so a bad file fails in a second.
    corpus_dir, index_dir, pairs, source = _gold(gold, squad, corpus, index)
    scorers = {kind: load_scorer(kind, Path(reader_model or READER_FILE)) for kind in kinds}
    assistant = Assistant.from_corpus(
        corpus_dir, index_dir, scorer=scorers[kinds[0]], rebuild=rebuild, progress=True
    )
    print(assistant.build_report.lines()[0])
    if span_source == "reader":
        assistant = _spans_only(assistant)
    reports: dict[str, EvalReport] = {}
    for kind in kinds:
        variant = assistant if kind == kinds[0] else assistant.with_scorer(scorers[kind])
        for chosen in modes:
            report = evaluate(
                variant, pairs, mode=chosen, top_k=top_k, progress=True, source=source
            )
            name = chosen.value if len(kinds) == 1 else f"{chosen.value}+{kind}"
            reports[name] = report
            for warning in report.warnings:
                print(f"warning: {warning}", file=sys.stderr)
    print(format_table(reports))
    for name, report in reports.items():
        if kinds_table := format_kinds(report):
            print(f"\nby kind ({name}):\n{kinds_table}")
    written = write_outputs(reports, out, corpus=str(corpus_dir), command=command)
    print(f"wrote {', '.join(p.name for p in written)} to {out}")
    if calibrate:
        (report,) = reports.values()
        choice = calibrate_threshold(report)
        target = write_threshold(
            choice.threshold,
            choice.note(),
            scorer_file or assistant.composer.scorer.source,
            high=choice.high,
        )
        print(f"{choice.line()}; written to {target}")
    return 0


def _spans_only(assistant):
    """The assistant with the reader's short answer for figure questions too."""
    from ..answer.compose import Composer

    current = assistant.composer
    return assistant.with_composer(
        Composer(current.scorer, current.threshold, current.reader, rule_first=frozenset())
    )


def _gold(
    gold: str | None, squad: str | None, corpus: str | None, index: str | None
) -> tuple[Path, Path, list[GoldPair], str]:
    """(corpus folder, index folder, gold pairs, their source) from the command's arguments."""
    from ..index.store import index_for

    if squad:
        if gold or corpus:
            raise ValueError(
                "--squad FILE is both the corpus and the gold set; drop GOLD and --corpus"
            )
        squad_set = read_squad(squad)
        cache = squad_cache_dir(squad)
        corpus_dir = write_squad_corpus(squad_set, cache / "corpus")
        index_dir = Path(index) if index else cache / "index"
        return corpus_dir, index_dir, list(squad_set.pairs), str(squad)
    corpus_dir = Path(corpus) if corpus else DEFAULT_CORPUS
    gold_path = Path(gold) if gold else corpus_dir / "gold_qa.jsonl"
    if not gold and not gold_path.is_file():
        raise FileNotFoundError(
            f"no GOLD file given and {str(gold_path)!r} does not exist; "
            "pass a gold JSONL: rag eval GOLD.jsonl --corpus DIR"
        )
    return corpus_dir, index_for(corpus, index), read_gold(gold_path), str(gold_path)
