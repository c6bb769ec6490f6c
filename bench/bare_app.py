"""The baseline: a bare Starlette app answering the same JSON bodies as the mock, no logic."""
from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

QUERY_BODY, SUBMIT_BODY = (arg.encode() for arg in sys.argv[2:4])


async def query(request: Request) -> Response:
    return Response(QUERY_BODY, media_type="application/json")


async def submit(request: Request) -> Response:
    await request.body()
    return Response(SUBMIT_BODY, media_type="application/json")


async def health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[
    Route("/api/v1/tasks/{task_id}", query),
    Route("/api/v1/services/aigc/album/gen_potrait", submit, methods=["POST"]),
    Route("/__admin/health", health),
])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
