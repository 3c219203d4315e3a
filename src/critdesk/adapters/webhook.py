"""Outbound webhooks: signing, an httpx sender and a recording fake.

Every delivery is a JSON ``POST`` with these headers:

- ``X-Critdesk-Event``: the event kind (``sla_breach``, …);
- ``X-Critdesk-Delivery``: the notification id, the same on every retry, so a receiver drops
  a delivery it has already processed;
- ``X-Critdesk-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Critdesk-Signature``: ``sha256=<hex>``, the HMAC-SHA256 with the endpoint's secret of
  ``"<timestamp>." + raw body``. Receivers recompute it over the raw bytes (before any JSON
  parsing), compare in constant time and refuse old timestamps (replays); see ``verify``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from typing import Protocol

import httpx

SIGNATURE_HEADER = "X-Critdesk-Signature"
TIMESTAMP_HEADER = "X-Critdesk-Timestamp"
EVENT_HEADER = "X-Critdesk-Event"
DELIVERY_HEADER = "X-Critdesk-Delivery"


class WebhookError(Exception):
    """A delivery that did not get a 2xx answer."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(
    secret: str, *, body: bytes, timestamp: str, signature: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


def signed_headers(
    *, secret: str, body: bytes, event: str, delivery_id: int | str, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "critdesk-webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        """Delivers, or raises WebhookError (any answer but 2xx, or no answer)."""

    def close(self) -> None: ...


class HttpxWebhookSender:
    def __init__(self, *, timeout: float = 10.0) -> None:
        # Redirects are not followed: a signed body goes only where the admin configured it.
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            response = self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise WebhookError(f"{type(error).__name__}: {error}") from error
        if not 200 <= response.status_code < 300:
            raise WebhookError(f"HTTP {response.status_code}: {response.text[:200]}")

    def close(self) -> None:
        self.client.close()


@dataclass
class RecordedPost:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class RecordingWebhookSender:
    """Tests: keeps every post; ``fail`` makes the next posts raise the given errors."""

    posts: list[RecordedPost] = field(default_factory=list)
    fail: list[WebhookError] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            if self.fail:
                raise self.fail.pop(0)
            self.posts.append(RecordedPost(url, body, dict(headers)))

    def close(self) -> None:
        pass
