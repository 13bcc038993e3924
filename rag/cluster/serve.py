"""Serving a cluster index on Ray Serve: a deployment per shard, and a front that answers."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import ray
from ray import serve
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, RayTaskError

from ..answer.followup import Conversation
from ..answer.table import FigureRecord
from ..assistant import Assistant
from ..errors import SettingsError
from ..index.build_report import BuildReport
from ..index.candidate import Candidate
from ..index.embed import DEFAULT_MODEL, Embedder
from ..index.fusion import Ranking
from ..index.shards import Shard, ShardedIndex, ShardEntry, read_cluster
from ..scope import Scope
from ..settings import Mode, Settings, positive, validate_questions
from ..types import Answer, Article

APP = "rag"
# A request to a replica that died is sent again, to another replica, up to this many times;
# Serve starts a replacement meanwhile. The pauses grow, so that a lost node has time to be
# noticed (Ray takes a few seconds) before the last try.
RETRY_PAUSES_S = (0.1, 0.5, 1.0, 2.0, 4.0, 8.0)
LOST = (RayActorError, ActorDiedError, ActorUnavailableError, TimeoutError)
# A request stuck on a replica whose node vanished is given up after this, and sent again.
REQUEST_TIMEOUT_S = 30.0
# Questions go to the front this many at a time, so that one request stays well inside
# REQUEST_TIMEOUT_S however many a caller asks (200 in one request outlasted it in CI).
QUESTIONS_PER_REQUEST = 8
# Replicas claim no CPU: a shard's replicas and the front share a node's cores, as one machine's
# threads do; the embedding actors of a build claim them instead.
REPLICA_OPTIONS = {"num_cpus": 0}

log = logging.getLogger(__name__)
T = TypeVar("T")


def with_retries(call: Callable[[], T]) -> T:
    """`call()`, sent again while the replica it reached was lost (see RETRY_PAUSES_S)."""
    for pause in RETRY_PAUSES_S:
        try:
            return call()
        except LOST as exc:
            log.warning("a replica was lost (%s); trying again in %.1fs", type(exc).__name__, pause)
            time.sleep(pause)
    return call()


@serve.deployment(ray_actor_options=REPLICA_OPTIONS)
class ShardDeployment:
    """One shard of the cluster index, loaded once per replica."""

    def __init__(self, cluster_dir: str, entry: dict[str, Any], statistics: str) -> None:
        self.shard = Shard.load(cluster_dir, ShardEntry(**entry), statistics)

    def ranked(
        self, question: str, vector: np.ndarray, mode: Mode, limit: int, scope: Scope
    ) -> list[Ranking]:
        return self.shard.ranked(question, vector, mode, limit, scope)

    def sentences_of(
        self, passages: Sequence[tuple[int, float]], vector: np.ndarray, mode: Mode
    ) -> list[Candidate]:
        return self.shard.sentences_of(passages, vector, mode)

    def where(self) -> str:
        """The node this replica runs on."""
        return ray.get_runtime_context().get_node_id()


class RemoteShard:
    """A shard deployment reached through its handle, as `ShardedIndex` asks a shard."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def ranked(
        self, question: str, vector: np.ndarray, mode: Mode, limit: int, scope: Scope
    ) -> list[Ranking]:
        return with_retries(
            lambda: self.handle.ranked.remote(question, vector, mode, limit, scope).result(
                timeout_s=REQUEST_TIMEOUT_S
            )
        )

    def sentences_of(
        self, passages: Sequence[tuple[int, float]], vector: np.ndarray, mode: Mode
    ) -> list[Candidate]:
        return with_retries(
            lambda: self.handle.sentences_of.remote(list(passages), vector, mode).result(
                timeout_s=REQUEST_TIMEOUT_S
            )
        )


