"""The similarity engine: hybrid retrieval, filters, incremental updates."""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from critdesk.search import lexical
from critdesk.search.engine import Doc, SimilarityEngine

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

TRACE = """\
java.lang.IllegalStateException: Entity 'Order' has no primary key
\tat com.acme.platform.entity.EntityMapper.keyOf(EntityMapper.java:142)
\tat com.acme.platform.entity.EntityMapper.apply(EntityMapper.java:88)
\tat com.acme.platform.workspace.WorkspaceService.publish(WorkspaceService.java:210)
\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)
"""


def doc(n: int, title: str, text: str = "", **changes: object) -> Doc:
    base = Doc(
        id=f"bug:{n}",
        kind="bug",
        title=title,
        text=text,
        signatures=(),
        public=True,
        created_at=T0 + timedelta(days=n),
        state="new",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


CORPUS = [
    doc(1, "Archive message action does not work", "Pressing A in Mail does not archive."),
    doc(2, "Tabs jump to the wrong tab after closing one", "Closing a tab focuses its left."),
    doc(3, "Severe memory usage after a day", "The runtime grows to 8 GB and is slow."),
    doc(4, "Gateway returns 502 when the upstream is slow", "Timeout at 60 s behind nginx."),
    doc(5, "Calendar invitations are not displayed", "Accepted events do not show up."),
    doc(6, "Publishing a workspace fails", "Publishing stops with an error.", public=False),
    doc(7, "Export of a Project to ZIP hangs", "Export never finishes for large projects."),
]


@pytest.fixture
def engine() -> SimilarityEngine:
    built = SimilarityEngine(semantic=False, background_merge=False)
    built.add(CORPUS)
    return built


def ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.id for h in hits]


def test_it_finds_a_paraphrased_duplicate(engine: SimilarityEngine) -> None:
    hits = engine.search("Archiving messages in mail is not working anymore")
    assert hits[0].id == "bug:1"
    assert hits[0].kind == "bug" and "bm25" in hits[0].matched_by
    assert ids(engine.search("memory use keeps growing"))[0] == "bug:3"


def test_a_shared_stack_trace_ranks_first_whatever_the_prose(engine: SimilarityEngine) -> None:
    engine.add([doc(8, "Modeller crash", f"Seen once at a customer.\n{TRACE}")])
    engine.add([doc(9, "Publishing an entity with no primary key fails", "Publishing errors.")])
    query = "Publishing the workspace fails with an error\n" + TRACE.replace(":142)", ":150)")
    hits = engine.search(query)
    assert hits[0].id == "bug:8"
    assert hits[0].matched_by[0:1] == ("bm25",) and "signature" in hits[0].matched_by
    # The trace alone, as the log analysis passes it, finds it too.
    only = engine.search("", signatures=["frame:com.acme.platform.entity.EntityMapper.keyOf"])
    assert ids(only) == ["bug:8"] and only[0].matched_by == ("signature",)


def test_a_shared_exception_name_alone_is_no_signature_match(engine: SimilarityEngine) -> None:
    engine.add([doc(8, "Grid shows nothing", "TypeError: row is undefined")])
    hits = engine.search("Calendar is empty, console says TypeError: x is null")
    assert all("signature" not in h.matched_by for h in hits)


def test_public_only_hides_internal_documents(engine: SimilarityEngine) -> None:
    assert "bug:6" in ids(engine.search("publishing a workspace fails"))
    assert "bug:6" not in ids(engine.search("publishing a workspace fails", public_only=True))


def test_created_before_and_exclude_filter_the_candidates(engine: SimilarityEngine) -> None:
    query = "export project hangs"
    assert ids(engine.search(query))[0] == "bug:7"
    assert "bug:7" not in ids(engine.search(query, created_before=T0 + timedelta(days=7)))
    assert "bug:7" in ids(engine.search(query, created_before=T0 + timedelta(days=7, seconds=1)))
    assert "bug:7" not in ids(engine.search(query, exclude={"bug:7"}))


