"""`rag index --cluster` and `rag serve --cluster`: the cluster options and what they run."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import DEFAULT_CORPUS, positive


def add_options(parser: argparse.ArgumentParser, *, serving: bool) -> None:
    """The cluster options of `rag index` (`serving=False`) or `rag serve`."""
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        default=None,
        help="a Ray cluster's address (host:6379, ray://host:10001 or auto): "
        + ("serve" if serving else "build")
        + " the sharded cluster index there (needs the cluster extra)",
    )
    if serving:
        parser.add_argument(
            "--replicas",
            type=int,
            default=1,
            help="replicas of each shard's deployment and of the front (default 1)",
        )
    else:
        parser.add_argument(
            "--shards", type=int, default=2, help="shards of the cluster index (default 2)"
        )


def cluster_index_for(args: argparse.Namespace) -> Path:
    """The cluster index folder: `cluster/` inside the corpus's index folder."""
    from ..index.store import index_for

    return index_for(args.corpus, args.index) / "cluster"


def index(args: argparse.Namespace) -> int:
    """Build the cluster index on the cluster at `args.cluster` and say where it went."""
    from .build import build_on_cluster

    positive("shards", args.shards)  # before joining the cluster, which takes seconds
    folder = cluster_index_for(args)
    report, nodes = build_on_cluster(
        args.cluster, args.corpus or DEFAULT_CORPUS, folder, args.shards, rebuild=args.rebuild
    )
    print("\n".join(report.lines()))
    if report.rebuilt:
        print(f"  embedded on {len(nodes)} node(s): {', '.join(sorted(nodes)) or 'none'}")
    print(f"cluster index of {args.shards} shards in {folder}")
    return 0


def assistant(args: argparse.Namespace):
    """The cluster index deployed on Ray Serve, as an assistant for the web UI and JSON API."""
    from .build import connect
    from .serve import ClusterAssistant, deploy

    positive("replicas", args.replicas)
    connect(args.cluster)
    return ClusterAssistant(deploy(cluster_index_for(args), replicas=args.replicas))
