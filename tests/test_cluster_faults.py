"""A real Ray cluster on this machine losing a replica, then a node, under load."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the cluster extra is not installed: pip install -e '.[cluster]'")

import ray  # noqa: E402
from ray import serve  # noqa: E402

from rag.cluster.build import build_on_cluster, connect  # noqa: E402
from rag.cluster.local import local_cluster  # noqa: E402
from rag.cluster.serve import APP, ClusterAssistant, deploy  # noqa: E402
from rag.eval.data import read_gold  # noqa: E402
from tests.conftest import CORPUS, GOLD  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

QUESTIONS = [pair.question for pair in read_gold(GOLD)]


def _replica_names(deployment: str) -> set[str]:
    return {
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == "serve" and f"#{deployment}#" in actor["name"]
    }


def _running(deployment: str) -> int:
    status = serve.status().applications[APP].deployments[deployment]
    states = {str(state): count for state, count in status.replica_states.items()}
    return states.get("RUNNING", 0) if len(states) == 1 else -1


def _wait_for_replicas(deployment: str, count: int, gone: set[str], timeout_s: float) -> float:
    """Seconds until `count` replicas run again, none of them one of `gone`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        names = _replica_names(deployment)
        if _running(deployment) == count and len(names) == count and not names & gone:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{deployment}: {_replica_names(deployment)} running, not {count} new")


def _node_of(name: str) -> str:
    """The node a Serve replica actor runs on (from the GCS: this cluster has no dashboard,
    which Ray's state API needs)."""
    alive = ray._private.state.actors(actor_state_name="ALIVE").values()  # noqa: SLF001
    return next(actor["Address"]["NodeID"] for actor in alive if actor["Name"] == name)


class Load:
    """Clients asking in a loop until stopped; counts answers and requests lost for good."""

    def __init__(self, remote: ClusterAssistant, clients: int) -> None:
        self.remote, self.answered, self.lost = remote, 0, []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._ask, args=(k,)) for k in range(clients)]

    def _ask(self, client: int) -> None:
        k = client
        while not self.stop.is_set():
            try:
                self.remote.ask(QUESTIONS[k % len(QUESTIONS)])
                with self.lock:
                    self.answered += 1
            except Exception as exc:  # counted, never raised: the test reads the count
                with self.lock:
                    self.lost.append(repr(exc))
            k += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def test_losing_a_replica_and_then_a_node_loses_no_request(tmp_path: Path) -> None:
    with local_cluster(2) as running:
        connect(running.address)
        build_on_cluster(running.address, CORPUS, tmp_path, 2)
        front = deploy(tmp_path, replicas=2)
        remote = ClusterAssistant(front)
        with Load(remote, clients=4) as load:
            time.sleep(3)
            killed = sorted(_replica_names("shard-000"))[0]
            ray.kill(ray.get_actor(killed, namespace="serve"), no_restart=True)
            restored_s = _wait_for_replicas("shard-000", 2, {killed}, timeout_s=120)
            after_replica = load.answered
            before_node = {d: _replica_names(d) for d in ("shard-000", "shard-001", "front")}
            (worker,) = running.worker_nodes
            on_worker = {
                name
                for names in before_node.values()
                for name in names
                if _node_of(name) == worker.node_id
            }
            running.remove_node(worker)  # the worker node's raylet and every process on it
            node_s = max(
                _wait_for_replicas(d, 2, names & on_worker, timeout_s=180)
                for d, names in before_node.items()
            )
            time.sleep(3)
        answered = load.answered
        print(
            f"\nreplica killed: replaced in {restored_s:.1f}s, {after_replica} requests answered "
            f"by then; node removed ({len(on_worker)} replicas on it): replaced in {node_s:.1f}s; "
            f"{answered} answered in all, {len(load.lost)} lost"
        )
        assert load.lost == []
        assert on_worker, "no replica ran on the worker node: removing it tested nothing"
        assert answered > after_replica > 0
        assert len({n["NodeID"] for n in ray.nodes() if n["Alive"]}) == 1
