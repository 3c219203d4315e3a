"""``critdesk backup``: a consistent copy of the database while the desk keeps running.

- **SQLite**: SQLite's online backup API (``sqlite3.Connection.backup``) copies every page in
  one step inside one read transaction: a snapshot of one instant, taken while writers carry
  on (WAL mode lets them). The copy is written beside its destination, checked with
  ``PRAGMA integrity_check`` and only then renamed into place.
- **PostgreSQL**: ``pg_dump --format=custom`` (restore with ``pg_restore``), which is also one
  snapshot. The password goes to pg_dump in its environment, never on its command line.
- **Files** (``--files``): the attachment store, as a tar archive next to the database copy.
  The database is copied first: files are only ever added before the row that names them
  commits, so every file the copy names is in the archive (a file deleted in between aside).
  Files stay as stored — encrypted at rest when keys are configured; back the keys up
  separately, never next to the files.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.engine import URL, make_url

from critdesk.adapters.storage import attachments_root
from critdesk.cli.context import settings
from critdesk.config import Settings

# How long the backup waits for a writer's lock before giving up (the copy itself never
# blocks writers in WAL mode).
SQLITE_TIMEOUT_SECONDS = 60


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class SqliteCopy:
    path: Path
    bytes: int
    tables: int


def sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def backup_sqlite(source: Path, destination: Path) -> SqliteCopy:
    """A consistent copy of ``source`` at ``destination``, checked before it is kept."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source, timeout=SQLITE_TIMEOUT_SECONDS)
    copy = sqlite3.connect(partial)
    try:
        # pages=-1: every page in one step, so the copy is one snapshot (stepping would start
        # over each time another connection writes, and might never finish under load).
        reader.backup(copy, pages=-1)
        # The copy is a file to keep, not a live database: no WAL beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        tables = copy.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    finally:
        copy.close()
        reader.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {verdict}")
    os.replace(partial, destination)
    return SqliteCopy(destination, destination.stat().st_size, int(tables[0]))


def pg_dump_command(database_url: str, destination: Path) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and the environment that carries the password."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise BackupError(f"not a PostgreSQL URL: {url.get_backend_name()}")
    password = url.password
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    ).render_as_string(hide_password=False)
    env = {"PGPASSWORD": str(password)} if password else {}
    command = ["pg_dump", "--format=custom", "--no-password", f"--file={destination}", plain]
    return command, env


def backup_postgres(database_url: str, destination: Path) -> Path:
    binary = shutil.which("pg_dump")
    if binary is None:
        raise BackupError(
            "pg_dump is not on PATH: install the PostgreSQL client tools (the server's major "
            "version or newer, e.g. apt-get install postgresql-client), or run "
            "`pg_dump --format=custom` against CRITDESK_DATABASE_URL yourself"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    command, env = pg_dump_command(database_url, partial)
    done = subprocess.run(
        [binary, *command[1:]],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()[:2000]}")
    os.replace(partial, destination)
    return destination


def archive_files(root: Path, destination: Path) -> int:
    """The attachment store as a tar archive; returns the number of files archived."""
    partial = destination.with_name(destination.name + ".partial")
    count = 0
    with tarfile.open(partial, "w") as archive:
        if root.exists():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                archive.add(path, arcname=str(path.relative_to(root)))
                count += 1
    os.replace(partial, destination)
    return count


def default_destination(config: Settings, at: datetime) -> Path:
    stamp = at.strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if config.is_sqlite else "dump"
    return config.data_dir / "backups" / f"critdesk-{stamp}.{suffix}"


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the copy (default: DATA_DIR/backups/critdesk-<UTC time>.sqlite3|.dump).",
)
@click.option(
    "--files/--no-files",
    default=False,
    help="Also archive the attachment store (OUT with .files.tar appended).",
)
def backup(out: Path | None, files: bool) -> None:
    """Back up the database while the desk runs (SQLite: online backup; PostgreSQL: pg_dump)."""
    config = settings()
    destination = out or default_destination(config, datetime.now(UTC))
    try:
        if config.is_sqlite:
            copy = backup_sqlite(sqlite_path(config.effective_database_url), destination)
            click.echo(f"backed up {copy.tables} tables, {copy.bytes} bytes to {copy.path}")
            click.echo("integrity check: ok")
        else:
            backup_postgres(config.effective_database_url, destination)
            click.echo(f"pg_dump (custom format) written to {destination}")
            click.echo(f"restore with: pg_restore --clean --if-exists -d <database> {destination}")
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if files:
        archive = destination.with_name(destination.name + ".files.tar")
        count = archive_files(attachments_root(config), archive)
        click.echo(f"archived {count} stored files to {archive}")
