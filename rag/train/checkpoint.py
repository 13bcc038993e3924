"""Training checkpoints written whole (a temporary folder renamed) and resumed; the training log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _torch():
    import torch

    return torch


def save_checkpoint(folder: Path, model, optimizer, schedule, step: int, settings: dict) -> None:
    """Write model, optimizer, schedule and settings to `folder` whole, or leave it as it was."""
    torch = _torch()
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp)  # safetensors: loading it runs no code
    torch.save(
        {"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "step": step},
        tmp / "state.pt",
    )
    (tmp / "settings.json").write_text(json.dumps(settings, indent=1))
    if folder.exists():
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
    tmp.rename(folder)


def resume_checkpoint(work: Path, model, optimizer, schedule) -> int:
    """Load `work/checkpoint` into the given objects; the step to go on from (0: none)."""
    torch = _torch()
    folder = work / "checkpoint"
    if not (folder / "state.pt").is_file():
        return 0
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    state = torch.load(folder / "state.pt", weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    return int(state["step"])


@contextmanager
def training_log(logger: logging.Logger, work: Path) -> Iterator[None]:
    """`logger` also writes to `work`/train.log (made if missing) while the block runs."""
    work.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(work / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
