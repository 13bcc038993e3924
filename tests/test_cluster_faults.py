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


def _replicas(deployment: str) -> dict[str, int]:
    status = serve.status().applications[APP].deployments[deployment]
    return {str(state): count for state, count in status.replica_states.items()}


def _wait_for_replicas(deployment: str, count: int, timeout_s: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _replicas(deployment).get("RUNNING", 0) == count and len(_replicas(deployment)) == 1:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"{deployment} has {_replicas(deployment)}, not {count} running")


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
            replica = next(
                a for a in ray.util.list_named_actors(all_namespaces=True)
                if "shard-000" in a["name"] and a["namespace"] == "serve"
            )  # fmt: skip
            ray.kill(ray.get_actor(replica["name"], namespace="serve"), no_restart=True)
            restored_s = _wait_for_replicas("shard-000", 2)
            after_replica = load.answered
            worker = next(node for node in running.worker_nodes)
            running.remove_node(worker)  # the worker node's raylet and every process on it
            for deployment in ("shard-000", "shard-001", "front"):
                _wait_for_replicas(deployment, 2, timeout_s=180)
            time.sleep(3)
        answered = load.answered
        print(
            f"\nreplica kill: restored in {restored_s:.1f}s; answered {after_replica} requests "
            f"by then and {answered} in all; lost {len(load.lost)}"
        )
        assert load.lost == []
        assert answered > after_replica > 0
        assert len({n["NodeID"] for n in ray.nodes() if n["Alive"]}) == 1
