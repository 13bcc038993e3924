"""Where training keeps its lists, checkpoints and logs: outside the work tree, for later runs."""

from pathlib import Path

TRAIN_ROOT = Path.home() / ".cache" / "rag-news" / "train"
# The span model (`rag train --span` exports it) that the reader's training starts from.
SPAN_WARM_START = TRAIN_ROOT / "span" / "span.int8.onnx"
