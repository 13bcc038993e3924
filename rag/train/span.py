"""Fine-tune the span model (where the answer lies inside its sentence) on SQuAD, resumably."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..answer.reader import Encoded, ReaderInput, best_span, encode_pair, load_tokenizer, pad
from ..eval.metrics import exact_match, token_f1
from ..ingest.text import split_sentences, tokenize
from .checkpoint import resume_checkpoint, save_checkpoint, training_log
from .reader import length_batches, token_targets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpanExample:
    """A question and the sentence holding its answer at `sentence[start:end]`."""

    article: str
    question: str
    sentence: str
    start: int
    end: int


def span_examples(path: str | os.PathLike[str]) -> Iterator[SpanExample]:
    """Each answerable question of a SQuAD file with the sentence that answers it.

    SQuAD v1.1's answer_start is the answer's first occurrence in the paragraph, not always the
    one the question asks about, so among the sentences holding the answer the one sharing most
    words with the question is taken. An answer that crosses a sentence boundary is skipped.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    for item in data["data"]:
        for paragraph in item["paragraphs"]:
            context = paragraph["context"]
            bounds = split_sentences(context)
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or not qa.get("answers"):
                    continue
                answer = qa["answers"][0]["text"].strip()
                found = _answer_sentence(context, bounds, qa["question"], answer)
                if found is not None:
                    lo, hi, at = found
                    start = at - lo
                    yield SpanExample(
                        item["title"], qa["question"], context[lo:hi], start, start + len(answer)
                    )


def _answer_sentence(
    context: str, bounds: list[tuple[int, int]], question: str, answer: str
) -> tuple[int, int, int] | None:
    """(sentence start, sentence end, answer start) of the best sentence holding `answer`."""
    if not answer:
        return None
    asked = set(tokenize(question))
    best: tuple[int, tuple[int, int, int]] | None = None
    at = context.find(answer)
    while at >= 0:
        for lo, hi in bounds:
            if lo <= at and at + len(answer) <= hi:
                overlap = len(asked & set(tokenize(context[lo:hi])))
                if best is None or overlap > best[0]:
                    best = (overlap, (lo, hi, at))
                break
        at = context.find(answer, at + 1)
    return None if best is None else best[1]


@dataclass(frozen=True)
class SpanTraining:
    """How the span model is trained; `rag train --span` uses these defaults."""

    layers: int = 6  # all of MiniLM's: spans need more depth than ranking, and one pass is ~40 min
    max_length: int = 96
    batch_size: int = 32
    epochs: int = 1
    learning_rate: float = 8e-5
    seed: int = 13
    validation_articles: int = 8  # articles held out whole, for the EM/F1 in the log
    checkpoint_every: int = 200
    max_examples: int | None = None