@serve.deployment(ray_actor_options=REPLICA_OPTIONS)
class FrontDeployment:
    """Embeds each question once, asks every shard, and composes as one machine does."""

    def __init__(
        self, cluster_dir: str, shards: dict[str, Any], model: str, settings: dict[str, Any]
    ) -> None:
        # `shards`: each shard's deployment handle by its folder, as the manifest names it.
        index = ShardedIndex.load(
            cluster_dir, open_shard=lambda entry, _: RemoteShard(shards[entry.folder])
        )
        self.assistant = Assistant.over(index, Embedder(model), Settings(**settings))

    def ask_many(
        self, questions: list[str], top_k: int | None, mode: str | None, scope: Scope | None
    ) -> list[Answer]:
        return self.assistant.ask_many(questions, top_k=top_k, mode=mode, scope=scope)

    def describe(self) -> dict[str, Any]:
        """What the web UI shows besides answers: the articles, the index, the settings."""
        return {
            "articles": self.assistant.articles,
            "report": self.assistant.build_report,
            "settings": self.assistant.settings,
            "threshold": self.assistant.threshold,
            "high_threshold": self.assistant.high_threshold,
        }


def deploy(
    cluster_dir: str | os.PathLike[str],
    *,
    replicas: int = 1,
    model: str | os.PathLike[str] = DEFAULT_MODEL,
    settings: Settings | None = None,
) -> Any:
    """Start (or update) the Serve application over the cluster index in `cluster_dir`: one
    deployment per shard with `replicas` replicas, and the front; returns the front's handle.

    Needs `ray.init` first (`rag.cluster.build.connect`).
    """
    positive("replicas", replicas)
    stored, entries = read_cluster(cluster_dir)
    folder, digest = str(Path(cluster_dir).resolve()), stored.manifest["statistics"]
    shards = {
        entry.folder: ShardDeployment.options(name=entry.folder, num_replicas=replicas).bind(
            folder, asdict(entry), digest
        )
        for entry in entries
    }
    config = settings or Settings()
    front = FrontDeployment.options(name="front", num_replicas=replicas).bind(
        folder, shards, str(model), asdict(config)
    )
    # Questions reach the front through its handle (`ClusterAssistant`), never Serve's own
    # HTTP proxy: the web UI and JSON API stay the ones `rag serve` runs on one machine.
    serve.start(proxy_location="Disabled")
    return serve.run(front, name=APP, route_prefix=None)


class ClusterAssistant:
    """The Assistant's interface (what the web UI, the JSON API and `rag chat` use), answered
    by the front deployment of a cluster."""

    def __init__(self, front: Any) -> None:
        self.front = front
        described = with_retries(
            lambda: front.describe.remote().result(timeout_s=REQUEST_TIMEOUT_S)
        )
        self.articles: tuple[Article, ...] = described["articles"]
        self.build_report: BuildReport = described["report"]
        self.settings: Settings = described["settings"]
        self.threshold: float = described["threshold"]
        self.high_threshold: float = described["high_threshold"]

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        mode: str | None = None,
        scope: Scope | None = None,
    ) -> Answer:
        return self.ask_many([question], top_k=top_k, mode=mode, scope=scope)[0]

    def ask_many(
        self,
        questions: Sequence[str],
        *,
        top_k: int | None = None,
        mode: str | None = None,
        scope: Scope | None = None,
    ) -> list[Answer]:
        validate_questions(questions)  # refused here, with the message one machine gives
        if scope is not None:
            scope.check(self.articles)
        answers: list[Answer] = []
        for start in range(0, len(questions), QUESTIONS_PER_REQUEST):
            batch = list(questions[start : start + QUESTIONS_PER_REQUEST])
            try:
                answers += with_retries(
                    lambda batch=batch: self.front.ask_many.remote(
                        batch, top_k, mode, scope
                    ).result(timeout_s=REQUEST_TIMEOUT_S)
                )
            except RayTaskError as exc:  # the front refused it: raise what it raised
                raise (exc.cause if isinstance(exc.cause, Exception) else exc) from None
        return answers

    def figures(self, **filters: Any) -> list[FigureRecord]:
        """Not served yet: the front holds the articles without their texts, and the shards'
        stored tables are not gathered. SettingsError says where to get the table instead."""
        raise SettingsError(
            "a cluster does not serve the figures table yet; run `rag figures` on one machine "
            "over the same articles"
        )

    def conversation(self) -> Conversation:
        return Conversation(self)  # type: ignore[arg-type]
