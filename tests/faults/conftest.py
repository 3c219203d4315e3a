"""The fault tests: a scale-out deployment on a private PostgreSQL cluster, with processes
killed and the database restarted in the middle of a workload.

They carry the ``faults`` marker (registered here, since pyproject.toml is not ours to edit)
and run with the rest of the suite (``make test``, CI); ``pytest -m "not faults"`` skips them.
They are skipped, with the reason, where PostgreSQL's server binaries are missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.cluster import PrivateCluster, why_not


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "faults: kills API and worker processes and restarts a private PostgreSQL mid-workload",
    )


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    cluster = PrivateCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
