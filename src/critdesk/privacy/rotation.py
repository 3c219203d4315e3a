"""Key rotation and verification over every stored file.

``rotate`` re-seals each file not sealed under the current key (``EncryptedStorage.reseal``:
streamed into a sibling file, then renamed over the old one), so it is atomic per file,
resumable (an interrupted run leaves each file old or new, and the next run skips the new ones)
and idempotent (a second run finds every file current). Files stored before encryption are
sealed by the same pass. Once no file names an old key, that key can be removed from the
configuration (``files_sealed_under`` tells).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from critdesk.adapters.storage import EncryptedStorage
from critdesk.privacy.encryption import SealedFileError

PLAINTEXT = "(plaintext)"


@dataclass
class RotationReport:
    current_key: str
    scanned: int = 0
    already_current: int = 0
    resealed: int = 0  # moved from an older key to the current one
    sealed: int = 0  # were plaintext, stored before encryption
    vanished: int = 0  # deleted while the run went on (retention, erasure)
    busy: int = 0  # being re-sealed by another run at the same moment
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "current_key": self.current_key,
            "scanned": self.scanned,
            "already_current": self.already_current,
            "resealed": self.resealed,
            "sealed_plaintext": self.sealed,
            "vanished": self.vanished,
            "busy": self.busy,
            "failed": len(self.failed),
        }


def rotate(
    storage: EncryptedStorage, *, progress: Callable[[str, str], None] | None = None
) -> RotationReport:
    report = RotationReport(current_key=storage.keyring.current_id)
    for key in storage.iter_keys():
        report.scanned += 1
        try:
            outcome: str = storage.reseal(key)
        except FileNotFoundError:
            report.vanished += 1
            outcome = "vanished"
        except FileExistsError:
            report.busy += 1
            outcome = "busy"
        except SealedFileError as error:
            report.failed.append((key, str(error)))
            outcome = "failed"
        else:
            if outcome == "current":
                report.already_current += 1
            elif outcome == "resealed":
                report.resealed += 1
            else:
                report.sealed += 1
        if progress is not None:
            progress(key, outcome)
    return report


@dataclass
class VerifyReport:
    by_key: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return sum(self.by_key.values()) + len(self.failed)


def verify(storage: EncryptedStorage, *, headers_only: bool = False) -> VerifyReport:
    """Every file's key (``PLAINTEXT`` for files stored before encryption); unless
    ``headers_only``, every chunk of every file is authenticated too."""
    report = VerifyReport()
    for key in storage.iter_keys():
        try:
            if headers_only:
                header = storage.header_of(key)
                key_id = None if header is None else header.key_id
            else:
                key_id = storage.verify(key)
        except FileNotFoundError:
            continue
        except SealedFileError as error:
            report.failed.append((key, str(error)))
            continue
        report.by_key[key_id or PLAINTEXT] += 1
    return report


def files_sealed_under(storage: EncryptedStorage, key_id: str) -> int:
    return verify(storage, headers_only=True).by_key.get(key_id, 0)
