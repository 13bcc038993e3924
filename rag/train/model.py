"""The reader as torch trains it: MiniLM with a rank head and a span head, and its warm start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def _torch():
    import torch

    return torch


def reader_model_class():
    """`ReaderModel`, defined on first use so that importing this module needs no torch."""
    torch = _torch()
    from transformers import BertConfig, BertModel

    class ReaderModel(torch.nn.Module):
        """MiniLM with two heads: the [CLS] logit (the sentence answers) and start/end logits."""

        def __init__(self, config: BertConfig) -> None:
            super().__init__()
            self.config = config
            self.bert = BertModel(config, add_pooling_layer=False)
            self.qa_outputs = torch.nn.Linear(config.hidden_size, 2)
            self.rank = torch.nn.Linear(config.hidden_size, 1)
            self.dropout = torch.nn.Dropout(config.hidden_dropout_prob)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )[0]
            starts, ends = self.qa_outputs(hidden).unbind(-1)
            rank = self.rank(self.dropout(hidden[:, 0])).squeeze(-1)
            return rank, starts, ends

        def save_pretrained(self, folder: str | os.PathLike[str]) -> None:
            """Weights as safetensors (loading runs no code) and the encoder's config."""
            from safetensors.torch import save_file

            folder = Path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            state = {k: v.contiguous() for k, v in self.state_dict().items()}
            save_file(state, str(folder / "model.safetensors"))
            self.config.to_json_file(str(folder / "config.json"))

        @classmethod
        def from_checkpoint(cls, folder: str | os.PathLike[str]):
            from safetensors.torch import load_file

            folder = Path(folder)
            model = cls(BertConfig.from_json_file(str(folder / "config.json")))
            model.load_state_dict(load_file(str(folder / "model.safetensors")))
            return model.eval()

    return ReaderModel


def build_model(layers: int, seed: int, warm_start: str | os.PathLike[str] | None = None):
    """The packaged MiniLM (first `layers` layers) with both heads, its encoder and span head
    taken from a span model (`rag train --span`) when `warm_start` is given: it already reads a
    question against a sentence, which the raw embedding model never learnt."""
    torch = _torch()
    from transformers import BertConfig, BertModel

    from ..index.embed import packaged_model_path

    torch.manual_seed(seed)
    config = BertConfig.from_pretrained(str(packaged_model_path()))
    config.num_hidden_layers = layers
    model = reader_model_class()(config)
    torch.nn.init.normal_(model.rank.weight, std=0.02)
    torch.nn.init.zeros_(model.rank.bias)
    if warm_start is None:
        base = BertModel.from_pretrained(
            str(packaged_model_path()), local_files_only=True, add_pooling_layer=False
        )
        model.bert.load_state_dict(
            {k: v for k, v in base.state_dict().items() if not _beyond(k, layers)}
        )
    else:  # every encoder weight comes from the span model (checked below)
        if not Path(warm_start).is_file():
            raise FileNotFoundError(
                f"no span model at {warm_start} to start the reader from: train one with "
                "`rag train --span --train-file SQUAD_V1 --abstain-file SQUAD_V2` or pass "
                "--warm-start none"
            )
        weights = dequantized_weights(Path(warm_start))
        state = model.state_dict()
        taken = {k: torch.from_numpy(v.copy()) for k, v in weights.items() if k in state}
        taken = {k: v for k, v in taken.items() if not _beyond(k, layers)}
        missing = [k for k in state if k.startswith("bert.") and k not in taken]
        missing = [k for k in missing if "position_ids" not in k]
        if missing:
            raise ValueError(f"{warm_start} lacks weights the reader needs: {missing[:5]}")
        model.load_state_dict(taken, strict=False)
    return model


def _beyond(name: str, layers: int) -> bool:
    parts = name.split(".")
    return "layer" in parts and int(parts[parts.index("layer") + 1]) >= layers


def dequantized_weights(path: Path) -> dict[str, np.ndarray]:
    """The fp32 weights of a dynamically quantized BERT ONNX file, by their torch names.

    Weights of the matrix products were renamed by the export (`onnx::MatMul_896`) and stored
    transposed as int8 with a scale; each is named after the bias its output is added to.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def dequantize(stem: str) -> np.ndarray:
        q = init[f"{stem}_quantized"].astype(np.float32)
        scale, zero = init[f"{stem}_scale"], init[f"{stem}_zero_point"].astype(np.float32)
        if scale.ndim == 1 and len(scale) != q.shape[-1]:  # a scale per row, not per column
            scale, zero = scale[:, None], zero[:, None]
        return (q - zero) * scale

    def bias_after(name: str) -> str | None:
        frontier, seen = [name], set()
        while frontier:
            for node in consumers.get(frontier.pop(0), []):
                if node.name in seen:
                    continue
                seen.add(node.name)
                biases = [i for i in node.input if i.endswith(".bias") and i in init]
                if node.op_type == "Add" and biases:
                    return biases[0]
                frontier.extend(node.output)
        return None

    derived = ("quantized", "scale", "point")  # suffixes of the int8 weights' parts
    out = {
        name: value
        for name, value in init.items()
        if name.rsplit("_", 1)[-1] not in derived and value.dtype == np.float32
    }
    for name in init:
        if not name.endswith("_quantized"):
            continue
        stem = name[: -len("_quantized")]
        if stem.endswith(".weight"):  # embeddings keep their names
            out[stem] = dequantize(stem)
            continue
        bias = bias_after(name)
        if bias is not None:
            out[bias[: -len(".bias")] + ".weight"] = dequantize(stem).T.copy()
    return out
