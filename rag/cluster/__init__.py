"""Past one machine: a sharded index built and served on a Ray cluster (the `cluster` extra)."""
