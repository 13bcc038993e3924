"""A real Ray cluster of several nodes on this machine, for development and tests."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
from collections.abc import Iterator

import ray
from ray.cluster_utils import Cluster

# Sized for a 2-core, 24 GB machine: each node claims one CPU and a small object store.
NODE_CPUS = 1
OBJECT_STORE_BYTES = 256 * 1024 * 1024


@contextlib.contextmanager
def local_cluster(nodes: int = 2) -> Iterator[Cluster]:
    """A head node and `nodes - 1` worker nodes, each its own raylet; stopped on the way out,
    whatever happens inside."""
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": NODE_CPUS,
            "object_store_memory": OBJECT_STORE_BYTES,
            "include_dashboard": False,
        },
    )
    try:
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=NODE_CPUS, object_store_memory=OBJECT_STORE_BYTES)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def main() -> None:
    """`python -m rag.cluster.local`: start a local cluster, print its address, wait for ^C."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--nodes", type=int, default=2, help="nodes, the head included")
    nodes = parser.parse_args().nodes
    logging.basicConfig(level=logging.WARNING)
    with local_cluster(nodes) as cluster:
        print(f"Ray cluster of {nodes} nodes at {cluster.address}; stop it with Ctrl-C", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.sigwait({signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    main()
