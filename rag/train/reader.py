"""Fine-tune the reader (one encoder, a rank head and a span head) on `reader_data`'s lists."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from tqdm import tqdm

from ..answer.reader import Encoded, ReaderInput, best_span, encode_pair, load_tokenizer, pad
from .checkpoint import resume_checkpoint, save_checkpoint, training_log
from .model import build_model
from .paths import SPAN_WARM_START
from .reader_data import Pair, kept, read_lists

log = logging.getLogger(__name__)
T = TypeVar("T")
_PACE_STEPS = 50  # steps timed before `--minutes` cuts the plan


def _torch():
    import torch

    return torch


@dataclass(frozen=True)
class TrainingSettings:
    """How the reader is trained; `rag train --reader` uses these defaults."""

    layers: int = 6
    max_length: int = 80  # tokens per (question, sentence in context) pair
    lists_per_batch: int = 8
    list_size: int = 4  # the trees' best rows per question (a missed positive swapped in)
    epochs: int = 1
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3  # the rank head starts from nothing
    span_weight: float = 1.0
    seed: int = 13
    validation: int = 400  # lists held out for the hit@1 logged at each checkpoint
    checkpoint_minutes: float = 8.0
    max_lists: int | None = None  # cap on the training lists, sized to the time a run may take
    minutes: float | None = None  # cut the plan to what fits, measured over its first steps
    answerable_share: float = 1.0  # of the answerable lists kept, chosen by their question id
    warm_start: str | None = str(SPAN_WARM_START)  # None: from the raw embedding model


@dataclass(frozen=True)
class Row:
    """A training row encoded, with its label and the token positions of its answer span."""

    encoded: Encoded
    label: int
    target: tuple[int, int] | None
    pair: Pair


def encode_row(tokenizer, pair: Pair, max_length: int) -> Row:
    item = ReaderInput(pair.title, pair.previous, pair.sentence, pair.next)
    encoded = encode_pair(tokenizer, pair.question, item, max_length)
    target = None
    if pair.label and pair.answer_start >= 0:
        target = token_targets(encoded, pair.answer_start, pair.answer_end)
    return Row(encoded, pair.label, target, pair)


def token_targets(item: Encoded, start: int, end: int) -> tuple[int, int] | None:
    """Positions of the first and last tokens of `[start, end)`, or None when it was cut off."""
    first = last = None
    for k, (lo, hi) in enumerate(item.offsets):
        if first is None and hi > start:
            first = k
        if lo < end:
            last = k
    if first is None or last is None or last < first or item.offsets[-1][1] < end:
        return None
    return item.first + first, item.first + last


def train_reader(
    lists_file: str | os.PathLike[str],
    work_dir: str | os.PathLike[str],
    settings: TrainingSettings = TrainingSettings(),
) -> Path:
    """Train (or resume) in `work_dir`, logging to its train.log; returns the final checkpoint.

    Loss: binary cross-entropy per row, so the sigmoid of the rank logit is a probability that
    the sentence answers (lists with no answer teach abstention); a listwise softmax over each
    answerable list, which is what ranking the right sentence first needs; and the start/end
    cross-entropy of the answer inside each positive sentence.
    """
    work = Path(work_dir)
    with training_log(log, work):
        return _train(Path(lists_file), work, settings)


def _train(lists_file: Path, work: Path, config: TrainingSettings) -> Path:
    torch = _torch()
    torch.set_num_threads(int(os.environ.get("RAG_TRAIN_THREADS", os.cpu_count() or 1)))
    device = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU, where one is lent, is ~100x
    tokenizer = load_tokenizer()
    held, lists = split_lists(lists_file, config)
    lists = lists[: config.max_lists] if config.max_lists else lists
    encode = lambda group: [encode_row(tokenizer, p, config.max_length) for p in group]  # noqa: E731
    held_rows = [encode(group) for group in held]
    rows = [encode(group) for group in lists]
    model = build_model(config.layers, config.seed, config.warm_start).to(device)
    # The word embeddings stay as MiniLM learnt them from a billion pairs: a few thousand
    # questions would only drift the words they happen to use, and their 12M weights are half
    # the optimizer's work.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    heads = [p for n, p in model.named_parameters() if n.startswith("rank.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("rank.")]
    optimizer = torch.optim.AdamW(
        [
            {"params": body, "lr": config.learning_rate},
            {"params": heads, "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    plan = [_batches(rows, config.lists_per_batch, config.seed + e) for e in range(config.epochs)]
    horizon = Horizon(max(sum(len(p) for p in plan), 1))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, horizon)
    step = resume_checkpoint(work, model, optimizer, schedule)  # restores the horizon too
    settings = {**asdict(config), "lists": len(rows), "validation": len(held)}
    log.info(
        "settings %s; on %s, resuming at step %d of %d",
        json.dumps(settings),
        device,
        step,
        horizon.steps,
    )
    loop = _Loop(model, optimizer, schedule, work, settings, config)
    metrics = loop.run(plan, step, held_rows)
    final = work / "final"
    settings = {**settings, "steps": horizon.steps, "held_out": metrics}
    save_checkpoint(final, model, optimizer, schedule, horizon.steps, settings)
    return final


@dataclass
class Horizon:
    """The learning rate's shape: a warm-up over the first 6% of `steps`, then a linear decay
    to zero at `steps`. `--minutes` cuts `steps` once the pace is known, and the schedule's
    state (saved with each checkpoint) keeps the cut across a resume.
    """

    steps: int
    fitted: bool = False

    def __call__(self, step: int) -> float:
        return min(1.0, (step + 1) / (0.06 * self.steps)) * max(0.0, 1 - step / self.steps)

    def fit(self, done: int, pace: float, seconds_left: float) -> None:
        """Cut the horizon to the steps that `pace` (steps a second) fits in the time left."""
        self.steps = max(done + 1, min(self.steps, done + int(pace * seconds_left)))
        self.fitted = True


@dataclass
class _Loop:
    """The loop over batches: steps, logging, timed checkpoints, held-out metrics at each."""

    model: Any
    optimizer: Any
    schedule: Any
    work: Path
    settings: dict[str, Any]
    config: TrainingSettings

    def run(self, plan: list[list[list[Row]]], step: int, held: list[list[Row]]) -> dict:
        """Train from batch `step` (earlier ones were done before a resume) to the end."""
        torch = _torch()
        horizon = self.schedule.lr_lambdas[0]
        bar = tqdm(total=horizon.steps, initial=step, desc="reader", unit="batch")
        self.model.train()
        done, rows, started = 0, 0, time.perf_counter()
        saved, metrics = started, {}
        for batch in (batch for batches in plan for batch in batches):
            done += 1
            if done <= step:
                continue
            if done > horizon.steps:
                break
            if self.config.minutes and not horizon.fitted and done - step > _PACE_STEPS:
                elapsed = time.perf_counter() - started
                horizon.fit(done, (done - step) / elapsed, 60 * self.config.minutes - elapsed)
                bar.total = horizon.steps
                log.info(
                    "step %d: %d steps fit in %s minutes", done, horizon.steps, self.config.minutes
                )
            loss, parts = _loss(self.model, batch, self.config.span_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            self.schedule.step()
            self.optimizer.zero_grad()
            rows += len(batch)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if done % 25 == 0:
                pace = rows / (time.perf_counter() - started)
                log.info(
                    "step %d/%d loss %.4f (%s) %.1f rows/s",
                    done,
                    horizon.steps,
                    loss.item(),
                    " ".join(f"{k} {v:.3f}" for k, v in parts.items()),
                    pace,
                )
            if time.perf_counter() - saved > 60 * self.config.checkpoint_minutes:
                metrics = evaluate_lists(self.model, held)
                log.info("step %d checkpoint: held-out %s", done, json.dumps(metrics))
                save_checkpoint(
                    self.work / "checkpoint",
                    self.model,
                    self.optimizer,
                    self.schedule,
                    done,
                    self.settings,
                )
                saved = time.perf_counter()
        metrics = evaluate_lists(self.model, held)
        log.info("done: held-out %s", json.dumps(metrics))
        bar.close()
        return metrics


def split_lists(
    lists_file: str | os.PathLike[str], config: TrainingSettings
) -> tuple[list[list[Pair]], list[list[Pair]]]:
    """(held-out lists, training lists): trimmed, in a seeded random order, the answerable ones
    thinned to `config.answerable_share`."""
    lists = [
        _trim(rows, config.list_size)
        for rows in read_lists(lists_file)
        if kept(rows[0].group, rows[0].kind, config.answerable_share)
    ]
    random.Random(config.seed).shuffle(lists)
    return lists[: config.validation], lists[config.validation :]


def _trim(rows: list[Pair], size: int) -> list[Pair]:
    """The trees' best `size` rows of a list, the last swapped for a positive that they miss.

    The reader reads the trees' top few at answer time, so that is where it must be sharp.
    """
    head = rows[:size]
    if any(r.label for r in rows) and not any(r.label for r in head):
        head = head[:-1] + [next(r for r in rows if r.label)]
    return head


def length_batches(
    items: list[T], size: int, seed: int, length: Callable[[T], int]
) -> list[list[T]]:
    """`size` items a batch, of similar `length` (little padding), in a seeded random order."""
    order = items[:]
    rng = random.Random(seed)
    rng.shuffle(order)
    chunk = size * 50
    batches = []
    for lo in range(0, len(order), chunk):
        part = sorted(order[lo : lo + chunk], key=length)
        batches.extend(part[k : k + size] for k in range(0, len(part), size))
    rng.shuffle(batches)
    return batches


def _batches(lists: list[list[Row]], size: int, seed: int) -> list[list[Row]]:
    """Whole lists, `size` a batch, of similar length, in a seeded order."""
    longest = lambda group: max(len(r.encoded.ids) for r in group)  # noqa: E731
    batches = length_batches(lists, size, seed, longest)
    return [[row for group in batch for row in group] for batch in batches]


def _forward(model, rows: list[Row]):
    torch = _torch()
    device = next(model.parameters()).device
    ids, types, mask = (torch.from_numpy(a).to(device) for a in pad([r.encoded for r in rows]))
    return model(input_ids=ids, attention_mask=mask, token_type_ids=types)


def _loss(model, batch: list[Row], span_weight: float):
    torch = _torch()
    ranks, starts, ends = _forward(model, batch)
    labels = torch.tensor([float(r.label) for r in batch], device=ranks.device)
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(ranks, labels)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(batch):
        groups.setdefault(row.pair.group, []).append(i)
    listwise = [
        -torch.log_softmax(ranks[rows], 0)[labels[rows] > 0].logsumexp(0)
        for rows in groups.values()
        if labels[rows].sum() > 0
    ]
    parts = {"bce": pointwise}
    if listwise:
        parts["list"] = torch.stack(listwise).mean()
    spans = [i for i, r in enumerate(batch) if r.target is not None]
    if spans:
        allowed = torch.zeros_like(starts, dtype=torch.bool)
        for i in spans:
            item = batch[i].encoded
            allowed[i, item.first : item.first + len(item.offsets)] = True
        first = torch.tensor([batch[i].target[0] for i in spans], device=ranks.device)
        last = torch.tensor([batch[i].target[1] for i in spans], device=ranks.device)
        cross = torch.nn.functional.cross_entropy
        s = starts[spans].masked_fill(~allowed[spans], -1e4)
        e = ends[spans].masked_fill(~allowed[spans], -1e4)
        parts["span"] = span_weight * (cross(s, first) + cross(e, last)) / 2
    loss = sum(parts.values())
    return loss, {k: float(v.detach()) for k, v in parts.items()}


def read_rows(model, rows: list[Row], batch: int = 64) -> tuple[np.ndarray, list[float]]:
    """The rank logit of each row, and the span F1 of each row with a gold span."""
    torch = _torch()
    from ..eval.metrics import token_f1

    model.eval()
    ranks, spans = [], []
    with torch.no_grad():
        for lo in range(0, len(rows), batch):
            part = rows[lo : lo + batch]
            rank, starts, ends = (t.float().cpu() for t in _forward(model, part))
            ranks.append(rank.numpy())
            for k, row in enumerate(part):
                if row.target is not None:
                    a, b, _ = best_span(starts[k].numpy(), ends[k].numpy(), row.encoded)
                    p = row.pair
                    gold = p.sentence[p.answer_start : p.answer_end]
                    spans.append(token_f1(p.sentence[a:b], [gold]))
    model.train()
    return (np.concatenate(ranks) if ranks else np.zeros(0)), spans


def evaluate_lists(model, lists: list[list[Row]]) -> dict[str, Any]:
    """Hit@1 of reader and trees on answerable lists, span F1 on their positives, and the mean
    top probability per kind of list (answerable, unanswerable, foreign)."""
    logits, spans = read_rows(model, [r for group in lists for r in group])
    hits, tree_hits, tops, at = [], [], {}, 0
    for group in lists:
        part = logits[at : at + len(group)]
        at += len(group)
        labels = [r.label for r in group]
        tops.setdefault(group[0].pair.kind, []).append(float(1 / (1 + np.exp(-part.max()))))
        if any(labels):
            hits.append(labels[int(np.argmax(part))])
            tree_hits.append(labels[int(np.argmax([r.pair.tree for r in group]))])
    return {
        "hit@1": round(float(np.mean(hits)), 4) if hits else None,
        "trees_hit@1": round(float(np.mean(tree_hits)), 4) if tree_hits else None,
        "span_f1": round(float(np.mean(spans)), 4) if spans else None,
        **{f"top_p_{k}": round(float(np.mean(v)), 3) for k, v in tops.items()},
    }
