"""Structured logs: one JSON object per line with the request id, or text with it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from critdesk.observability.context import bound_request_id, job_scope
from critdesk.observability.structured_logs import configure_logging, make_handler


@pytest.fixture
def restore_root() -> Iterator[None]:
    """configure_logging changes process-wide state: put it all back afterwards."""
    names = ["", "critdesk.access", "uvicorn", "uvicorn.error", "uvicorn.access"]
    names += ["gunicorn", "gunicorn.error", "gunicorn.access"]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
    yield
    for name, (handlers, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_a_json_line_holds_the_request_id_the_extras_and_the_traceback() -> None:
    stream = io.StringIO()
    log = logging.getLogger("critdesk.test.json")
    handler = make_handler("json", stream)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with bound_request_id("req-42"):
            log.info("case %s reported", "PCH-000001", extra={"case": "PCH-000001", "n": 3})
            try:
                raise ValueError("boom")
            except ValueError:
                log.exception("it failed")
        log.info("outside")
    finally:
        log.removeHandler(handler)
    first, failed, outside = lines(stream)
    assert first["msg"] == "case PCH-000001 reported"
    assert first["request_id"] == "req-42"
    assert first["case"] == "PCH-000001" and first["n"] == 3
    assert first["level"] == "INFO" and first["logger"] == "critdesk.test.json"
    assert first["ts"].endswith("+00:00") and isinstance(first["pid"], int)
    assert failed["request_id"] == "req-42"
    assert "ValueError: boom" in failed["exc"]
    assert "request_id" not in outside


def test_a_job_line_names_the_job() -> None:
    stream = io.StringIO()
    log = logging.getLogger("critdesk.test.job")
    handler = make_handler("json", stream)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with job_scope("deliver", request_id="req-7"):
            log.warning("notification 3 is dead")
    finally:
        log.removeHandler(handler)
    (line,) = lines(stream)
    assert line["job"] == "deliver" and line["request_id"] == "req-7"


def test_text_lines_carry_the_request_id_too() -> None:
    stream = io.StringIO()
    log = logging.getLogger("critdesk.test.text")
    handler = make_handler("text", stream)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with bound_request_id("req-text"):
            log.info("hello")
        log.info("bye")
    finally:
        log.removeHandler(handler)
    said, bye = stream.getvalue().splitlines()
    assert "[req-text] hello" in said and "INFO critdesk.test.text" in said
    assert "[-] bye" in bye


def test_auto_is_json_off_a_terminal() -> None:
    stream = io.StringIO()  # not a TTY
    handler = make_handler("auto", stream)
    logging.getLogger("critdesk.test.auto").addHandler(handler)
    try:
        logging.getLogger("critdesk.test.auto").warning("x")
    finally:
        logging.getLogger("critdesk.test.auto").removeHandler(handler)
    assert json.loads(stream.getvalue())["msg"] == "x"


def test_configuring_twice_leaves_one_handler_and_routes_the_servers_logs(restore_root) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("json", "info", stream=first)
    configure_logging("json", "WARNING", stream=second, access_log=False)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_critdesk_handler", False)]
    assert len(ours) == 1
    assert logging.getLogger().level == logging.WARNING
    assert not logging.getLogger("critdesk.access").isEnabledFor(logging.INFO)
    logging.getLogger("uvicorn.error").warning("server says")
    assert first.getvalue() == ""
    assert lines(second)[0]["logger"] == "uvicorn.error"
    assert logging.getLogger("uvicorn.access").disabled
