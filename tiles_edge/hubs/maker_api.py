"""Client for the Hubitat Maker API: ``GET http://HUB/apps/api/{appId}/{path}?access_token=…``.

The access token is a secret. It travels only as the ``access_token`` query parameter, never
appears in an exception, a log record or a repr, and httpx's own request log is redacted (see
``_RedactAccessToken``). Every httpx failure is translated here into a ``HubError`` subclass.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from tiles_edge.errors import (
    HubAuthError,
    HubNotFoundError,
    HubReplyError,
    HubTimeoutError,
    HubUnreachableError,
)
from tiles_edge.hubs.model import HubConfig

logger = logging.getLogger(__name__)

# The actions ``/hsm/{action}`` accepts, per the Maker API documentation.
HSM_ACTIONS: frozenset[str] = frozenset(
    {"armAway", "armHome", "armNight", "disarm", "disarmAll", "armAll", "cancelAlerts"}
)

_SETTINGS_HINT = "under Settings → Hubs"
_MAX_ERROR_TEXT = 200
_TOKEN_IN_TEXT = re.compile(r"(access_token=)[^&\s\"'>]*", re.IGNORECASE)


def redact_token(text: str, token: str | None = None) -> str:
    """Replace every ``access_token=…`` value, and ``token`` itself, in ``text`` by ``***``."""
    text = _TOKEN_IN_TEXT.sub(r"\1***", text)
    if token:
        text = text.replace(token, "***")
    return text


class _RedactAccessToken(logging.Filter):
    """Rewrite httpx's "HTTP Request: GET <url> …" records so the URL carries no token."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact_token(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def _install_httpx_redaction() -> None:
    # httpx logs every request URL, query string included, on the "httpx" logger at INFO.
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactAccessToken) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactAccessToken())


_install_httpx_redaction()


def encode_command_arg(arg: Any) -> str:
    """Encode one command argument as one percent-encoded path segment.

    A dict (``setColor``'s color map) becomes compact JSON, a bool ``true``/``false``, anything
    else its ``str()``. Commas are encoded too, so they only ever separate arguments.
    """
    if isinstance(arg, dict):
        text = json.dumps(arg, separators=(",", ":"))
    elif isinstance(arg, bool):
        text = "true" if arg else "false"
    else:
        text = str(arg)
    return quote(text, safe="")


