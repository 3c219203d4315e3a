"""File paths that name a person: ``/home/jsmith``, ``/Users/jsmith``, ``C:\\Users\\jsmith``.

Only the part up to and including the user name is replaced, so ``/home/jsmith/.m2/settings.xml``
becomes ``[PATH-1]/.m2/settings.xml`` and the advice about ``.m2/settings.xml`` survives.
Service accounts and placeholders (``/home/ubuntu``, ``C:\\Users\\Public``) are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from critdesk.redaction.keep import GENERIC_USERS
from critdesk.redaction.spans import Finding

_NAME = r"[^\\/\s:'\"<>|;,*?()\[\]{}=`]+"
# Run on the lower-cased text; the user name is read from the original at the same offsets.
# The folder names lead (a few letters to skip ahead to, where "/" is everywhere in URLs);
# the separator before them is checked on each hit.
_HOME = re.compile(
    r"(?:home|users|documents and settings)[\\/]{1,2}"
    rf"({_NAME}(?: {_NAME}){{1,2}}(?=\\)|{_NAME})"
)
_DRIVE = re.compile(r"[A-Za-z]:\Z")
_MOUNTED_DRIVE = re.compile(r"/(?:mnt/|cygdrive/)?[A-Za-z]\Z")
_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-~")


def find(text: str, lower: str) -> Iterator[Finding]:
    """Home folders in ``text``; ``lower`` is ``spans.lowered(text)``."""
    for match in _HOME.finditer(lower):
        start = match.start() - 1
        if start < 0 or lower[start] not in "\\/":
            continue
        if lower[max(0, start - 7) : start] == "/export":
            start -= 7  # Solaris-style /export/home/…
        elif start > 0 and lower[start - 1] in "\\/":
            start -= 1  # a doubled separator (JSON-escaped "C:\\\\Users")
        drive = _DRIVE.search(text, max(0, start - 2), start)
        if drive is not None:
            start = drive.start()
        else:
            if start > 0 and not _starts_a_path(text, start):
                continue
            while text[start + 1] in "/\\":
                start += 1  # file:///home/…: the path begins at its last leading slash
        user = text[match.start(1) : match.end(1)]
        if user.casefold() in GENERIC_USERS or user.startswith(("$", "%", "<", "{", "[")):
            continue
        original = text[start : match.end()]
        key = original.casefold().replace("\\\\", "\\") if drive else original
        yield Finding(start, match.end(), "path", f"home folder of user {user!r}", key)


def _starts_a_path(text: str, start: int) -> bool:
    """``/home/x`` at the start of a path, not ``webapps/home/index.jsp`` inside one
    (but ``/mnt/c/Users/x``, a Windows drive seen from WSL or Cygwin, is one)."""
    if _MOUNTED_DRIVE.search(text, max(0, start - 8), start):
        return True
    before = text[start - 1]
    if before in "/\\":
        return start < 2 or text[start - 2] in ":/\\"  # file:///home/…
    return before not in _PATH_CHARS
