"""A cluster build: Ray Data reads the files and counts each shard's words; an actor pool embeds."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import ray

from ..errors import SettingsError
from ..index.build_report import BuildReport
from ..index.embed import DEFAULT_MODEL, Embedder, Progress
from ..index.shards import build_shards
from ..settings import Settings

BATCH_SIZE = 64
CONNECT_TIMEOUT_S = 5  # texts per actor call: enough to keep a CPU's matrix products busy


def connect(address: str) -> None:
    """Join the Ray cluster at `address` ("auto", "ray://host:10001" or "host:6379") once."""
    if ray.is_initialized():
        return
    how = (
        "start one with `ray start --head` (or `python -m rag.cluster.local`) and pass the "
        "address it prints"
    )
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if address != "auto":
        if not host or not port.isdigit():
            raise SettingsError(
                f"{address!r} is not a Ray address: pass host:port (port 6379 after `ray start "
                "--head`), ray://host:10001 or auto"
            )
        # Ray itself waits minutes for an address that does not answer; a socket says at once.
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise SettingsError(f"no Ray cluster answers at {address!r} ({exc}); {how}") from None
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise SettingsError(f"cannot join a Ray cluster at {address!r} ({exc}); {how}") from exc
    context = ray.data.DataContext.get_current()
    # Results come back in the order the items went in, as `map` returns them.
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False  # a build shows its own progress (`rag index`)
    # Its notes (rows kept as Python objects, progress bars off) say nothing a user can act on.
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def spread(function: Callable[[Any], Any], items: Sequence[Any]) -> Iterable[Any]:
    """`map(function, items)` run by Ray Data across the cluster's nodes."""
    if not items:
        return []
    # Rows carry their Python objects as they are (Ray Data keeps what Arrow cannot type as
    # Python objects); the position restores the order whatever the blocks did.
    rows = ray.data.from_items([{"at": at, "item": item} for at, item in enumerate(items)])

    def apply(row: dict[str, Any]) -> dict[str, Any]:
        return {"at": row["at"], "result": function(row["item"])}

    done = sorted(rows.map(apply).take_all(), key=lambda row: row["at"])
    return [row["result"] for row in done]


class _EmbedBatch:
    """One actor of the pool: the passage model loaded once, then batch after batch."""

    def __init__(self, model: str) -> None:
        self.embedder = Embedder(model, gpu=bool(ray.get_gpu_ids()))
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode([str(text) for text in batch["text"]])
        return {
            "row": batch["row"],
            "vector": vectors,
            "node": np.full(len(vectors), self.node),
        }


class ClusterEncoder:
    """Passage embeddings computed by a pool of actors, one per CPU of the cluster (or GPU)."""

    def __init__(self, model: str | os.PathLike[str] = DEFAULT_MODEL) -> None:
        local = Embedder(model)
        self.identity, self.dimension = local.identity, local.dimension
        self.model = str(model)
        self.nodes: set[str] = set()  # the nodes whose actors embedded something

    def encode(self, texts: Sequence[str], *, progress: Progress = False) -> np.ndarray:
        """Unit vectors for `texts`, in order, as `Embedder.encode` gives them."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        pool = gpus or max(1, int(resources.get("CPU", 1)))
        # Longest first, as `Embedder.encode` orders one machine's texts: a batch of texts of
        # like length pads little (in the order given, batches padded to twice the work).
        order = np.argsort([-len(text) for text in texts], kind="stable")
        rows = ray.data.from_items([{"row": int(i), "text": texts[i]} for i in order])
        embedded = rows.map_batches(
            _EmbedBatch,
            fn_constructor_kwargs={"model": self.model},
            batch_size=BATCH_SIZE,
            compute=ray.data.ActorPoolStrategy(size=min(pool, -(-len(texts) // BATCH_SIZE))),
            num_cpus=0 if gpus else 1,
            num_gpus=1 if gpus else 0,
        )
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["row"]] = batch["vector"]
            self.nodes.update(str(node) for node in batch["node"])
            if callable(progress):
                progress(len(batch["row"]))
        return out


def build_on_cluster(
    address: str,
    corpus: str | os.PathLike[str],
    cluster_dir: str | os.PathLike[str],
    shards: int,
    *,
    model: str | os.PathLike[str] = DEFAULT_MODEL,
    settings: Settings | None = None,
    rebuild: bool = False,
) -> tuple[BuildReport, set[str]]:
    """Build the cluster index of `corpus` on the cluster at `address`: (report, embedding nodes).

    `cluster_dir` is written here and read by every node (a shared file system on a real cluster).
    """
    connect(address)
    encoder = ClusterEncoder(model)
    report = build_shards(
        corpus,
        Path(cluster_dir),
        shards,
        encoder,
        settings or Settings(),
        spread=spread,
        rebuild=rebuild,
    )
    return report, encoder.nodes