def test_kinds_filter(engine: SimilarityEngine) -> None:
    engine.add(
        [doc(50, "Export of a Project hangs: workaround", "", kind="article", id="article:1")]
    )
    assert {h.kind for h in engine.search("export project hangs")} == {"bug", "article"}
    assert ids(engine.search("export project hangs", kinds={"article"})) == ["article:1"]
    bugs_only = engine.search("export project hangs", kinds={"bug"})
    assert bugs_only and {h.kind for h in bugs_only} == {"bug"}
    both = engine.search("export project hangs", kinds={"bug", "article"})
    assert {h.kind for h in both} == {"bug", "article"}
    assert engine.search("export project hangs", kinds={"release note"}) == []


def test_remove_and_replace(engine: SimilarityEngine) -> None:
    engine.remove(["bug:7", "bug:404"])
    assert len(engine) == len(CORPUS) - 1
    assert "bug:7" not in ids(engine.search("export project hangs"))
    engine.add([doc(3, "Printing a page shows a blank preview")])
    assert len(engine) == len(CORPUS) - 1
    assert ids(engine.search("blank print preview"))[0] == "bug:3"
    assert "bug:3" not in ids(engine.search("severe memory usage"))


def test_an_empty_or_unknown_query_finds_nothing(engine: SimilarityEngine) -> None:
    assert engine.search("") == []
    assert engine.search("zzzyx qqqv") == []
    assert engine.search("archive", limit=0) == []


def test_delta_and_main_index_rank_alike(engine: SimilarityEngine) -> None:
    # Corpus in the delta (never merged) and then in a merged main index: same answers.
    queries = ["archive mail", "gateway timeout 502", "tab closing focus", "memory"]
    before = [ids(engine.search(q)) for q in queries]
    engine.merge()
    assert [ids(engine.search(q)) for q in queries] == before


def test_incremental_add_at_scale_is_searchable_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical, "MIN_DELTA_LIMIT", 200)
    engine = SimilarityEngine(semantic=False)
    words = [f"w{i}" for i in range(400)]
    bulk = [
        doc(n, f"Component {words[n % 400]} fails", f"{words[(n * 7) % 400]} {words[n % 13]}")
        for n in range(10, 6010)
    ]
    with engine.bulk():
        engine.add(bulk)
    assert len(engine) == 6000
    started = time.perf_counter()
    engine.add([doc(9000, "Licence server rejects renewal token", "HTTP 401 on renew")])
    assert ids(engine.search("licence renewal token rejected", limit=1)) == ["bug:9000"]
    assert time.perf_counter() - started < 0.5
    # Past the delta limit a merge runs in the background; searches go on meanwhile.
    engine.add(doc(n, f"Scheduler {words[n % 400]} drift", "cron") for n in range(9001, 9400))
    assert ids(engine.search("licence renewal token", limit=1)) == ["bug:9000"]
    engine.flush()
    assert ids(engine.search("licence renewal token", limit=1)) == ["bug:9000"]
    assert len(engine) == 6400


def test_the_last_version_of_an_id_given_twice_wins() -> None:
    engine = SimilarityEngine(semantic=False)
    engine.add([doc(1, "Gateway timeout"), doc(1, "Scheduler drift")])
    assert len(engine) == 1
    assert ids(engine.search("scheduler drift")) == ["bug:1"]
    assert engine.search("gateway timeout") == []


def hashed_embedder(texts: Sequence[str]) -> np.ndarray:
    """A stand-in for the model: bag of word prefixes hashed into 64 dimensions."""
    vectors = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            vectors[row, zlib.crc32(word[:5].encode()) % 64] += 1
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def test_semantic_retrieval_joins_the_fusion_when_an_embedder_is_given() -> None:
    engine = SimilarityEngine(embedder=hashed_embedder)
    assert engine.semantic
    engine.add(CORPUS)
    engine.flush()
    assert engine.embedding_backlog == 0
    hits = engine.search("invitations calendars displaying")
    assert hits[0].id == "bug:5"
    assert set(hits[0].matched_by) == {"bm25", "semantic"}
    # Filters hold for the semantic list too.
    assert "bug:6" not in ids(engine.search("publishing workspace", public_only=True))
    engine.remove(["bug:5"])
    assert "bug:5" not in ids(engine.search("invitations calendars displaying"))


def test_without_the_model_package_the_engine_is_lexical() -> None:
    assert not SimilarityEngine(semantic=False).semantic
    assert SimilarityEngine(semantic=False).embedding_backlog == 0
