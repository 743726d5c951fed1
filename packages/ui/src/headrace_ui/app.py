"""The ASGI application: Starlette routes over :mod:`headrace_ui.queries`,
:mod:`headrace_ui.artifacts` and :mod:`headrace_ui.comparisons`, pages from Jinja2 templates.

Read-only: every route is a GET, and nothing here writes to the store or the pipeline root.
Every value from the store reaches a page through Jinja2's autoescaping or, for the graphs,
as JSON in a ``<script type="application/json">`` block (``tojson`` escapes ``<``, ``>``,
``&`` and quotes); the Content-Security-Policy allows scripts from this server only, so
markup planted in a node id or an error text can neither run nor load anything.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from headrace_core.metadata import custom
from headrace_ui import artifacts, comparisons, queries
from headrace_ui.pages import PageError, render, templates_environment
from headrace_ui.store import StoreAccess, StoreProblemError

__all__ = ["LIVE_INTERVAL_S", "create_app"]

#: How often the live run page's event stream looks at the run's executions.
LIVE_INTERVAL_S = 1.0
#: A stream ends after this long even if the run never finishes (a killed runner): the
#: browser's EventSource reconnects if the page is still open.
_STREAM_LIMIT_S = 600.0
_STATIC = os.path.join(os.path.dirname(__file__), "static")

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
# A component's HTML view: its own styles, no scripts, nothing from anywhere.
_VIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise PageError(400, f"{name} must be a number, got {value!r}") from None


def _param(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise PageError(400, f"missing query parameter {name!r}")
    return value


class _Handlers:
    def __init__(self, access: StoreAccess) -> None:
        self.access = access
        self.env = templates_environment()
        self._views: dict[int, str | None] = {}

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        html = render(self.env, template, request=request, store_url=self.access.shown, **context)
        return HTMLResponse(html, status_code=status)

    def _run(self, request: Request) -> Any:
        pipeline, run_id = _param(request, "pipeline"), _param(request, "run")
        ctx = queries.run_context(self.access.get(), pipeline, run_id)
        if ctx is None:
            raise PageError(404, f"no run {run_id!r} of pipeline {pipeline!r} in the store")
        return ctx

    # Pages ---------------------------------------------------------------------------------

    def index(self, request: Request) -> Response:
        return self.page(request, "index.html", pipelines=queries.pipelines(self.access.get()))

    def runs(self, request: Request) -> Response:
        pipeline = _param(request, "pipeline")
        page = queries.runs_page(
            self.access.get(),
            pipeline,
            status=request.query_params.get("status") or None,
            before=_int(request, "before"),
        )
        return self.page(request, "runs.html", page=page, statuses=queries.RUN_STATUSES)

    def run(self, request: Request) -> Response:
        store = self.access.get()
        graph = queries.run_graph(store, self._run(request))
        selected = request.query_params.get("node")
        return self.page(request, "run.html", run=graph, selected=selected)

    def node(self, request: Request) -> Response:
        store = self.access.get()
        ctx = self._run(request)
        node_id = _param(request, "node")
        detail = queries.node_detail(store, ctx, node_id)
        if detail is None:
            raise PageError(404, f"run {custom(ctx, 'run_id')!r} has no node {node_id!r}")
        if detail.get("cached_from"):
            detail["cached_link"] = queries.execution_link(store, int(detail["cached_from"]))
        partial = request.query_params.get("partial") == "1"
        return self.page(request, "node.html", node=detail, partial=partial)

    def execution(self, request: Request) -> Response:
        execution_id = _int(request, "id")
        link = queries.execution_link(self.access.get(), execution_id or 0)
        if link is None:
            raise PageError(404, f"no execution {execution_id} in the store")
        return RedirectResponse(
            str(
                request.url_for("run").include_query_params(
                    pipeline=link["pipeline"], run=link["run_id"], node=link["node_id"]
                )
            ),
            status_code=303,
        )

    def artifact(self, request: Request) -> Response:
        artifact_id = _int(request, "id")
        detail = artifacts.artifact_detail(self.access.get(), artifact_id or 0)
        if detail is None:
            raise PageError(404, f"no artifact {artifact_id} in the store")
        self._views[detail["id"]] = detail["view"]["html_path"]
        return self.page(request, "artifact.html", artifact=detail)

    def artifact_view(self, request: Request) -> Response:
        """The component's own HTML view of an artifact, for the artifact page's iframe.
        Only the file its registered viewer names is ever served."""
        artifact_id = _int(request, "id") or 0
        if artifact_id not in self._views:
            store = self.access.get()
            found = store.artifacts([artifact_id])
            if not found:
                raise PageError(404, f"no artifact {artifact_id} in the store")
            self._views[artifact_id] = artifacts.viewer_summary(store, found[0])["html_path"]
        path = self._views[artifact_id]
        if not path or not os.path.isfile(path):
            raise PageError(404, f"artifact {artifact_id} has no HTML view")
        return FileResponse(
            path,
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": _VIEW_CSP},
        )

    def lineage(self, request: Request) -> Response:
        store = self.access.get()
        artifact_id, execution_id = _int(request, "artifact"), _int(request, "execution")
        if artifact_id is None and execution_id is None:
            raise PageError(400, "give ?artifact=ID or ?execution=ID")
        graph = artifacts.lineage_graph(store, artifact_id=artifact_id, execution_id=execution_id)
        if graph is None:
            what = (
                f"artifact {artifact_id}"
                if artifact_id is not None
                else f"execution {execution_id}"
            )
            raise PageError(404, f"no {what} in the store")
        return self.page(request, "lineage.html", graph=graph)

    def compare(self, request: Request) -> Response:
        store = self.access.get()
        pipeline = _param(request, "pipeline")
        a, b = request.query_params.get("a"), request.query_params.get("b")
        recent = queries.runs_page(store, pipeline, limit=50)["runs"]
        if not a or not b:
            return self.page(request, "compare.html", pipeline=pipeline, recent=recent, diff=None)
        ctx_a = queries.run_context(store, pipeline, a)
        ctx_b = queries.run_context(store, pipeline, b)
        for run_id, ctx in ((a, ctx_a), (b, ctx_b)):
            if ctx is None:
                raise PageError(404, f"no run {run_id!r} of pipeline {pipeline!r} in the store")
        diff = comparisons.compare_runs(store, ctx_a, ctx_b)
        return self.page(request, "compare.html", pipeline=pipeline, recent=recent, diff=diff)

    def evaluations(self, request: Request) -> Response:
        store = self.access.get()
        a, b = _int(request, "a"), _int(request, "b")
        found = {x.id: x for x in store.artifacts([i for i in (a, b) if i is not None])}
        if a not in found or b not in found:
            raise PageError(404, f"give two evaluation artifacts: ?a=ID&b=ID (got {a}, {b})")
        table = comparisons.compare_evaluations(store, found[a], found[b])
        return self.page(request, "evaluations.html", table=table)

    def models(self, request: Request) -> Response:
        pipeline = _param(request, "pipeline")
        history = comparisons.model_history(self.access.get(), pipeline)
        if history is None:
            raise PageError(404, f"no pipeline {pipeline!r} in the store")
        return self.page(request, "models.html", history=history)

    # Live updates --------------------------------------------------------------------------

    async def events(self, request: Request) -> Response:
        """Server-sent events: the run's node statuses whenever they change, until the run
        is over (then one ``done`` event)."""
        from starlette.concurrency import run_in_threadpool

        ctx = await run_in_threadpool(self._run, request)
        store = self.access.get()
        nodes = json.loads(custom(ctx, "nodes", "[]") or "[]")

        async def stream() -> AsyncIterator[str]:
            last = None
            waited = 0.0
            while waited < _STREAM_LIMIT_S:
                state = await run_in_threadpool(queries.run_statuses, store, ctx.id, nodes)
                if state != last:
                    yield f"event: status\ndata: {json.dumps(state)}\n\n"
                    last = state
                if state["run_status"] != "running":
                    yield "event: done\ndata: {}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(LIVE_INTERVAL_S)
                waited += LIVE_INTERVAL_S

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def health(self, request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")


def create_app(metadata_url: str, *, debug: bool = False) -> Starlette:
    """The application over the store at ``metadata_url`` (a missing store is a page that
    says so, not a start-up error: the store may appear once a pipeline runs)."""
    access = StoreAccess(metadata_url)
    h = _Handlers(access)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            try:
                if asyncio.iscoroutinefunction(handler):
                    response: Response = await handler(request)
                else:
                    response = await run_in_threadpool(handler, request)
            except StoreProblemError as e:
                access.close()
                return h.page(request, "problem.html", 503, title=e.title, detail=e.detail)
            except PageError as e:
                return h.page(request, "problem.html", e.status, title=e.title, detail=e.detail)
            return response

        return endpoint

    routes = [
        Route("/", guarded(h.index), name="index"),
        Route("/runs", guarded(h.runs), name="runs"),
        Route("/run", guarded(h.run), name="run"),
        Route("/node", guarded(h.node), name="node"),
        Route("/events", guarded(h.events), name="events"),
        Route("/execution", guarded(h.execution), name="execution"),
        Route("/artifact", guarded(h.artifact), name="artifact"),
        Route("/artifact/view", guarded(h.artifact_view), name="artifact_view"),
        Route("/lineage", guarded(h.lineage), name="lineage"),
        Route("/compare", guarded(h.compare), name="compare"),
        Route("/evaluations", guarded(h.evaluations), name="evaluations"),
        Route("/models", guarded(h.models), name="models"),
        Route("/healthz", h.health, name="health"),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
    ]
    app = Starlette(debug=debug, routes=routes, middleware=[Middleware(_SecurityHeaders)])
    app.state.store = access
    return app


class _SecurityHeaders:
    """Pure ASGI (it must not buffer the event stream): headers on every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = _CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "SAMEORIGIN"
            await send(message)

        await self.app(scope, receive, send_with_headers)
