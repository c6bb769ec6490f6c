"""The floor of this stack: a bare Starlette app on uvicorn with uvloop and httptools.

A GET route answering a small JSON body, a POST route that reads and parses a JSON body and
answers a small JSON body, and the health path the harness polls. No logic at all.

    python bench/bare_app.py PORT
"""
from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def query(request: Request) -> JSONResponse:
    return JSONResponse({"request_id": "floor", "output": {
        "task_id": request.path_params["task_id"], "task_status": "RUNNING"}})


async def submit(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"request_id": "floor", "output": {
        "task_id": str(len(body)), "task_status": "PENDING"}})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[
    Route("/api/v1/tasks/{task_id}", query),
    Route("/api/v1/services/aigc/album/gen_potrait", submit, methods=["POST"]),
    Route("/__admin/health", health),
])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
                log_level="warning", access_log=False)
