"""BM25 that takes one new document cheaply at 100,000: a bm25s main index plus a delta.

bm25s precomputes every (document, term) BM25 weight into a sparse matrix, which makes a
query a sum of a few matrix columns — fast, but static: N, the document frequencies and the
mean length are baked into every weight. So:

- the **main** index is a ``bm25s.BM25`` (Lucene variant) built over every live document at
  the last merge; its statistics (N, per-term df, mean length) are kept beside it;
- new documents and new versions of documents go to a small **delta**, weighted with *the
  main index's statistics* (a term the main index has never seen gets its idf from the delta's
  df over the same N), so delta and main scores are comparable and simply concatenated;
- a removed or replaced version is not touched here: the caller's document mask hides it
  (a tombstone), and it still counts in N and df until the next merge, as in Lucene;
- when the delta outgrows ``max(1000, 2% of main)`` documents a **merge** rebuilds the main
  index from every live document, in a background thread; searches go on against the old main
  plus delta meanwhile, and documents added during the merge stay in the delta.

Documents are identified by a *docno* chosen by the caller: one per version, never reused.
A query's weight per term is its count in the query (as bm25s does); scoring sums the query
terms' columns of the main index's weight matrix (scipy, in C) and a ``bincount`` over the
delta's postings.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import bm25s
import numpy as np
from scipy import sparse

MIN_DELTA_LIMIT = 1000
MAX_QUERY_TERMS = 10_000
# Lucene's idf of a term found in half of the documents.
COMMON_IDF = float(np.log(2.0))
DELTA_SHARE = 0.02


@dataclass(frozen=True)
class _Main:
    """One immutable bm25s index and the statistics its weights were computed with."""

    docnos: np.ndarray  # position → docno
    data: np.ndarray  # CSC over (position, term): BM25 weight
    indices: np.ndarray
    indptr: np.ndarray
    idf: np.ndarray  # per term id < len(idf)
    n_docs: int
    avg_len: float
    last_docno: int

    @property
    def n_terms(self) -> int:
        return len(self.indptr) - 1

    @cached_property
    def matrix(self) -> sparse.csc_matrix:
        return sparse.csc_matrix(
            (self.data, self.indices, self.indptr), shape=(self.n_docs, self.n_terms)
        )


_EMPTY_MAIN = _Main(
    docnos=np.zeros(0, np.int64),
    data=np.zeros(0, np.float32),
    indices=np.zeros(0, np.int32),
    indptr=np.zeros(1, np.int64),
    idf=np.zeros(0, np.float32),
    n_docs=0,
    avg_len=1.0,
    last_docno=-1,
)


@dataclass(frozen=True)
class _Delta:
    """The documents newer than the main index, as (term, weight) postings per document."""

    docnos: np.ndarray
    terms: np.ndarray  # flattened, document-major
    weights: np.ndarray
    owner: np.ndarray  # position in ``docnos`` of each flattened posting


class LexicalIndex:
    def __init__(
        self,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        max_query_terms: int = MAX_QUERY_TERMS,
        background_merge: bool = True,
    ):
        self.k1 = k1
        self.b = b
        self.max_query_terms = max_query_terms
        self.drop_common = True
        self.background_merge = background_merge
        # Off while bulk loading: one merge at the end instead of one per delta's worth.
        self.auto_merge = True
        self._vocab: dict[str, int] = {}
        # docno → (term ids, counts) of every live version; the source of every rebuild.
        self._docs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._main = _EMPTY_MAIN
        self._in_main: set[int] = set()
        self._delta_docnos: list[int] = []
        self._delta: _Delta | None = None
        self._delta_idf = np.zeros(0, np.float32)
        self._lock = threading.RLock()
        self._merging: threading.Thread | None = None

    # -- writes -----------------------------------------------------------------------------

    def add(self, items: Iterable[tuple[int, list[str]]]) -> None:
        """Index each (docno, terms); docnos are new. Merges when the delta grows too big."""
        with self._lock:
            for docno, terms in items:
                self._docs[docno] = self._encode(terms)
                self._delta_docnos.append(docno)
            self._delta = None
            pending = len(self._delta_docnos)
        if self.auto_merge and pending > self.delta_limit:
            if self.background_merge and pending < self.delta_limit * 4:
                self._merge_in_background()
            else:
                self.merge()

    def discard(self, docnos: Iterable[int]) -> None:
        """Forget versions (their weights leave the main index at the next merge)."""
        with self._lock:
            for docno in docnos:
                self._docs.pop(docno, None)

    @property
    def delta_limit(self) -> int:
        return max(MIN_DELTA_LIMIT, int(self._main.n_docs * DELTA_SHARE))

    def merge(self) -> None:
        """Rebuild the main index from every live document (synchronously)."""
        with self._lock:
            snapshot = list(self._docs.items())
        main = self._build(snapshot)
        with self._lock:
            self._main = main
            self._in_main = {docno for docno, _ in snapshot}
            self._delta_docnos = [d for d in self._docs if d not in self._in_main]
            self._delta = None

    def wait_for_merge(self) -> None:
        thread = self._merging
        if thread is not None:
            thread.join()

    def _merge_in_background(self) -> None:
        with self._lock:
            if self._merging is not None and self._merging.is_alive():
                return
            self._merging = threading.Thread(target=self.merge, name="bm25-merge", daemon=True)
            self._merging.start()

    def _encode(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, counts) of a document, adding its new terms to the vocabulary."""
        counts = Counter(terms)
        vocab = self._vocab
        for term in [t for t in counts if t not in vocab]:
            vocab[term] = len(vocab)
        ids = np.fromiter(map(vocab.__getitem__, counts), np.int32, len(counts))
        return ids, np.fromiter(counts.values(), np.float32, len(counts))

    def _build(self, docs: Sequence[tuple[int, tuple[np.ndarray, np.ndarray]]]) -> _Main:
        if not docs:
            return _EMPTY_MAIN
        n_terms = len(self._vocab)
        corpus = [np.repeat(ids, counts.astype(np.int64)).tolist() for _, (ids, counts) in docs]
        retriever = bm25s.BM25(k1=self.k1, b=self.b, method="lucene", csc_backend="scipy")
        scores = retriever.build_index_from_ids(
            unique_token_ids=list(range(n_terms)), corpus_token_ids=corpus, show_progress=False
        )
        indptr = np.asarray(scores["indptr"], dtype=np.int64)
        df = np.diff(indptr).astype(np.float64)
        n_docs = len(docs)
        docnos = np.fromiter((d for d, _ in docs), np.int64, n_docs)
        return _Main(
            docnos=docnos,
            last_docno=int(docnos.max()),
            data=np.asarray(scores["data"], dtype=np.float32),
            indices=np.asarray(scores["indices"], dtype=np.int32),
            indptr=indptr,
            idf=_lucene_idf(df, n_docs).astype(np.float32),
            n_docs=n_docs,
            avg_len=float(np.mean([len(c) for c in corpus])) or 1.0,
        )

    # -- reads ------------------------------------------------------------------------------

    def search(
        self, terms: list[str], alive: np.ndarray, depth: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Docnos and BM25 scores of the best ``depth`` documents whose ``alive[docno]``."""
        with self._lock:
            main = self._main
            delta = self._delta_or_build(main)
            query = self._query(terms, main)
        if query is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        ids, weights = query
        docnos, scores = self._score_main(main, ids, weights, alive, depth)
        if len(delta.docnos):
            more_docnos, more_scores = _score_delta(main, delta, ids, weights, self._delta_idf)
            # Documents added after the caller computed ``alive`` are beyond it: not visible.
            visible = more_docnos < len(alive)
            more_docnos, more_scores = more_docnos[visible], more_scores[visible]
            visible = alive[more_docnos]
            docnos = np.concatenate([docnos, more_docnos[visible]])
            scores = np.concatenate([scores, more_scores[visible]])
        return _top(docnos, scores, depth)

    def _query(self, terms: list[str], main: _Main) -> tuple[np.ndarray, np.ndarray] | None:
        """The query's term ids and weights (counts): its ``max_query_terms`` best by idf × count.

        A long query (a whole bug report) holds a hundred distinct terms; the commonest of them
        cost the most postings to read and move the ranking least (Lucene's MoreLikeThis keeps
        25 terms for the same reason).
        """
        vocab = self._vocab
        ids = [vocab[t] for t in terms if t in vocab]
        if not ids:
            return None
        unique, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        idf = self._delta_idf if len(self._delta_idf) else main.idf
        known = unique < len(idf)
        weight = np.where(known, idf[np.where(known, unique, 0)], idf.max(initial=1.0))
        if self.drop_common:
            # Robertson-Sparck Jones: a term in more than half the documents weighs <= 0, no
            # evidence, yet it has the longest postings (Lucene's idf keeps it just above 0).
            informative = weight > COMMON_IDF
            if informative.any():
                unique, counts, weight = (
                    unique[informative],
                    counts[informative],
                    weight[informative],
                )
        if len(unique) > self.max_query_terms:
            keep = np.argsort(-(weight * counts), kind="stable")[: self.max_query_terms]
            unique, counts = unique[keep], counts[keep]
        return unique, counts.astype(np.float32)

    @staticmethod
    def _score_main(
        main: _Main, ids: np.ndarray, weights: np.ndarray, alive: np.ndarray, depth: int
    ) -> tuple[np.ndarray, np.ndarray]:
        known = ids < main.n_terms
        if main.n_docs == 0 or not known.any():
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        # The query's columns of bm25s's (document × term) weight matrix, summed with the
        # query's weights: one pass over their postings, in scipy's C code.
        totals = main.matrix[:, ids[known]] @ weights[known]
        # Documents merged after the caller computed ``alive`` are beyond it: not visible.
        if main.last_docno < len(alive):
            totals *= alive[main.docnos]
        else:
            inside = main.docnos < len(alive)
            totals[~inside] = 0
            totals[inside] *= alive[main.docnos[inside]]
        if main.n_docs > depth:
            best = np.argpartition(-totals, depth - 1)[:depth]
        else:
            best = np.arange(main.n_docs)
        best = best[totals[best] > 0]
        return main.docnos[best], totals[best].astype(np.float32)

    def _delta_or_build(self, main: _Main) -> _Delta:
        if self._delta is None:
            docnos = [d for d in self._delta_docnos if d in self._docs]
            self._delta_docnos = docnos
            self._delta = _build_delta(
                main, [self._docs[d] for d in docnos], docnos, self.k1, self.b
            )
            self._delta_idf = _delta_idf(main, self._delta, len(self._vocab))
        return self._delta

    def __len__(self) -> int:
        return len(self._docs)


def _top(docnos: np.ndarray, scores: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``depth``, best first; ties go to the newer document (a higher docno)."""
    if len(scores) > depth:
        best = np.argpartition(-scores, depth - 1)[:depth]
        docnos, scores = docnos[best], scores[best]
    order = np.lexsort((-docnos, -scores))
    return docnos[order], scores[order]


def _lucene_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    # The same formula as bm25s's "lucene" method, so delta weights match the main index's.
    return np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _build_delta(
    main: _Main,
    docs: list[tuple[np.ndarray, np.ndarray]],
    docnos: list[int],
    k1: float,
    b: float,
) -> _Delta:
    if not docs:
        empty = np.zeros(0, np.int32)
        return _Delta(np.zeros(0, np.int64), empty, np.zeros(0, np.float32), empty)
    terms = np.concatenate([ids for ids, _ in docs])
    counts = np.concatenate([c for _, c in docs])
    lengths = np.array([c.sum() for _, c in docs], dtype=np.float32)
    owner = np.repeat(np.arange(len(docs), dtype=np.int32), [len(ids) for ids, _ in docs])
    # Lucene's term-frequency component with the main index's mean length; idf comes later.
    norm = k1 * (1 - b + b * lengths[owner] / main.avg_len)
    weights = (counts / (counts + norm)).astype(np.float32)
    return _Delta(np.asarray(docnos, dtype=np.int64), terms, weights, owner)


def _delta_idf(main: _Main, delta: _Delta, n_terms: int) -> np.ndarray:
    """The main index's idf; for terms it has never seen, the delta's df over the same N."""
    idf = np.zeros(n_terms, dtype=np.float32)
    idf[: len(main.idf)] = main.idf
    df = np.bincount(delta.terms, minlength=n_terms).astype(np.float64)
    unseen = np.ones(n_terms, dtype=bool)
    unseen[: len(main.idf)] = main.idf == 0
    n_docs = main.n_docs + len(delta.docnos)
    idf[unseen] = _lucene_idf(df[unseen], n_docs)
    return idf


def _score_delta(
    main: _Main, delta: _Delta, ids: np.ndarray, weights: np.ndarray, idf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    query = np.zeros(len(idf), dtype=np.float32)
    in_range = ids < len(idf)
    query[ids[in_range]] = weights[in_range] * idf[ids[in_range]]
    contributions = delta.weights * query[delta.terms]
    totals = np.bincount(delta.owner, weights=contributions, minlength=len(delta.docnos))
    hit = np.flatnonzero(totals)
    return delta.docnos[hit], totals[hit].astype(np.float32)
