"""``critdesk report``: the monthly SLA table in a terminal, over every organisation."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from critdesk.cli.main import cli


@pytest.fixture
def run(database_url, tmp_path):  # type: ignore[no-untyped-def]
    def _run(*args: str):  # type: ignore[no-untyped-def]
        environment = {
            "CRITDESK_DATABASE_URL": database_url,
            "CRITDESK_DATA_DIR": str(tmp_path / "data"),
        }
        return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)

    return _run


def test_the_monthly_sla_table_counts_cases_in_the_month_they_were_reported(run, dataset) -> None:
    # August: C1 (reported Fri 28 Aug, investigated Tue 1 Sep after the bank holiday) met;
    # N1 met and N2 (reported Mon 31 Aug 23:45, started 1 Sep 00:30) breached.
    result = run("report", "sla", "--month", "2026-08")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "SLA compliance, 2026-08",
        "",
        "organisation         package     severity  cases  met  breached  running  met_rate",
        "-------------------  ----------  --------  -----  ---  --------  -------  --------",
        "Contoso Health       Business    S1            1    1         0        0         1",
        "Northwind Insurance  Enterprise  S1            2    1         1        0       0.5",
        "",
        "3 clocks: 2 met, 1 breached, 0 running; met rate 66.7 %",
    ]
    september = run("report", "sla", "--month", "2026-09", "--organisation", "Contoso Health")
    assert "Contoso Health  Business  S3" in september.output  # C3, reported Wed 30 Sep
    assert "Northwind" not in september.output


def test_any_report_in_csv_and_bad_months_refused(run, dataset) -> None:
    result = run("report", "show", "time-to-investigate", "--month", "2026-10", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    # October's investigations: S2 C2 34200, N3 3600, F1 5400, F3 1800 -> median 4500
    assert rows[1]["severity"] == "S2" and rows[1]["median_seconds"] == "4500.0"
    for bad in (["--month", "2026-13"], ["--month", "2026-10", "--from", "2026-10-01"]):
        refused = run("report", "sla", *bad)
        assert refused.exit_code != 0
    unknown = run("report", "sla", "--organisation", "Nowhere Ltd")
    assert unknown.exit_code != 0 and "not_found" in unknown.output
