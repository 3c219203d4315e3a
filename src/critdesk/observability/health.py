"""Liveness, readiness and metrics for load balancers, orchestrators and Prometheus.

- ``GET /healthz``: the process answers (no database access): restart it when this fails.
- ``GET /readyz``: the database answers and its schema is at this code's newest migration;
  503 with the reason otherwise: take the process out of the pool until it is ready.
- ``GET /metrics``: the Prometheus exposition. Open to a direct connection from the same
  host (a local Prometheus or agent); anything else needs ``Authorization: Bearer`` with
  ``CRITDESK_METRICS_TOKEN``. Once that token is set it is always required. A request that came
  through a proxy (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``) is never taken as local.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from critdesk import __version__
from critdesk.errors import Forbidden
from critdesk.observability import service
from critdesk.observability.metrics import CONTENT_TYPE_LATEST, HttpMetrics, token_matches
from critdesk.web import AppSettings

router = APIRouter(tags=["ops"])
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    # Which server process answered (several run under `critdesk serve --workers N`).
    process: int


class ReadyOut(BaseModel):
    status: Literal["ready", "not_ready"]
    reason: str | None = None
    database_revisions: list[str]
    code_revisions: list[str]


@router.get("/healthz")
def healthz() -> HealthOut:
    return HealthOut(status="ok", version=__version__, process=os.getpid())


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "Not ready: the reason says why."}},
)
def readyz(request: Request) -> JSONResponse:
    found = service.readiness(engine=request.app.state.db.engine)
    body = ReadyOut(
        status="ready" if found.ready else "not_ready",
        reason=found.reason,
        database_revisions=list(found.database_revisions),
        code_revisions=list(found.code_revisions),
    )
    return JSONResponse(body.model_dump(), status_code=200 if found.ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, settings: AppSettings) -> Response:
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if token:
        if not token_matches(request.headers.get("authorization"), token):
            raise Forbidden("metrics_forbidden", "metrics need the metrics bearer token")
    elif not is_direct_local(request):
        raise Forbidden(
            "metrics_forbidden",
            "metrics are served to local connections only, or with CRITDESK_METRICS_TOKEN",
        )
    registry: HttpMetrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)


def is_direct_local(request: Request) -> bool:
    """A connection from this host that no proxy relayed."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
