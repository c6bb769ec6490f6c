"""A vendor reply becomes the response Starlette would build for it: the encoded-JSON fast path
writes the same status, header lines (and order) and body as `starlette.responses.Response`."""
from __future__ import annotations

import pytest
from starlette.responses import Response

from mockserver.web import EncodedJSON, Reply


@pytest.mark.parametrize("status", [200, 201, 202, 400, 401, 404, 429, 500, 503])
@pytest.mark.parametrize("body", [{"ok": True}, {"text": "肖像"}, [], "plain"])
def test_a_json_reply_answers_as_starlette_would(status: int, body: object) -> None:
    reply = Reply(status, body)
    fast = reply.to_response()
    assert isinstance(fast, EncodedJSON)
    starlette = Response(reply.encode(), status, None, media_type="application/json")
    assert (fast.status_code, fast.raw_headers, fast.body) == (
        starlette.status_code, starlette.raw_headers, starlette.body)
    assert dict(fast.headers) == dict(starlette.headers)


@pytest.mark.parametrize("reply", [
    Reply(200, {"a": 1}, headers={"x-request-id": "r1"}),  # headers of its own
    Reply(204, {}),  # no length on 204 and 304, as Starlette decides
    Reply(200, b"\x89PNG", media_type="image/png"),
    Reply(200, "<p>hi</p>", media_type="text/html"),  # Starlette adds the charset
])
def test_other_replies_go_through_starlettes_response(reply: Reply) -> None:
    response = reply.to_response()
    assert not isinstance(response, EncodedJSON)
    expected = Response(reply.encode(), reply.status, reply.headers or None,
                        media_type=reply.media_type)
    assert response.raw_headers == expected.raw_headers
