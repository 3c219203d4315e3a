"""Header formats are detected per file, from its first lines, never configured."""

from __future__ import annotations

import pytest

from critdesk.logs import formats
from tests.logs import samples


def first_header(text: str) -> tuple[str, formats.Header | None]:
    lines = text.splitlines()
    detected = formats.detect(lines)
    return detected.name, detected.parse(lines[0] if "Level," not in lines[0] else lines[1])


@pytest.mark.parametrize(
    ("text", "layout", "level", "source", "message"),
    [
        (samples.TOMCAT_APP, "log4j", "INFO", "c.v.runtime.Boot", "Runtime started in 4211 ms"),
        (
            samples.CATALINA,
            "catalina",
            "INFO",
            "org.apache.catalina.startup.Catalina.start",
            "Server startup in [4213] milliseconds",
        ),
        (samples.ACCESS, "access", "info", None, '"GET /api/orders/48213 HTTP/1.1" 200 1532'),
        (samples.NGINX_ERROR, "nginx-error", "error", None, "upstream timed out"),
        (samples.POSTGRES, "postgresql", "LOG", None, "checkpoint starting: time"),
        (samples.SYSLOG, "syslog", None, "sshd", "Failed password for invalid user admin"),
        (samples.RFC5424, "rfc5424", None, "runtime", "Checkout failed for order 48213"),
        (samples.WINDOWS_CSV, "windows-events", "Error", "Service Control Manager", "Event 7031:"),
        (samples.GENERIC, "level", "ERROR", None, "payment gateway unreachable"),
    ],
)
def test_it_detects_the_format_and_splits_the_header(text, layout, level, source, message) -> None:
    name, header = first_header(text)
    assert name.startswith(layout)
    assert header is not None
    assert header.level == level
    assert header.source == source
    assert header.message.startswith(message)
    assert header.timestamp


def test_stack_trace_lines_have_no_header() -> None:
    detected = formats.detect(samples.TOMCAT_APP.splitlines())
    assert detected.parse("\tat com.acme.A.f(A.java:1)") is None
    assert detected.parse("Caused by: java.io.IOException: x") is None
    assert detected.parse("java.lang.IllegalStateException: boom") is None


def test_the_most_specific_layout_wins_and_others_catch_odd_lines() -> None:
    lines = [
        "17/06/09 20:10:40 INFO executor.Executor: Running task 1.0 in stage 0.0 (TID 1)",
        "17/06/09 20:10:41 INFO storage.BlockManager: Found block rdd_2_1 locally",
        "17/06/09 20:10:42 WARN oddly formatted line without a logger",
    ]
    detected = formats.detect(lines)
    assert detected.layouts[0].name == "level-logger"
    assert detected.parse(lines[0]).source == "executor.Executor"  # type: ignore[union-attr]
    odd = detected.parse(lines[2])
    assert odd is not None and odd.message == "oddly formatted line without a logger"


def test_text_without_headers_is_unknown() -> None:
    assert formats.detect(["just some words", "and more"]).name == "unknown"
    assert formats.detect([]).name == "unknown"


@pytest.mark.parametrize(
    ("word", "severity"),
    [
        ("SEVERE", "error"),
        ("warn", "warning"),
        ("[error]", "error"),
        ("notice", "info"),
        ("FATAL", "fatal"),
        ("Information", "info"),
        ("FINEST", "debug"),
        ("nope", None),
    ],
)
def test_level_words_of_every_framework_map_to_one_scale(word, severity) -> None:
    assert formats.severity(word) == severity


def test_http_status_is_an_access_log_s_level() -> None:
    assert [formats.status_severity(s) for s in ("200", "404", "503")] == [
        "info",
        "warning",
        "error",
    ]
