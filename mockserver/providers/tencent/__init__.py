"""Tencent Cloud AI Art (aiart 2022-12-29) GlamPic jobs, seed 002 and vendors.md section 2."""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.input_checks import InputChecks, needs_check
from ...core.render import content_type, render_image
from ...core.tasks import State, Task, Timing
from ..base import Provider, ResultFile
from .inputs import verdict

if TYPE_CHECKING:
    from ...runtime import Emulator
    from ...web import Call, Reply

HOUR = 3600.0
DAY = 24 * HOUR
# Regions named on the aiart endpoint page (Guangzhou, Shanghai, Nanjing, Beijing); the
# southwest and Hong Kong entries are INFERRED. `[vendors.tencent] regions = []` accepts any.
DEFAULT_REGIONS = ("ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu",
                   "ap-chongqing", "ap-hongkong", "ap-singapore")
ENGLISH = "en-US"


class _Blank(dict[str, str]):
    """format_map() helper: a placeholder nobody filled in renders empty, never KeyError."""

    def __missing__(self, key: str) -> str:
        return ""


class Tencent(Provider):
    name = "tencent"
    title = "Tencent Cloud AI Art GlamPic"
    prefixes = ()  # the API lives at "/" exactly; claiming "/" would swallow every path
    bad_request_code = "InvalidParameter"
    internal_error_code = "InternalError"
    # Jobs an account may have waiting ("1"); INFERRED 10 (option `max_queued`).
    default_max_queued = 10
    queue_full_code = "RequestLimitExceeded.JobNumExceed"
    not_found_code = "InvalidAction"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.english = {code: e["message_en"] for code, e in self.catalogue.raw.items()
                        if "message_en" in e}
        self.inputs = InputChecks(emulator.store, lambda task: verdict(self, task))
        emulator.shutdown.append(self.inputs.close)

    # --- options -------------------------------------------------------------------------

    @property
    def credentials(self) -> Mapping[str, str]:
        return self.emulator.settings.tencent_credentials

    @property
    def max_skew(self) -> float | None:
        """Allowed |X-TC-Timestamp - mock clock| in seconds (DOC: 5 minutes); <= 0 disables."""
        skew = float(self.option("max_skew_seconds", 300.0))  # type: ignore[arg-type]
        return skew if skew > 0 else None

    def skew_references(self, mock_now: float) -> tuple[float, ...]:
        """The times a request's X-TC-Timestamp is compared with (`skew_clock` option).

        "either" (default): within 5 minutes of the mock's clock or of the wall clock, because
        the SDK signs with the wall clock while tests move the mock's clock on; a stale
        signature is still refused. "mock" or "wall" compare with that clock only.
        """
        choice = self.option("skew_clock", "either")
        if choice == "mock":
            return (mock_now,)
        if choice == "wall":
            return (time.time(),)
        return (mock_now, time.time())

    @property
    def regions(self) -> frozenset[str]:
        return frozenset(self.option("regions", DEFAULT_REGIONS))  # type: ignore[arg-type]

    @property
    def max_body_bytes(self) -> int:
        return int(self.option("max_body_bytes", 10 * 1024 * 1024))  # type: ignore[call-overload]

    @property
    def result_ttl(self) -> float:
        """Result URLs are valid 1 hour (DOC), counted from the job's end (INFERRED)."""
        return float(self.option("result_ttl_seconds", HOUR))  # type: ignore[arg-type]

    def job_timing(self) -> Timing:
        """Durations INFERRED; one job processing at a time per account is documented."""
        return self.timing(queue=2.0, run=30.0, ttl=DAY, concurrency=1)

    # --- tasks ---------------------------------------------------------------------------

    # --- Provider interface --------------------------------------------------------------

    def message(self, code: str, default: str, language: str | None) -> str:
        """X-TC-Language: en-US picks the English text where the catalogue has one."""
        if language == ENGLISH:
            return self.english.get(code, default)
        return default

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        from ...web import Reply

        entry = self.catalogue.resolve(error)
        language = call.request.headers.get("x-tc-language") if call else None
        text = entry.message if error.message is not None else self.message(
            entry.code, entry.message, language)
        text = text.format_map(_Blank(getattr(error, "params", {})))
        body = {"Response": {"Error": {"Code": entry.code, "Message": text},
                             "RequestId": call.request_id if call else uuid4()}}
        return Reply(200, body, "tencent/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        endpoint = base_url.split("://", 1)[-1]
        return (f"HttpProfile(endpoint='{endpoint}', protocol='http') with "
                f"Credential('AKIDmock', 'mock-secret')")

    def result_names(self, task: Task) -> list[str]:
        return [f"{index}.jpg" for index in range(task.data.get("num", 0))]

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        index, _, ext = name.partition(".")
        if task.vendor != self.name or ext != "jpg" or not index.isdigit():
            return None
        if int(index) >= task.data.get("num", 0):
            return None
        if needs_check(task) or task.state_at(self.emulator.clock.now()) is not State.SUCCEEDED:
            return None
        assert task.end_at is not None
        data = task.data
        lines = ("GlamPic", f"style: {data['styles'][int(index)]}", f"logo: {data['logo']}",
                 f"{task.id[:16]} #{index}")
        image = render_image(f"{task.id}/{index}", data["width"], data["height"], "jpg", lines)
        return ResultFile(image, content_type("jpg"), task.end_at + self.result_ttl)
