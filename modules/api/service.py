"""install_api(http_app, app): the /sdapi/v1 router plus what makes it safe to expose.

- a body-size limit for /sdapi requests, and a JSON 500 for an unexpected error (413 before anything is
  parsed: at once when Content-Length says too much, else as soon as the limit is passed; the rest of the
  body is then read and dropped up to a cap, never kept, so a client that sends it all before reading
  still gets the answer; a stalled body is cut by modules/http_guards.py's SlowBodyGuard),
- error answers: every UserError is a 4xx whose message names the field, validation errors keep
  FastAPI's `detail` list (without echoing the input) and add a one-line `message`,
- /openapi.json for the API, and /docs: a small page served from here that lists the routes from
  that schema (FastAPI's own /docs loads Swagger UI from a CDN, which this app never contacts).
"""

from __future__ import annotations

import html
import json
import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request

from modules.api.auth import Credentials, basic_auth_user
from modules.errors import CheckpointLoadError, InvalidParams, JobCancelled, ModelNotFound, UnsafePath, UserError
from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
DRAIN_CAP_BYTES = 256 * 1024 * 1024
API_TITLE = "Stable Diffusion web UI API"


class ApiGuard:
    """ASGI middleware for requests under prefix: a body over limit gets 413 (JSON) without being parsed,
    and an unexpected error gets a 500 JSON answer here (logged once) instead of a dropped connection."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES, prefix: str = "/sdapi/") -> None:
        self.app, self.limit, self.prefix = app, limit, prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(receive, send, 0)  # at once: the body is not waited for
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            more = message.get("more_body", False)
            if size > self.limit:
                chunks.clear()
                await self._refuse(receive, send, size if more else -1)
                return
            chunks.append(body)
        body, replayed = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        started = False

        async def watch(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, replay, watch)
        except Exception as error:  # noqa: BLE001 - answered as JSON; the server and queue go on
            log.error("API request %s %s failed", scope.get("method"), scope["path"], exc_info=error)
            if not started:
                await _send_json(send, 500, {"error": type(error).__name__, "detail": str(error)[:500]})

    async def _refuse(self, receive: Any, send: Any, drained: int) -> None:
        """The 413 goes out whole at once; then the rest of the body (drained: bytes read so far, -1 when
        all were) is read and dropped up to DRAIN_CAP_BYTES, so a client that sends its whole body before
        reading gets the answer instead of a reset; the response ends, and the connection closes, after."""
        text = msg("api_body_too_large", limit=self.limit // (1024 * 1024))
        data = json.dumps({"error": "RequestTooLarge", "detail": text}).encode("utf-8")
        await send({"type": "http.response.start", "status": 413, "headers": _json_headers(len(data))})
        await send({"type": "http.response.body", "body": data, "more_body": True})
        while 0 <= drained <= DRAIN_CAP_BYTES:  # a stalled body ends in a disconnect (SlowBodyGuard)
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                break
            drained += len(message.get("body", b""))
        await send({"type": "http.response.body", "body": b""})


def _json_headers(length: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(length).encode()),
            (b"connection", b"close")]


async def _send_json(send: Any, status: int, content: dict[str, Any]) -> None:
    data = json.dumps(content).encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": _json_headers(len(data))})
    await send({"type": "http.response.body", "body": data})


def status_for(error: UserError) -> int:
    """HTTP status of a user error: the request asked for something wrong or impossible, never a 500."""
    from modules.api.images import ApiError

    if isinstance(error, ApiError):
        return error.status
    if isinstance(error, ModelNotFound):
        return 404
    if isinstance(error, JobCancelled):
        return 409
    if isinstance(error, (InvalidParams, CheckpointLoadError)):
        return 422
    if isinstance(error, UnsafePath):
        return 400
    return 400


def validation_message(errors: list[dict[str, Any]]) -> str:
    """'steps: Input should be a valid integer; width: ...' (the 'body' prefix left out)."""
    parts = []
    for error in errors[:10]:
        loc = [str(x) for x in error.get("loc", ()) if x != "body"]
        parts.append(f"{'.'.join(loc) or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _docs_page(schema_url: str) -> str:
    """The route list, rendered in the browser from the schema; no script or style from elsewhere."""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(API_TITLE)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}code,pre{{font-family:ui-monospace,monospace}}
td{{padding:.2em .8em;vertical-align:top}}.m{{font-weight:bold}}pre{{background:#f4f4f4;padding:1em;overflow:auto}}</style>
</head><body><h1>{html.escape(API_TITLE)}</h1>
<p>The OpenAPI schema: <a href="{schema_url}">{schema_url}</a>. Routes:</p><table id="routes"></table>
<h2>Schemas</h2><pre id="schemas"></pre>
<script>
fetch({json.dumps(schema_url)}, {{credentials: "same-origin"}}).then(r => r.json()).then(s => {{
  const t = document.getElementById("routes");
  for (const [path, ops] of Object.entries(s.paths || {{}})) for (const [m, op] of Object.entries(ops)) {{
    const row = t.insertRow(), body = op.requestBody ? JSON.stringify(op.requestBody.content) : "";
    row.insertCell().textContent = m.toUpperCase(); row.cells[0].className = "m";
    row.insertCell().textContent = path; row.insertCell().textContent = op.summary || "";
    row.insertCell().textContent = (body.match(/#\\/components\\/schemas\\/(\\w+)/) || ["", ""])[1];
  }}
  document.getElementById("schemas").textContent = JSON.stringify((s.components || {{}}).schemas || {{}}, null, 1);
}});
</script></body></html>"""


def install_api(http_app: FastAPI, app: App, pairs: Credentials | None = None) -> None:
    """Add the API routes, error handlers, body limit, /openapi.json and /docs to http_app."""
    from fastapi import HTTPException
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import HTMLResponse, JSONResponse

    from modules.api.routes import create_api

    router = create_api(app, pairs)
    http_app.include_router(router)
    from modules.api.extensions import include_registered

    include_registered(http_app, app, pairs)  # app.registry.api_routes: GET /extensions, extensions' routes
    http_app.add_middleware(ApiGuard)
    schema_cache: dict[str, Any] = {}

    async def on_user_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, UserError)
        return JSONResponse({"error": type(error).__name__, "detail": str(error)}, status_code=status_for(error))

    async def on_validation(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in error.errors()]
        return JSONResponse({"error": "ValidationError", "detail": errors, "message": validation_message(errors)},
                            status_code=422)

    http_app.add_exception_handler(UserError, on_user_error)
    http_app.add_exception_handler(RequestValidationError, on_validation)

    def guard(request: Request) -> None:
        if pairs and basic_auth_user(request, pairs) is None:
            raise HTTPException(401, detail=msg("api_auth_required"), headers={"WWW-Authenticate": "Basic"})

    async def openapi_json(request: Request) -> JSONResponse:
        guard(request)
        if "schema" not in schema_cache:
            schema_cache["schema"] = get_openapi(title=API_TITLE, version="1", routes=router.routes)
        return JSONResponse(schema_cache["schema"])

    async def docs(request: Request) -> HTMLResponse:
        guard(request)
        return HTMLResponse(_docs_page("/openapi.json"))

    http_app.add_api_route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
    http_app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
