"""Log lines as JSON objects (one per line) or as text, each with the request id.

``configure_logging`` is called once per process by the commands that run servers and
workers (``critdesk serve``, ``critdesk worker``); the app itself never touches the global
logging configuration, so tests and embedding programs keep theirs.

Every line carries ``request_id`` (and ``job`` inside a background job) from
``observability.context``. Extra fields given as ``log.info("…", extra={...})`` become keys of
the JSON object. Nothing here reads request bodies, headers or query strings: what a line
holds is what the code logging it chose to put there.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from critdesk.observability.context import current_job, current_request_id

# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "job", "taskName", "color_message"}
)
_MARK = "_critdesk_handler"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Loggers of the servers we run inside: their lines go through our handler, not their own.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "gunicorn", "gunicorn.error")
_SILENCED = ("uvicorn.access", "gunicorn.access")


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job`` to every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        record.job = current_job()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, ``pid``,
    ``request_id``, ``job`` (in jobs), extra fields, and ``exc`` with the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id and request_id != "-":
            line["request_id"] = request_id
        job = getattr(record, "job", None)
        if job:
            line["job"] = job
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def resolve_format(name: str, stream: TextIO) -> str:
    """``auto``: text on a terminal, JSON otherwise (a service manager, a container)."""
    if name != "auto":
        return name
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def make_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if resolve_format(log_format, stream) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    setattr(handler, _MARK, True)
    return handler


def configure_logging(
    log_format: str = "auto",
    level: str = "INFO",
    *,
    stream: TextIO | None = None,
    access_log: bool = True,
) -> logging.Handler:
    """Installs our one handler on the root logger (replacing one installed before), routes
    the servers' own loggers through it, and turns their access logs off: the app writes one
    access line per request itself, with the request id and the route."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    handler = make_handler(log_format, stream)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    for name in _SILENCED:
        logging.getLogger(name).disabled = True
    logging.getLogger("critdesk.access").setLevel(logging.INFO if access_log else logging.WARNING)
    return handler
