"""The storage keys: which master keys exist, and which one seals new files.

Keys come from ``CRITDESK_STORAGE_KEYS`` — comma-separated ``id:base64`` entries of 32-byte
keys, the first one current — or, when that is unset, from a key file (one entry per line, the
first current), by default ``<data dir>/keys/storage.keys``. The file is created with one new
key on first use (mode 0600 in a 0700 folder), so that a development desk encrypts from its
first upload without any setup. In production set ``CRITDESK_STORAGE_KEYS`` from a secret
store instead: a key kept next to the files it protects guards against a leaked copy of the
attachments folder, not against a leaked copy of the whole data folder.

Key material never appears in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from critdesk.config import Settings
from critdesk.privacy.encryption import KEY_BYTES, KEY_ID, UnknownKey

log = logging.getLogger(__name__)

KEY_FILE_NAME = "storage.keys"


class KeyConfigError(ValueError):
    """The configured keys cannot be used; the message names the entry, never its key."""


@dataclass(frozen=True)
class KeyRing:
    """Master keys by id, in order; the first seals new files."""

    entries: tuple[tuple[str, bytes], ...] = field(repr=False)
    source: str = "CRITDESK_STORAGE_KEYS"

    def __post_init__(self) -> None:
        if not self.entries:
            raise KeyConfigError(f"{self.source} holds no key")
        ids = [key_id for key_id, _ in self.entries]
        if len(set(ids)) != len(ids):
            raise KeyConfigError(f"{self.source} names a key id twice")

    @property
    def current_id(self) -> str:
        return self.entries[0][0]

    @property
    def current(self) -> bytes:
        return self.entries[0][1]

    @property
    def ids(self) -> list[str]:
        return [key_id for key_id, _ in self.entries]

    def get(self, key_id: str) -> bytes:
        for known, key in self.entries:
            if known == key_id:
                return key
        raise UnknownKey(key_id)

    def __repr__(self) -> str:
        return f"KeyRing(ids={self.ids!r}, source={self.source!r})"


def parse_entry(text: str, *, where: str = "entry") -> tuple[str, bytes]:
    key_id, colon, encoded = text.strip().partition(":")
    key_id = key_id.strip()
    if not colon or not KEY_ID.fullmatch(key_id):
        raise KeyConfigError(
            f"{where}: expected id:base64key with an id of letters, digits, '.', '_' or '-' "
            "(at most 32)"
        )
    try:
        key = base64.b64decode(encoded.strip().encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise KeyConfigError(f"{where} ({key_id}): the key is not base64") from None
    if len(key) != KEY_BYTES:
        raise KeyConfigError(f"{where} ({key_id}): the key must be {KEY_BYTES} bytes")
    return key_id, key


def parse_keys(text: str, *, source: str = "CRITDESK_STORAGE_KEYS") -> KeyRing:
    """Entries separated by commas or line ends; blank lines and ``#`` comments are skipped."""
    pieces = [p for line in text.splitlines() for p in line.split("#", 1)[0].split(",")]
    entries = tuple(
        parse_entry(piece, where=f"{source} entry {n}")
        for n, piece in enumerate((p for p in pieces if p.strip()), start=1)
    )
    return KeyRing(entries, source)


def new_entry() -> str:
    """A fresh ``id:base64`` entry: a random id and a random 32-byte key."""
    key = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
    return f"k{secrets.token_hex(4)}:{key}"


def format_keys(entries: Iterable[tuple[str, bytes]]) -> str:
    return "".join(f"{key_id}:{base64.b64encode(key).decode('ascii')}\n" for key_id, key in entries)


# --- the key file ----------------------------------------------------------------------------


def key_file(settings: Settings) -> Path:
    return settings.storage_key_file or settings.data_dir / "keys" / KEY_FILE_NAME


def _publish(path: Path, content: str, *, replace: bool) -> bool:
    """Writes ``content`` to ``path`` atomically with mode 0600; with ``replace`` false, only
    if ``path`` does not exist yet (returns whether this call created it)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            # A link fails if the name exists: of two processes starting at once, one wins.
            os.link(temporary, path)
            return True
        except FileExistsError:
            return False
    finally:
        temporary.unlink(missing_ok=True)


def _read_key_file(path: Path) -> KeyRing:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the storage key file %s is readable by others (mode %o)", path, mode)
    return parse_keys(path.read_text(encoding="ascii"), source=str(path))


def keyring_from_settings(settings: Settings) -> KeyRing:
    """The configured keys; without ``CRITDESK_STORAGE_KEYS``, the key file (made if absent)."""
    if settings.storage_keys is not None:
        return parse_keys(settings.storage_keys.get_secret_value())
    path = key_file(settings)
    if not path.exists() and _publish(
        path,
        "# critdesk storage keys: id:base64, the first seals new files. Keep this file secret\n"
        "# and back it up apart from the attachments; without it they cannot be read.\n"
        f"{new_entry()}\n",
        replace=False,
    ):
        log.warning(
            "CRITDESK_STORAGE_KEYS is unset: generated a storage key in %s (set the variable "
            "in production)",
            path,
        )
    return _read_key_file(path)


def add_key_to_file(settings: Settings) -> str:
    """Puts a new current key at the top of the key file; returns its id."""
    path = key_file(settings)
    ring = keyring_from_settings(settings)
    key_id, key = parse_entry(new_entry())
    _publish(path, format_keys(((key_id, key), *ring.entries)), replace=True)
    return key_id


def remove_key_from_file(settings: Settings, key_id: str) -> None:
    path = key_file(settings)
    ring = _read_key_file(path)
    if key_id == ring.current_id:
        raise KeyConfigError(f"{key_id} is the current key; add a new key first")
    ring.get(key_id)
    kept = tuple((known, key) for known, key in ring.entries if known != key_id)
    _publish(path, format_keys(kept), replace=True)