def build_span_model(layers: int, seed: int):
    """The packaged all-MiniLM-L6-v2 encoder, its first `layers` layers, with a start/end head."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    from ..index.embed import packaged_model_path

    torch.manual_seed(seed)
    model = AutoModelForQuestionAnswering.from_pretrained(
        str(packaged_model_path()), local_files_only=True
    )
    model.bert.encoder.layer = model.bert.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    return model


def train_span(
    files: Sequence[str | os.PathLike[str]],
    work_dir: str | os.PathLike[str],
    config: SpanTraining = SpanTraining(),
) -> Path:
    """Train (or resume) in `work_dir`, logging to its train.log; returns the final checkpoint."""
    import torch

    work = Path(work_dir)
    with training_log(log, work):
        torch.set_num_threads(int(os.environ.get("RAG_TRAIN_THREADS", os.cpu_count() or 1)))
        tokenizer = load_tokenizer()
        held, rows = _encoded_split(files, tokenizer, config)
        model = build_span_model(config.layers, config.seed)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=0.01
        )
        plan = [_batches(rows, config.batch_size, config.seed + e) for e in range(config.epochs)]
        total = max(sum(len(p) for p in plan), 1)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: min(1.0, (step + 1) / (0.06 * total)) * max(0.0, 1 - step / total),
        )
        step = resume_checkpoint(work, model, optimizer, schedule)
        settings = {**asdict(config), "examples": len(rows), "validation": len(held)}
        log.info("settings %s; resuming at step %d of %d", json.dumps(settings), step, total)
        bar = tqdm(total=total, initial=step, desc="span", unit="batch")
        done, started, metrics = 0, time.perf_counter(), {}
        model.train()
        for epoch, batches in enumerate(plan):
            for batch in batches:
                done += 1
                if done <= step:
                    continue
                loss = _loss(model, batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
                if done % 50 == 0:
                    pace = (time.perf_counter() - started) / (done - step)
                    log.info(
                        "epoch %d step %d/%d loss %.4f %.2fs/batch",
                        epoch,
                        done,
                        total,
                        loss.item(),
                        pace,
                    )
                if done % config.checkpoint_every == 0:
                    save_checkpoint(work / "checkpoint", model, optimizer, schedule, done, settings)
            metrics = evaluate_spans(model, held)
            log.info("epoch %d done: held-out %s", epoch, json.dumps(metrics))
            bar.write(f"epoch {epoch}: held-out {metrics}")
        bar.close()
        final = work / "final"
        save_checkpoint(final, model, optimizer, schedule, total, {**settings, "held_out": metrics})
        return final


@dataclass(frozen=True)
class _Row:
    item: Encoded
    target: tuple[int, int]
    example: SpanExample


def _encoded_split(
    files: Sequence[str | os.PathLike[str]], tokenizer, config: SpanTraining
) -> tuple[list[_Row], list[_Row]]:
    """(held-out rows, training rows): whole articles held out, chosen by the seed."""
    examples = [e for f in files for e in span_examples(f)]
    titles = sorted({e.article for e in examples})
    held_titles = set(random.Random(config.seed).sample(titles, config.validation_articles))
    held, rows = [], []
    for e in examples:
        alone = ReaderInput("", "", e.sentence, "")  # the span model reads no context
        item = encode_pair(tokenizer, e.question, alone, config.max_length)
        target = token_targets(item, e.start, e.end)
        if target is not None:
            (held if e.article in held_titles else rows).append(_Row(item, target, e))
    random.Random(config.seed).shuffle(rows)
    return held, rows[: config.max_examples] if config.max_examples else rows


def _batches(rows: list[_Row], size: int, seed: int) -> list[list[_Row]]:
    """Batches of rows of similar length (little padding), in a seeded random order."""
    return length_batches(rows, size, seed, lambda r: len(r.item.ids))


def _tensors(items: Sequence[Encoded]):
    """Token ids, type ids and attention mask as torch tensors, padded to the longest."""
    import torch

    return tuple(torch.from_numpy(a) for a in pad(items))


def _sentence_mask(items: Sequence[Encoded], width: int) -> np.ndarray:
    mask = np.zeros((len(items), width), dtype=bool)
    for row, item in enumerate(items):
        mask[row, item.first : item.first + len(item.offsets)] = True
    return mask


def _loss(model, batch: list[_Row]):
    """Cross-entropy of the start and of the end, over the sentence's tokens only (as answered)."""
    import torch

    items = [r.item for r in batch]
    ids, types, mask = _tensors(items)
    out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    allowed = torch.from_numpy(_sentence_mask(items, ids.shape[1]))
    starts = out.start_logits.masked_fill(~allowed, -1e4)
    ends = out.end_logits.masked_fill(~allowed, -1e4)
    first = torch.tensor([r.target[0] for r in batch])
    last = torch.tensor([r.target[1] for r in batch])
    cross = torch.nn.functional.cross_entropy
    return (cross(starts, first) + cross(ends, last)) / 2


def evaluate_spans(model, rows: list[_Row], batch: int = 64) -> dict[str, Any]:
    """Exact match and token F1 of the model's best span against the gold answer."""
    import torch

    model.eval()
    em, f1 = [], []
    with torch.no_grad():
        for lo in range(0, len(rows), batch):
            part = rows[lo : lo + batch]
            ids, types, mask = _tensors([r.item for r in part])
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            for k, row in enumerate(part):
                a, b, _ = best_span(
                    out.start_logits[k].numpy(), out.end_logits[k].numpy(), row.item
                )
                gold = row.example.sentence[row.example.start : row.example.end]
                em.append(exact_match(row.example.sentence[a:b], [gold]))
                f1.append(token_f1(row.example.sentence[a:b], [gold]))
    model.train()
    return {
        "exact_match": round(float(np.mean(em)), 4),
        "f1": round(float(np.mean(f1)), 4),
        "questions": len(rows),
    }
