"""A database's rows, taken once and written back into an empty database of the same schema.

Loading the demo through the services costs a few tenths of a second (a password hash, the
cases' rules, the notifications), and most tests start from it. The ``demo`` fixture loads it
once per test process, database and starting time, takes a ``Snapshot`` of what that wrote,
and gives every later test the same rows copied in: byte for byte on PostgreSQL (``COPY``
in binary), value for value on SQLite (what the driver reads is what it writes back), ids and
sequences included. ``tests/test_snapshot.py`` holds a restored demo to a freshly loaded one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import DBAPIError

from critdesk.models import metadata


def _quoted(table: Table) -> str:
    return f'"{table.name}"'


def is_empty(connection: Connection) -> bool:
    """No table of the schema holds a row."""
    probes = " UNION ALL ".join(
        f"SELECT 1 FROM (SELECT 1 FROM {_quoted(t)} LIMIT 1) AS {t.name}_probe"
        for t in metadata.sorted_tables
    )
    return connection.exec_driver_sql(f"SELECT count(*) FROM ({probes}) AS probes").scalar() == 0


@dataclass(frozen=True)
class Snapshot:
    dialect: str
    # PostgreSQL: table name -> COPY … (FORMAT BINARY) data; SQLite: (column names, rows)
    tables: dict[str, Any]
    # PostgreSQL: sequence name -> last value
    sequences: dict[str, int]

    @classmethod
    def take(cls, engine: Engine) -> Snapshot:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                return cls("postgresql", _pg_tables(connection), _pg_sequences(connection))
            tables = {}
            for table in metadata.sorted_tables:
                result = connection.exec_driver_sql(f"SELECT * FROM {_quoted(table)}")
                rows = [tuple(row) for row in result]
                if rows:
                    tables[table.name] = (tuple(result.keys()), rows)
            # Its ids are rowids (no AUTOINCREMENT): the next is the largest restored one plus one.
            return cls("sqlite", tables, {})

    def restore(self, engine: Engine) -> bool:
        """Writes the rows into ``engine``'s database if it holds none; False (and nothing
        written) when it already holds some or is another kind of database."""
        if engine.dialect.name != self.dialect:
            return False
        try:
            return self._restore(engine)
        except DBAPIError:
            # A PostgreSQL role that may not switch the foreign keys off, say: load instead.
            return False

    def _restore(self, engine: Engine) -> bool:
        with engine.begin() as connection:
            if not is_empty(connection):
                return False
            if self.dialect == "postgresql":
                # Rows go in table by table; the foreign keys (users and organisations refer to
                # each other) are the snapshot's, already consistent.
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
                for name, data in self.tables.items():
                    with cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT BINARY)') as copy:
                        copy.write(data)
                for sequence, value in self.sequences.items():
                    connection.exec_driver_sql(
                        "SELECT setval(%(s)s, %(v)s)", {"s": sequence, "v": value}
                    )
                return True
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for name, (columns, rows) in self.tables.items():
                marks = ", ".join("?" for _ in columns)
                names = ", ".join(f'"{c}"' for c in columns)
                connection.exec_driver_sql(f'INSERT INTO "{name}" ({names}) VALUES ({marks})', rows)
            return True


def _pg_tables(connection: Connection) -> dict[str, bytes]:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    tables = {}
    for table in metadata.sorted_tables:
        if connection.exec_driver_sql(f"SELECT 1 FROM {_quoted(table)} LIMIT 1").first():
            with cursor.copy(f"COPY {_quoted(table)} TO STDOUT (FORMAT BINARY)") as copy:
                tables[table.name] = b"".join(bytes(block) for block in copy)
    return tables


def pg_sequences(connection: Connection) -> list[str]:
    """The schema's tables' own sequences (serial and identity columns): not the job queue's,
    whose tables the tests do not empty."""
    found = (
        connection.exec_driver_sql(
            "SELECT pg_get_serial_sequence(%(t)s, %(c)s)",
            {"t": _quoted(table), "c": column.name},
        ).scalar()
        for table in metadata.sorted_tables
        for column in table.primary_key.columns
    )
    return [sequence for sequence in found if sequence is not None]


def _pg_sequences(connection: Connection) -> dict[str, int]:
    """The used ones' last values."""
    values = {}
    for sequence in pg_sequences(connection):
        last, called = connection.exec_driver_sql(
            f"SELECT last_value, is_called FROM {sequence}"
        ).one()
        if called:
            values[sequence] = last
    return values
