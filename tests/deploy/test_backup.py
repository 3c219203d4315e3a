"""``critdesk backup``: a consistent copy while the desk keeps writing (SQLite's online backup
API), pg_dump on PostgreSQL, and the attachment store alongside."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tarfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from critdesk.auth.models import LoginFailure, User
from critdesk.cli.backup import BackupError, backup_postgres, pg_dump_command
from critdesk.cli.main import cli

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def run_backup(tmp_path: Path, database_url: str, *args: str) -> str:
    env = {
        "CRITDESK_DATABASE_URL": database_url,
        "CRITDESK_DATA_DIR": str(tmp_path / "data"),
    }
    result = CliRunner().invoke(cli, ["backup", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_sqlite_backup_taken_while_writing_is_whole_and_consistent(
    tmp_path, database, demo, backend
) -> None:
    if backend != "sqlite":
        pytest.skip("the online backup API is SQLite's")
    url = str(database.engine.url)
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        # Each transaction writes two rows with one marker: a copy holding one without the
        # other would be a copy of half a transaction.
        while not stop.is_set():
            marker = f"pair-{written[0]}@writer.example"
            with database.session() as db:
                db.add_all([LoginFailure(email=marker, remote_addr=None, at=T0) for _ in "ab"])
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    try:
        while written[0] < 5:
            threading.Event().wait(0.05)
        for n in range(3):
            out = tmp_path / f"copy-{n}.sqlite3"
            output = run_backup(tmp_path, url, "--out", str(out))
            assert "integrity check: ok" in output
            copies.append(out)
    finally:
        stop.set()
        thread.join()
    with database.session(read_only=True) as db:
        users = db.scalar(select(func.count()).select_from(User))
        live = db.scalar(select(func.count()).select_from(LoginFailure))
    pairs_seen = []
    for copy in copies:
        assert not Path(str(copy) + "-wal").exists()
        connection = sqlite3.connect(copy)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert connection.execute("SELECT count(*) FROM users").fetchone()[0] == users
            per_marker = connection.execute(
                "SELECT email, count(*) FROM login_failures GROUP BY email"
            ).fetchall()
            version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            connection.close()
        assert per_marker and all(count == 2 for _email, count in per_marker)
        assert version
        pairs_seen.append(len(per_marker))
    assert pairs_seen == sorted(pairs_seen)  # later copies hold at least as much
    assert 2 * pairs_seen[-1] <= live


def test_the_default_destination_is_under_the_data_folder(tmp_path, database, backend) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's file")
    output = run_backup(tmp_path, str(database.engine.url))
    (made,) = (tmp_path / "data" / "backups").glob("critdesk-*.sqlite3")
    assert str(made) in output


def test_the_attachment_store_is_archived_beside_the_copy(tmp_path, database_url) -> None:
    store = tmp_path / "data" / "attachments"
    (store / "ab").mkdir(parents=True)
    (store / "ab" / "abcdef").write_bytes(b"sealed bytes")
    (store / "cd").mkdir()
    (store / "cd" / "cdef01").write_bytes(b"more")
    out = tmp_path / "out" / "desk.backup"
    output = run_backup(tmp_path, database_url, "--out", str(out), "--files")
    assert "archived 2 stored files" in output
    with tarfile.open(str(out) + ".files.tar") as archive:
        assert sorted(archive.getnames()) == ["ab/abcdef", "cd/cdef01"]
        member = archive.extractfile("ab/abcdef")
        assert member is not None and member.read() == b"sealed bytes"


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump")
def test_a_postgresql_backup_is_a_pg_dump_that_restores(tmp_path, database, demo, backend):
    if backend != "postgresql":
        pytest.skip("pg_dump is PostgreSQL's")
    url = database.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "desk.dump"
    output = run_backup(tmp_path, url, "--out", str(out))
    assert "pg_restore" in output
    assert out.read_bytes()[:5] == b"PGDMP"

    target = f"{make_url(url).database}_restored"
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target}"'))
            connection.execute(text(f'CREATE DATABASE "{target}"'))
        restored = make_url(url).set(drivername="postgresql", database=target)
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "-d",
                restored.render_as_string(hide_password=False),
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        copy = create_engine(make_url(url).set(database=target))
        with copy.connect() as connection:
            users = connection.execute(text("SELECT count(*) FROM users")).scalar()
        copy.dispose()
        with database.session(read_only=True) as db:
            assert users == db.scalar(select(func.count()).select_from(User)) > 0
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        admin.dispose()


def test_without_pg_dump_the_message_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="pg_dump is not on PATH"):
        backup_postgres("postgresql+psycopg://u@127.0.0.1/x", tmp_path / "x.dump")


def test_the_password_goes_in_the_environment_never_the_arguments(tmp_path) -> None:
    url = "postgresql+psycopg://desk:s3cr%40t@db.internal:5433/critdesk?sslmode=require"
    command, env = pg_dump_command(url, tmp_path / "x.dump")
    assert env == {"PGPASSWORD": "s3cr@t"}
    assert not any("s3cr" in part for part in command)
    assert command[-1] == "postgresql://desk@db.internal:5433/critdesk?sslmode=require"
    assert "--format=custom" in command
