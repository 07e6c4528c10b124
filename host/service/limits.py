"""The request body limit, enforced while the body streams in (before anything is stored).

A body over the limit (by its ``Content-Length`` or as it arrives) is answered
413; the rest of it is read and dropped first, so the client, still sending,
gets the answer instead of a broken connection.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "BodyTooLarge"]

FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries, headers and small fields beside the file
DRAIN_MAX_BYTES = 1 << 30  # at most this much of a refused body is read and dropped; then the connection closes


class BodyTooLarge(HTTPException):
    def __init__(self, limit_bytes: int):
        super().__init__(413, f"the upload is larger than the service's limit of {limit_bytes // (1 << 20)} MB "
                              "(MAX_UPLOAD_MB); send a smaller file or ask the operator to raise it")


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` (+ form overhead) of request body."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.limit = max_bytes + FORM_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0
        more = True
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        too_large = declared.isdigit() and int(declared) > self.limit

        async def limited() -> Message:
            nonlocal received, more, too_large
            if too_large:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                more = bool(message.get("more_body"))
                if received > self.limit:
                    too_large = True
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def drained_send(message: Message) -> None:
            nonlocal received, more
            if message["type"] == "http.response.start" and too_large:
                while more and received < self.limit + DRAIN_MAX_BYTES:
                    chunk = await receive()
                    if chunk["type"] != "http.request":
                        break
                    received += len(chunk.get("body", b""))
                    more = bool(chunk.get("more_body"))
            await send(message)

        await self.app(scope, limited, drained_send)
