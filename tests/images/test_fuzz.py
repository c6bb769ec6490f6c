"""Property: whatever bytes arrive as an input image, through whichever door each vendor offers
(AceData base64 / data: URI / URL, DashScope and Tencent template or user URL, gpt.ge upload or
URL), the
answer is one of the vendor's documented answers, every code is in its catalogue, every body
matches its schema (the fixture fails the test otherwise), and it comes within DEADLINE.

The bytes are random, or synthetic pictures of random size and format, or such pictures and a
few fixtures mutated (truncated, bytes flipped or inserted, runs zeroed), or PNG headers that
claim any size up to 2^31 - 1 on a side.
"""
from __future__ import annotations

import base64
import io
import itertools

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from .conftest import ByteServer, LoopedVendors, fixture_bytes, png_claiming

FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")
# Small fixtures only: a found face makes gpt.ge render a photo, which costs time per pixel.
SEEDS = tuple(fixture_bytes(name) for name in ("tiny.jpg", "corrupt.jpg", "bomb.png"))
CONTENT_TYPES = ("image/jpeg", "image/png", "application/octet-stream", "", "text/plain",
                 "application/json")
FUZZ = {"deadline": None, "database": None, "suppress_health_check": [
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]}
_keys = itertools.count()


@st.composite
def pictures(draw: st.DrawFn) -> bytes:
    """A noisy gradient of random size, mode and format, encoded by Pillow."""
    width, height = draw(st.integers(1, 640)), draw(st.integers(1, 640))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, draw(st.sampled_from([0, 8, 64])), (height, width, 3))
    pixels = np.clip(ramp + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).convert(draw(st.sampled_from(["RGB", "L"])))
    out = io.BytesIO()
    image.save(out, draw(st.sampled_from(FORMATS)))
    return out.getvalue()


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        how = draw(st.sampled_from(["truncate", "flip", "insert", "zero"]))
        if how == "truncate":
            del data[at:]
        elif how == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            end = at + draw(st.integers(1, 256))
            data[at:end] = bytes(len(data[at:end]))
    return bytes(data)


IMAGE_BYTES = st.one_of(
    st.binary(max_size=2048),
    pictures(),
    mutated(pictures()),
    mutated(st.sampled_from(SEEDS)),
    st.builds(png_claiming, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)),
)


def serve(server: ByteServer, data: bytes, content_type: str) -> str:
    """A fresh URL per example: the fetcher caches by URL."""
    return server.put(f"fuzz-{next(_keys)}", data, content_type)


# An empty base64 string is an empty item: the request's shape is refused at submit.
ACEDATA_ANSWERS = {"ok", "failed api_error: fetch failed", "failed api_error: invalid image",
                   "submit 400 bad_request"}


@settings(max_examples=40, **FUZZ)
@given(data=IMAGE_BYTES, door=st.sampled_from(["base64", "url-safe", "data", "url"]),
       content_type=st.sampled_from(CONTENT_TYPES))
def test_acedata_documented_answers(looped: LoopedVendors, byte_server: ByteServer,
                                    data: bytes, door: str, content_type: str) -> None:
    encoded = base64.b64encode(data).decode("ascii")
    ref = {"base64": encoded,
           "url-safe": base64.urlsafe_b64encode(data).decode("ascii").rstrip("="),
           "data": f"data:{content_type or 'image/png'};base64,{encoded}",
           "url": serve(byte_server, data, content_type)}[door]
    answer = looped.run(looped.vendors.acedata(ref))
    event(answer)  # --hypothesis-show-statistics shows how the answers spread
    assert answer in ACEDATA_ANSWERS


DASHSCOPE_ANSWERS = {"ok"} | {f"FAILED {code}" for code in (
    "InvalidURL", "InvalidParameter", "InvalidImageResolution", "InternalError.Algo")}


@settings(max_examples=20, **FUZZ)
@given(data=IMAGE_BYTES, as_template=st.booleans(),
       content_type=st.sampled_from(CONTENT_TYPES))
def test_dashscope_documented_answers(looped: LoopedVendors, byte_server: ByteServer,
                                      data: bytes, as_template: bool, content_type: str) -> None:
    vendors = looped.vendors
    url = serve(byte_server, data, content_type)
    if as_template:
        job = vendors.dashscope(user=vendors.fixture_url("face.jpg"), template=url)
    else:
        job = vendors.dashscope(user=url, template=vendors.fixture_url("template.jpg"))
    answer = looped.run(job)
    event(answer)
    assert answer in DASHSCOPE_ANSWERS


GPTGE_ANSWERS = {"ok", "state -1", "state -3", "state -5", "state -7", "submit 400"}


@settings(max_examples=15, **FUZZ)
@given(data=IMAGE_BYTES, upload=st.booleans(), content_type=st.sampled_from(CONTENT_TYPES))
def test_gptge_documented_answers(looped: LoopedVendors, byte_server: ByteServer,
                                  data: bytes, upload: bool, content_type: str) -> None:
    vendors = looped.vendors
    if upload:
        job = vendors.gptge(upload=data)
    else:
        job = vendors.gptge(url=serve(byte_server, data, content_type))
    answer = looped.run(job)
    event(answer)
    assert answer in GPTGE_ANSWERS


TENCENT_ANSWERS = {"ok"} | {f"FAILED {code}" for code in (
    "FailedOperation.DownloadError", "FailedOperation.ImageSizeExceed",
    "FailedOperation.ImageDecodeFailed", "FailedOperation.ImageResolutionExceed",
    "InvalidParameterValue.ParameterValueError", "InvalidParameter.InvalidParameter")}


@settings(max_examples=15, **FUZZ)
@given(data=IMAGE_BYTES, as_template=st.booleans(),
       content_type=st.sampled_from(CONTENT_TYPES))
def test_tencent_documented_answers(looped: LoopedVendors, byte_server: ByteServer,
                                    data: bytes, as_template: bool, content_type: str) -> None:
    vendors = looped.vendors
    url = serve(byte_server, data, content_type)
    if as_template:
        job = vendors.tencent(template=url, users=[vendors.fixture_url("face.jpg")])
    else:
        job = vendors.tencent(template=vendors.fixture_url("template.jpg"), users=[url])
    answer = looped.run(job)
    event(answer)
    assert answer in TENCENT_ANSWERS
