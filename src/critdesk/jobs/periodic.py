"""The periodic sweeps and the embedded runner that calls them inside ``critdesk serve``.

Each sweep finds what is due from columns (no sleeping timers), claims every row with a
conditional update and acts once, so any number of runners may call it at the same time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from critdesk.case.service import close_unconfirmed
from critdesk.cloudaccess.service import record_expiries
from critdesk.config import Settings
from critdesk.db import Database
from critdesk.request.service import remind_overdue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    name: str
    run: Callable[[Session, datetime, Settings], int]


SWEEPS = (
    Sweep(
        "info_request_reminders",
        lambda db, now, s: remind_overdue(
            db=db, now=now, every=timedelta(hours=s.info_request_reminder_hours)
        ),
    ),
    Sweep("cloud_access_expiry", lambda db, now, s: record_expiries(db=db, now=now)),
    Sweep(
        "close_unconfirmed",
        lambda db, now, s: close_unconfirmed(
            db=db, now=now, window=timedelta(days=s.reopen_window_days)
        ),
    ),
)


def run_sweeps(database: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """One pass of every sweep, each in its own unit of work; a failing sweep does not stop
    the others and is retried on the next pass."""
    done: dict[str, int] = {}
    for sweep in SWEEPS:
        try:
            with database.session() as session:
                done[sweep.name] = sweep.run(session, now, settings)
        except Exception:
            log.exception("sweep %s failed; retrying on the next pass", sweep.name)
    return done


class EmbeddedRunner:
    """Runs the sweeps every ``interval`` seconds in a daemon thread of the server process."""

    def __init__(
        self, database: Database, settings: Settings, clock: Callable[[], datetime], interval: float
    ) -> None:
        self.database, self.settings, self.clock = database, settings, clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="critdesk-sweeps", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            run_sweeps(self.database, self.settings, self.clock())
