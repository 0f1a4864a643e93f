"""Health, status and recent log routes."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.services import services_of

logger = logging.getLogger(__name__)

# Records returned by GET /api/logs.
LOG_RECORDS_SHOWN = 100


async def health(request: Request) -> Response:
    """Report 200 when the database responds, else 503. Hub states are listed but never fail it."""
    services = services_of(request)
    database = await _database_health(services.storage)
    hubs = _hub_counts(services.manager)
    healthy = bool(database.get("ok"))
    body = {
        "status": "ok" if healthy else "unavailable",
        "version": services.version,
        "database": database,
        "hubs": hubs,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


async def status(request: Request) -> Response:
    services = services_of(request)
    manager = services.manager
    devices = len(manager.native_devices()) if manager is not None else 0
    database = await _database_health(services.storage)
    return JSONResponse(
        {
            "version": services.version,
            "uptimeS": round(services.uptime_s, 3),
            "startedAt": services.started_at,
            "hubs": _hub_counts(manager),
            "devices": devices,
            "sseClients": services.bus.subscriber_count,
            "lastEventId": services.bus.last_id,
            # The file path of a SQLite database; never a database URL, which may hold a
            # password.
            "database": {
                "ok": bool(database.get("ok")),
                "backend": database.get("backend"),
                "path": database.get("path") if database.get("backend") == "sqlite" else None,
                "sizeBytes": database.get("size_bytes"),
            },
        }
    )


async def logs(request: Request) -> Response:
    records = services_of(request).logs.records(LOG_RECORDS_SHOWN)
    return JSONResponse({"records": records})


async def _database_health(storage: Any) -> dict[str, Any]:
    if storage is None:
        return {"ok": False, "error": "the database is not open yet"}
    try:
        result = await storage.health()
    except Exception as err:  # a backend failure becomes part of the reply
        logger.warning("database health check failed: %s", err)
        return {"ok": False, "error": f"{type(err).__name__}: {err}"}
    if not isinstance(result, dict):
        return {"ok": bool(result)}
    result = dict(result)
    result.setdefault("ok", True)
    return result


def _hub_counts(manager: Any) -> dict[str, int]:
    counts: Counter[str] = Counter()
    if manager is not None:
        for hub in manager.health():
            counts[hub.state] += 1
    return {
        "total": sum(counts.values()),
        "online": counts["online"],
        "degraded": counts["degraded"],
        "offline": counts["offline"],
    }
