"""Where the synchronous routes and dependencies run: on the event loop's thread (inline) or on
worker threads (threads), as ``CRITDESK_REQUEST_HANDLERS`` says."""

import threading
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from critdesk import execution
from critdesk.app import create_app
from critdesk.config import Settings


@pytest.fixture(autouse=True)
def restore_mode() -> Iterator[None]:
    before = execution.mode()
    yield
    execution.use(before)


def probe_app() -> FastAPI:
    app = FastAPI()

    async def loop_thread() -> int:
        return threading.get_ident()

    def sync_dependency() -> int:
        return threading.get_ident()

    @app.get("/where")
    def where(
        loop: Annotated[int, Depends(loop_thread)],
        dependency: Annotated[int, Depends(sync_dependency)],
    ) -> dict[str, bool]:
        return {
            "route_on_loop": threading.get_ident() == loop,
            "dependency_on_loop": dependency == loop,
        }

    @app.get("/steps")
    async def steps() -> dict[str, bool]:
        loop = threading.get_ident()
        step = await execution.run_sync(threading.get_ident)
        offloaded = await execution.offload(threading.get_ident)
        return {"step_on_loop": step == loop, "offload_on_loop": offloaded == loop}

    return app


def test_inline_runs_routes_dependencies_and_steps_on_the_loop_thread() -> None:
    execution.use("inline")
    with TestClient(probe_app()) as client:
        assert client.get("/where").json() == {"route_on_loop": True, "dependency_on_loop": True}
        # Waiting on something else than the database always goes to a thread.
        assert client.get("/steps").json() == {"step_on_loop": True, "offload_on_loop": False}


def test_threads_runs_them_on_worker_threads() -> None:
    execution.use("threads")
    with TestClient(probe_app()) as client:
        assert client.get("/where").json() == {
            "route_on_loop": False,
            "dependency_on_loop": False,
        }
        assert client.get("/steps").json() == {"step_on_loop": False, "offload_on_loop": False}


@pytest.mark.parametrize("mode", ["threads", "inline"])
def test_the_app_runs_its_handlers_as_configured(tmp_path, mode) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        embedded_jobs=False,
        search_warmup=False,
        request_handlers=mode,
    )
    create_app(settings)
    assert execution.mode() == mode


def test_inline_is_the_default() -> None:
    assert Settings.model_fields["request_handlers"].default == "inline"


def test_settling_the_heap_freezes_what_start_up_built_once_per_process(monkeypatch) -> None:
    import gc

    monkeypatch.setattr(execution, "_heap_settled", False)
    built_at_start_up = [object() for _ in range(100)]
    try:
        assert execution.settle_heap() is True
        assert gc.get_freeze_count() >= len(built_at_start_up)
        # Later calls (a test process builds many apps) leave the collector as it is.
        frozen = gc.get_freeze_count()
        assert execution.settle_heap() is False
        assert gc.get_freeze_count() == frozen
        # Objects made afterwards are collected as before.
        garbage: list[object] = []
        garbage.append(garbage)
        del garbage
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()


def test_the_app_settles_the_heap_when_it_has_started(tmp_path, monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(execution, "settle_heap", lambda: calls.append("settled") or True)
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        embedded_jobs=False,
        search_warmup=False,
    )
    app = create_app(settings)
    assert calls == []
    with TestClient(app):
        assert calls == ["settled"]
