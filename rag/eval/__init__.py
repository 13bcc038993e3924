"""Measuring the assistant: gold data, metrics, evaluation runs and their reports."""
