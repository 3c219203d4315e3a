"""HTTP to a tracker: timeouts, retries with exponential backoff, and errors without secrets.

Retried: 429, 5xx, and rate-limit 403s (GitHub's secondary limits), honouring ``Retry-After``;
connection failures and timeouts. Never retried: any other 4xx — the tracker has refused, and
asking again would only be refused again.

A write that is not idempotent (creating an issue) is never retried blindly after a failure
that leaves it unknown whether the tracker acted — a lost connection after the request was
sent, a read timeout, a 5xx: :meth:`TrackerHttp.send` raises :class:`AmbiguousWrite` instead,
and :meth:`TrackerHttp.write_once` asks the tracker whether the write happened before trying
again. Only failures that prove the request never reached the tracker (connection refused,
connect timeout, 429) are retried directly.
"""

from __future__ import annotations

import functools
import logging
import random
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from critdesk.adapters.tracker.interface import TrackerError

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_MESSAGE = 500
# These never reach the server, so even a create may simply be sent again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 3  # after the first attempt
    backoff_seconds: float = 0.5  # the first wait; doubled for each further retry
    max_backoff_seconds: float = 30.0
    # A Retry-After longer than this is not waited for: the push fails as retryable instead.
    max_retry_after_seconds: float = 60.0
    timeout_seconds: float = 10.0

    def delay(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Exponential backoff with jitter, so that many clients do not retry in step."""
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2**retry)
        return float(ceiling * (0.5 + rand() / 2))


class AmbiguousWrite(TrackerError):
    """A write failed in a way that leaves unknown whether the tracker acted on it."""

    def __init__(
        self, tracker: str, message: str, *, status: int | None, retry_after: float | None
    ) -> None:
        super().__init__(tracker, message, status=status, retryable=True)
        self.retry_after = retry_after


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.status = status


class TrackerHttp:
    """One tracker's HTTP client. ``describe_error`` turns an error response into the
    tracker's own message; ``secrets`` are scrubbed from every message we produce."""

    def __init__(
        self,
        *,
        tracker: str,
        client: httpx.Client,
        retry: RetryPolicy,
        describe_error: Callable[[httpx.Response], str],
        secrets: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tracker = tracker
        self.client = client
        self.retry = retry
        self.describe_error = describe_error
        self.secrets = tuple(s for s in secrets if s)
        self.sleep = sleep

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """The response to a successful (2xx) request, after any retries it took."""
        for attempt in range(self.retry.retries + 1):
            last = attempt == self.retry.retries
            try:
                return self._attempt(method, path, json=json, params=params, idempotent=idempotent)
            except _Retry as retry:
                if last:
                    message = f"{retry.reason}; gave up after {attempt + 1} attempts"
                    raise self.error(message, True, status=retry.status) from None
                wait = max(retry.wait or 0.0, self.retry.delay(attempt))
                log.warning(
                    "%s %s %s: %s; retrying in %.2f s (attempt %d of %d)",
                    self.tracker,
                    method,
                    path,
                    retry.reason,
                    wait,
                    attempt + 2,
                    self.retry.retries + 1,
                )
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _attempt(
        self, method: str, path: str, *, json: Any, params: Any, idempotent: bool
    ) -> httpx.Response:
        try:
            response = self.client.request(method, path, json=json, params=params)
        except NOT_SENT as failure:
            raise _Retry(f"could not connect ({type(failure).__name__})") from None
        except TRANSIENT as failure:
            reason = f"connection failed after sending ({type(failure).__name__})"
            if not idempotent:
                raise self.ambiguous(reason) from None
            raise _Retry(reason) from None
        if response.is_success:
            return response
        status = response.status_code
        limited = self._rate_limit_wait(response)
        if limited is None and status < 500:
            raise self.error(
                f"answered {status}: {self.describe_error(response)}", False, status=status
            )
        wait = limited if limited is not None else _retry_after(response)
        if wait is not None and wait > self.retry.max_retry_after_seconds:
            raise self.error(
                f"answered {status}; it asks to wait {wait:.0f} s", True, status=status
            )
        if limited is not None:
            raise _Retry(f"answered {status} (rate limited)", wait, status)
        if not idempotent:
            raise self.ambiguous(f"answered {status}", response)
        raise _Retry(f"answered {status}", wait, status)

    def write_once(self, attempt: Callable[[], T], find: Callable[[], T | None]) -> T:
        """Runs a non-idempotent write so that it happens at most once: after an ambiguous
        failure, ``find`` looks for its effect before the write is tried again."""
        for retry in range(self.retry.retries + 1):
            try:
                return attempt()
            except AmbiguousWrite as failure:
                if retry == self.retry.retries:
                    raise
                wait = max(failure.retry_after or 0.0, self.retry.delay(retry))
                log.warning("%s; looking for the result in %.2f s", failure, wait)
                self.sleep(wait)
                found = find()
                if found is not None:
                    return found
        raise AssertionError("unreachable")

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when the response is a rate limit (``None`` when it is not)."""
        if response.status_code == 429:
            return _retry_after(response) or 0.0
        if response.status_code == 403:
            # GitHub answers a rate limit with 403 and either Retry-After or no quota left.
            if "retry-after" in response.headers:
                return _retry_after(response) or 0.0
            if response.headers.get("x-ratelimit-remaining") == "0":
                try:
                    reset = float(response.headers.get("x-ratelimit-reset", ""))
                except ValueError:
                    return 60.0  # no usable reset time: GitHub's advice is to wait a minute
                return max(0.0, reset - time.time())
        return None

    def error(self, message: str, retryable: bool, *, status: int | None = None) -> TrackerError:
        return TrackerError(self.tracker, self.scrub(message), status=status, retryable=retryable)

    def ambiguous(self, reason: str, response: httpx.Response | None = None) -> AmbiguousWrite:
        return AmbiguousWrite(
            self.tracker,
            self.scrub(f"{reason}; the write may or may not have happened"),
            status=response.status_code if response is not None else None,
            retry_after=_retry_after(response) if response is not None else None,
        )

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every tracker client: building one reads the whole CA bundle
    (a tenth of a second), and httpx would build one per client. It honours SSL_CERT_FILE
    and SSL_CERT_DIR, as httpx does, for a GitHub Enterprise behind an internal CA."""
    return httpx.create_ssl_context()


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
