"""Benchmarks: latency, throughput, memory and scale runs of the assistant and its parts."""
