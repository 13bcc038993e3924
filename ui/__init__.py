"""The chat web UI over rag.Assistant."""
