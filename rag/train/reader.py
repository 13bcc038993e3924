"""Fine-tune the reader, a MiniLM cross-encoder, on the lists of `reader_data`, resumably."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..reader import encode_pair, pad, tokenizer_file
from .checkpoint import resume_checkpoint, save_checkpoint, training_log
from .reader_data import Pair, read_lists

log = logging.getLogger(__name__)


def _torch():
    import torch

    return torch


def build_model(layers: int, seed: int):
    """The packaged all-MiniLM-L6-v2 encoder, its first `layers` layers, with a scoring head."""
    torch = _torch()
    from transformers import AutoModelForSequenceClassification

    from ..embed import packaged_model_path

    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(packaged_model_path()), num_labels=1, local_files_only=True
    )
    model.bert.encoder.layer = model.bert.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    return model


def _batches(lists: list[list[Pair]], size: int, rng: random.Random) -> list[list[Pair]]:
    """Whole lists packed into batches of about `size` rows, in a seeded random order."""
    order = lists[:]
    rng.shuffle(order)
    out, batch = [], []
    for rows in order:
        batch.extend(rows)
        if len(batch) >= size:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


def _tensors(tokenizer, rows: list[Pair], max_length: int):
    torch = _torch()
    arrays = pad(
        [
            encode_pair(tokenizer, r.question, r.title, r.previous, r.sentence, r.next, max_length)
            for r in rows
        ]
    )
    return tuple(torch.from_numpy(a) for a in arrays)


@dataclass(frozen=True)
class TrainingSettings:
    """How the reader is trained; `rag train --reader` uses these defaults."""

    layers: int = 4  # of MiniLM's 6: measured on CPU, 4 read 5 pairs in about 20 ms, 6 in 30
    max_length: int = 96  # tokens per (question, sentence in context) pair
    batch_size: int = 32
    epochs: int = 1
    learning_rate: float = 6e-5
    seed: int = 13
    validation: int = 500  # lists held out: the metrics per epoch and the blend are fitted on them
    checkpoint_every: int = 100
    max_questions: int | None = None
    list_size: int = 6


def train_reader(
    lists_file: str | os.PathLike[str],
    work_dir: str | os.PathLike[str],
    settings: TrainingSettings = TrainingSettings(),
) -> Path:
    """Train (or resume) in `work_dir`, logging to its train.log; returns the final checkpoint.

    Loss: binary cross-entropy per row, so the sigmoid of the score is a probability that the
    sentence answers (lists with no answer teach abstention), plus a listwise softmax term over
    each answerable list, which is what ranking the right sentence first needs.
    """
    work = Path(work_dir)
    with training_log(log, work):
        return _train(Path(lists_file), work, settings)


def _train(lists_file: Path, work: Path, config: TrainingSettings) -> Path:
    torch = _torch()
    from tokenizers import Tokenizer

    torch.set_num_threads(int(os.environ.get("RAG_TRAIN_THREADS", os.cpu_count() or 1)))
    held, lists = split_lists(lists_file, config.seed, config.validation, config.list_size)
    lists = lists[: config.max_questions] if config.max_questions else lists
    tokenizer = Tokenizer.from_file(str(tokenizer_file()))
    model = build_model(config.layers, config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    plan = [
        _batches(lists, config.batch_size, random.Random(config.seed + e))
        for e in range(config.epochs)
    ]
    total = max(sum(len(p) for p in plan), 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / (0.06 * total)) * max(0.0, 1 - step / total)
    )
    step = resume_checkpoint(work, model, optimizer, schedule)
    settings = {**asdict(config), "questions": len(lists), "validation": len(held)}
    log.info("settings %s; resuming at step %d of %d", json.dumps(settings), step, total)
    training = _Training(model, tokenizer, optimizer, schedule, config.max_length, work, settings)
    metrics = training.run(plan, step, held, config.checkpoint_every)
    final = work / "final"
    save_checkpoint(final, model, optimizer, schedule, total, {**settings, "held_out": metrics})
    return final


@dataclass
class _Training:
    """The loop over batches: steps, logging, checkpoints, held-out metrics per epoch."""

    model: Any
    tokenizer: Any
    optimizer: Any
    schedule: Any
    max_length: int
    work: Path
    settings: dict[str, Any]

    def run(
        self, plan: list[list[list[Pair]]], step: int, held: list[list[Pair]], every: int
    ) -> dict[str, Any]:
        """Train from batch `step` (earlier ones were done before a resume) to the end."""
        torch = _torch()
        total = sum(len(batches) for batches in plan)
        bar = tqdm(total=total, initial=step, desc="reader", unit="batch")
        self.model.train()
        done, started, metrics = 0, time.perf_counter(), {}
        for epoch, batches in enumerate(plan):
            for batch in batches:
                done += 1
                if done <= step:
                    continue
                loss = _loss(self.model, self.tokenizer, batch, self.max_length)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
                self.schedule.step()
                self.optimizer.zero_grad()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
                if done % 20 == 0:
                    log.info(
                        "epoch %d step %d/%d loss %.4f %.2fs/batch",
                        epoch,
                        done,
                        total,
                        loss.item(),
                        (time.perf_counter() - started) / (done - step),
                    )
                if done % every == 0:
                    save_checkpoint(
                        self.work / "checkpoint",
                        self.model,
                        self.optimizer,
                        self.schedule,
                        done,
                        self.settings,
                    )
            metrics = evaluate_lists(self.model, self.tokenizer, held, self.max_length)
            log.info("epoch %d done: held-out %s", epoch, json.dumps(metrics))
            bar.write(f"epoch {epoch}: held-out {metrics}")
        bar.close()
        return metrics


def split_lists(
    lists_file: str | os.PathLike[str], seed: int, validation: int, list_size: int
) -> tuple[list[list[Pair]], list[list[Pair]]]:
    """(held-out lists, training lists): trimmed, in a seeded random order."""
    lists = [_trim(rows, list_size) for rows in read_lists(lists_file)]
    random.Random(seed).shuffle(lists)
    return lists[:validation], lists[validation:]


def _trim(rows: list[Pair], size: int) -> list[Pair]:
    """The trees' best `size` rows of a list, the last swapped for a positive that they miss.

    The reader reranks the trees' top few at answer time, so that is where it must be sharp.
    """
    head = rows[:size]
    if any(r.label for r in rows) and not any(r.label for r in head):
        head = head[:-1] + [next(r for r in rows if r.label)]
    return head


def _loss(model, tokenizer, batch: list[Pair], max_length: int):
    torch = _torch()
    ids, types, mask = _tensors(tokenizer, batch, max_length)
    logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits.squeeze(-1)
    labels = torch.tensor([float(r.label) for r in batch])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(batch):
        groups.setdefault(row.group, []).append(i)
    listwise = [
        -torch.log_softmax(logits[rows], 0)[labels[rows] > 0].logsumexp(0)
        for rows in groups.values()
        if labels[rows].sum() > 0
    ]
    if listwise:
        loss = loss + torch.stack(listwise).mean()
    return loss


def score_rows(model, tokenizer, rows: list[Pair], max_length: int, batch: int = 64) -> np.ndarray:
    """The model's logit for each row."""
    torch = _torch()
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            ids, types, mask = _tensors(tokenizer, rows[start : start + batch], max_length)
            out.append(
                model(input_ids=ids, token_type_ids=types, attention_mask=mask)
                .logits.squeeze(-1)
                .numpy()
            )
    model.train()
    return np.concatenate(out) if out else np.zeros(0)


def evaluate_lists(model, tokenizer, lists: list[list[Pair]], max_length: int) -> dict[str, Any]:
    """Hit@1 of reader and trees on answerable lists, and the mean top probability per kind."""
    rows = [r for rows in lists for r in rows]
    logits = score_rows(model, tokenizer, rows, max_length)
    hits, tree_hits, tops = [], [], {}
    at = 0
    for group in lists:
        part = logits[at : at + len(group)]
        at += len(group)
        labels = [r.label for r in group]
        tops.setdefault(group[0].kind, []).append(float(1 / (1 + np.exp(-part.max()))))
        if any(labels):
            hits.append(labels[int(np.argmax(part))])
            tree_hits.append(labels[int(np.argmax([r.tree for r in group]))])
    return {
        "hit@1": round(float(np.mean(hits)), 4) if hits else None,
        "trees_hit@1": round(float(np.mean(tree_hits)), 4) if tree_hits else None,
        **{f"top_p_{k}": round(float(np.mean(v)), 3) for k, v in tops.items()},
    }