class MakerApiClient:
    """Async client for one Maker API instance of one hub.

    ``client`` may be shared between hubs; a client created here is closed by ``aclose()``.
    Redirects are never followed: a hub does not redirect Maker API calls, so a redirect
    means a wrong host or scheme.
    """

    def __init__(
        self,
        hub: HubConfig,
        *,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._hub_id = hub.hub_id
        self._token = hub.token
        self._base_url = f"{hub.base_url}/apps/api/{quote(hub.app_id.strip(), safe='')}"
        self._timeout = httpx.Timeout(timeout_s)
        self._owns_client = client is None
        # trust_env=False: hubs are on the LAN, so a proxy from the environment would be wrong.
        self._client = client if client is not None else httpx.AsyncClient(trust_env=False)

    def __repr__(self) -> str:
        return f"MakerApiClient(hub={self._hub_id!r}, base_url={self._base_url!r})"

    @property
    def hub_id(self) -> str:
        return self._hub_id

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def devices(self) -> list[dict[str, Any]]:
        """Fetch ``/devices``: id, name, label, type and room of every exposed device."""
        return _as_list(self._hub_id, "/devices", await self._get("/devices"))

    async def devices_all(self) -> list[dict[str, Any]]:
        """Fetch ``/devices/all``: every exposed device with attributes and commands."""
        return _as_list(self._hub_id, "/devices/all", await self._get("/devices/all"))

    async def device(self, device_id: str) -> dict[str, Any]:
        path = f"/devices/{_segment(device_id)}"
        return _as_dict(self._hub_id, path, await self._get(path))

    async def device_commands(self, device_id: str) -> list[Any]:
        path = f"/devices/{_segment(device_id)}/commands"
        return _as_list(self._hub_id, path, await self._get(path))

    async def device_events(self, device_id: str) -> list[Any]:
        path = f"/devices/{_segment(device_id)}/events"
        return _as_list(self._hub_id, path, await self._get(path))

    async def send_command(self, device_id: str, command: str, args: Sequence[Any] = ()) -> Any:
        """Send ``command`` with ``args`` and return the reply: the device as it was before."""
        path = f"/devices/{_segment(device_id)}/{_segment(command)}"
        if args:
            path += "/" + ",".join(encode_command_arg(arg) for arg in args)
        return await self._get(path)

    async def modes(self) -> list[dict[str, Any]]:
        """Fetch ``/modes``: ``[{"active", "id", "name"}]``."""
        return _as_list(self._hub_id, "/modes", await self._get("/modes"))

    async def set_mode(self, mode_id: int | str) -> list[dict[str, Any]]:
        path = f"/modes/{_segment(str(mode_id))}"
        return _as_list(self._hub_id, path, await self._get(path))

    async def hsm(self) -> str | None:
        """Fetch the HSM status (``armedAway``, ``disarmed``, …) from ``/hsm``."""
        return _hsm_status(self._hub_id, "/hsm", await self._get("/hsm"))

    async def set_hsm(self, action: str) -> str | None:
        if action not in HSM_ACTIONS:
            allowed = ", ".join(sorted(HSM_ACTIONS))
            raise ValueError(f"unknown HSM action {action!r}: expected one of {allowed}")
        path = f"/hsm/{action}"
        return _hsm_status(self._hub_id, path, await self._get(path))

    async def register_post_url(self, url: str) -> Any:
        """Make the hub POST every event of this instance's devices to ``url``."""
        return await self._get(f"/postURL/{quote(url, safe='')}", require_json=False)

    async def clear_post_url(self) -> Any:
        return await self._get("/postURL", require_json=False)

    async def _get(self, path: str, *, require_json: bool = True) -> Any:
        try:
            response = await self._client.get(
                self._base_url + path,
                params={"access_token": self._token},
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException as err:
            raise HubTimeoutError(
                self._hub_id,
                f"hub '{self._hub_id}' did not answer {path} within "
                f"{self._timeout.read:g} s: check that the hub is powered and on the network",
            ) from self._safe_cause(err)
        except (httpx.TransportError, httpx.InvalidURL) as err:
            raise HubUnreachableError(
                self._hub_id,
                f"hub '{self._hub_id}' is unreachable ({self._describe(err)}): check the host "
                f"{_SETTINGS_HINT} and that the hub is powered and on the network",
            ) from self._safe_cause(err)
        return self._parse(path, response, require_json=require_json)

    def _parse(self, path: str, response: httpx.Response, *, require_json: bool) -> Any:
        status = response.status_code
        if status == 401:
            raise HubAuthError(
                self._hub_id,
                f"hub '{self._hub_id}' rejected the access token (HTTP 401): create a new token "
                f"in the Maker API app and save it {_SETTINGS_HINT}",
            )
        if status == 404:
            missing = "the Maker API app" if not path.startswith("/devices/") else path
            raise HubNotFoundError(
                self._hub_id,
                f"hub '{self._hub_id}' has no {missing} (HTTP 404{self._detail(response)}): check "
                f"the app id and the host {_SETTINGS_HINT}, and that the device is selected in "
                "the Maker API app",
            )
        if 300 <= status < 400:
            raise HubReplyError(
                self._hub_id,
                f"hub '{self._hub_id}' redirected {path} (HTTP {status}), which is not followed: "
                f"check the host and its http/https scheme {_SETTINGS_HINT}",
            )
        if status == 400:
            raise HubReplyError(
                self._hub_id,
                f"hub '{self._hub_id}' rejected {path} (HTTP 400{self._detail(response)}): "
                "modes and HSM must be allowed in the Maker API app, and the device must "
                "support the command",
            )
        if not 200 <= status < 300:
            raise HubReplyError(
                self._hub_id,
                f"hub '{self._hub_id}' failed {path} (HTTP {status}{self._detail(response)}): "
                "retry later, and check the hub's logs if it persists",
            )

        # Hubs serve JSON as text/html, so the body is parsed whatever its Content-Type.
        try:
            payload = json.loads(response.content) if response.content.strip() else None
        except ValueError:
            if not require_json:
                return response.text
            raise HubReplyError(
                self._hub_id,
                f"hub '{self._hub_id}' sent a reply to {path} that is not JSON: check that the "
                f"host is a Hubitat hub and the app id belongs to a Maker API app",
            ) from None
        if payload is None and require_json:
            raise HubReplyError(self._hub_id, f"hub '{self._hub_id}' sent an empty reply to {path}")
        if isinstance(payload, dict) and payload.get("error"):
            raise HubReplyError(
                self._hub_id,
                f"hub '{self._hub_id}' reported an error for {path}: {self._error_text(payload)}",
            )
        return payload

    def _detail(self, response: httpx.Response) -> str:
        """Return ``": <message>"`` from a JSON error body, or ``""``."""
        try:
            payload = json.loads(response.content)
        except ValueError:
            return ""
        if not isinstance(payload, dict):
            return ""
        return ": " + self._error_text(payload)

    def _error_text(self, payload: dict[str, Any]) -> str:
        # Hubs reply {"error": true, "type": "AppException", "message": "..."}.
        message = payload.get("message")
        if not isinstance(message, str) or not message.strip():
            message = str(payload.get("error"))
        return redact_token(message.strip(), self._token)[:_MAX_ERROR_TEXT]

    def _describe(self, err: Exception) -> str:
        text = redact_token(str(err), self._token).strip()
        return text[:_MAX_ERROR_TEXT] or type(err).__name__

    def _safe_cause(self, err: Exception) -> Exception | None:
        # Chain the httpx error unless its text carries the request URL with the token.
        text = str(err)
        if (self._token and self._token in text) or _TOKEN_IN_TEXT.search(text):
            return None
        return err


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _as_list(hub_id: str, path: str, payload: Any) -> list[Any]:
    if not isinstance(payload, list):
        raise HubReplyError(
            hub_id,
            f"hub '{hub_id}' sent {type(payload).__name__} for {path} where a list was expected",
        )
    return payload


def _as_dict(hub_id: str, path: str, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise HubReplyError(
            hub_id,
            f"hub '{hub_id}' sent {type(payload).__name__} for {path} where an object was expected",
        )
    return payload


def _hsm_status(hub_id: str, path: str, payload: Any) -> str | None:
    if isinstance(payload, dict):
        status = payload.get("hsm")
        return None if status is None else str(status)
    if isinstance(payload, str):
        return payload
    raise HubReplyError(
        hub_id,
        f"hub '{hub_id}' sent {type(payload).__name__} for {path} where {{\"hsm\"}} was expected",
    )


__all__ = [
    "HSM_ACTIONS",
    "MakerApiClient",
    "encode_command_arg",
    "redact_token",
]
