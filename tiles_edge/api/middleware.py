"""ASGI middleware of the API."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class UnreadBodyMiddleware:
    """Read what a route left of the request body before the response starts.

    A route may respond without reading the body (a rejected webhook, a 404, a route that
    takes none). HTTP/1.1 can only reuse the connection once the whole body has been read,
    so Hypercorn then closes it after the response, and a client that already sent its
    next request on that connection gets no response. This middleware reads up to
    ``max_drain_bytes`` of the rest. A longer body is left unread and the response gets
    ``Connection: close``, so the client knows not to reuse the connection.
    """

    def __init__(self, app: ASGIApp, max_drain_bytes: int) -> None:
        self.app = app
        self.max_drain_bytes = max_drain_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _declares_body(scope):
            await self.app(scope, receive, send)
            return

        body_done = False

        async def tracking_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def draining_send(message: Message) -> None:
            nonlocal body_done
            if message["type"] == "http.response.start" and not body_done:
                drained = 0
                while not body_done and drained <= self.max_drain_bytes:
                    drained += len((await tracking_receive()).get("body", b""))
                if not body_done:
                    headers = list(message.get("headers", []))
                    headers.append((b"connection", b"close"))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, tracking_receive, draining_send)


def _declares_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
    return False
