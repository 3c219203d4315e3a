"""Exception fingerprints: Sentry-style, and equal to what a bug report stores."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from critdesk.logs.analysis import Analyzer, Options, analyse_stream
from critdesk.search.signatures import extract_signatures
from tests.logs import samples

REPORTED = datetime(2026, 11, 25, 9, 10, tzinfo=UTC)


def analyse(text: str, reported_at: datetime | None = REPORTED) -> dict:
    return analyse_stream(
        io.BytesIO(text.encode()), "server.log", Options(reported_at=reported_at, year=2026)
    )


def test_the_root_cause_of_a_chain_is_the_fingerprint_without_line_numbers() -> None:
    summary = analyse(samples.TOMCAT_APP)
    top = summary["signatures"][0]
    assert top["fingerprint"] == (
        "stack:SQLSyntaxErrorException@com.acme.platform.db.Gateway.query"
        ">com.acme.platform.db.Gateway.load"
    )
    assert top["kind"] == "exception" and top["severity"] == "error"
    assert top["count"] == 2  # different line numbers, lambdas and entity names: one defect
    assert top["frames"] == [
        "com.acme.platform.db.Gateway.query",
        "com.acme.platform.db.Gateway.load",
    ]


def test_the_fingerprint_equals_what_a_bug_report_stores() -> None:
    top = analyse(samples.TOMCAT_APP)["signatures"][0]
    assert top["fingerprint"] in extract_signatures(samples.TRACE_IN_A_BUG)
    # The whole chain's signatures are kept for matching, as the bug extraction reads them.
    outer = extract_signatures(samples.TOMCAT_APP.split("\n", 2)[2])
    assert set(top["signatures"]) <= set(outer)


def test_signatures_rank_by_severity_count_and_onset() -> None:
    summary = analyse(samples.TOMCAT_APP)
    kinds = [(s["kind"], s["severity"]) for s in summary["signatures"]]
    assert kinds == [("exception", "error"), ("log", "warning")]
    pool = summary["signatures"][1]
    assert (
        pool["fingerprint"] == "log:Connection pool exhausted after <*> ms (active=<*>, idle=<*>)"
    )
    assert pool["started_near_report"] is True
    assert "first seen around the reported start" in pool["reasons"]


def test_the_histogram_is_per_minute_around_the_reported_start() -> None:
    top = analyse(samples.TOMCAT_APP)["signatures"][0]
    histogram = top["histogram"]
    assert histogram["start"] == "2026-11-25T08:40:00Z"
    assert len(histogram["per_minute"]) == 61
    assert histogram["per_minute"][32] == 1 and histogram["per_minute"][33] == 1
    assert sum(histogram["per_minute"]) == 2
    assert top["first_at"] == "2026-11-25T09:12:03Z" and top["last_at"] == "2026-11-25T09:13:03Z"


def test_samples_are_whole_events_and_capped() -> None:
    top = analyse(samples.TOMCAT_APP)["signatures"][0]
    assert len(top["samples"]) == 2
    first = top["samples"][0]
    assert first["line"] == 2 and first["at"] == "2026-11-25T09:12:03Z"
    assert first["text"].startswith("2026-11-25 09:12:03,114 ERROR")
    assert "... 12 more" in first["text"]
    many = samples.TOMCAT_APP.replace("\t... 12 more\n", "\tat com.acme.X.y(X.java:1)\n" * 500)
    capped = analyse(many)["signatures"][0]["samples"][0]["text"]
    assert len(capped) < 5000 and "more line(s)" in capped


def test_third_party_logs_get_signatures_too() -> None:
    catalina = analyse(samples.CATALINA)["signatures"]
    assert catalina[0]["fingerprint"] == (
        "stack:NullPointerException@com.acme.platform.checkout.Totals.sum"
        ">com.acme.platform.checkout.CheckoutController.submit"
    )
    access = analyse(samples.ACCESS)["signatures"]
    assert access[0]["severity"] == "error" and access[0]["count"] == 2
    postgres = {s["severity"] for s in analyse(samples.POSTGRES)["signatures"]}
    assert postgres == {"error", "fatal"}
    windows = analyse(samples.WINDOWS_CSV)
    assert windows["format"] == "windows-events"
    assert [s["severity"] for s in windows["signatures"]] == ["error", "warning"]


def test_python_tracebacks_use_the_shared_parser() -> None:
    text = (
        "2026-11-25 09:12:03,114 ERROR worker crashed\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/src/acme/gateway/sync.py", line 88, in push_entities\n'
        "    payload = serialise(entity)\n"
        '  File "/srv/app/src/acme/gateway/codec.py", line 12, in serialise\n'
        '    return entity["fields"]\n'
        "KeyError: 'fields'\n"
    )
    top = analyse(text)["signatures"][0]
    assert top["fingerprint"] in extract_signatures(text)
    assert top["exception"] == "KeyError"


def test_without_a_reported_start_the_histogram_follows_the_first_occurrence() -> None:
    top = analyse(samples.TOMCAT_APP, reported_at=None)["signatures"][0]
    assert top["histogram"]["start"] == "2026-11-25T09:12:00Z"
    assert top["started_near_report"] is False


def test_memory_stays_bounded_with_many_distinct_signatures() -> None:
    analyzer = Analyzer(Options(year=2026, max_signatures=100))
    lines = "".join(
        f"2026-11-25 09:12:{n % 60:02d},000 ERROR [t] c.v.X - "
        f"Failure{n} kind{n} of{n} its{n} own{n}\n"
        for n in range(300)
    )
    analyzer.add_file(io.BytesIO(lines.encode()), "many.log")
    summary = analyzer.summary()
    assert summary["events"] == 300
    assert len(summary["signatures"]) == 50
    assert summary["signature_count"] == 100 and summary["untracked_events"] == 200
