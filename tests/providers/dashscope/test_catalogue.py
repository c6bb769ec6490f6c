"""Every code in DashScope's catalogue reaches the official SDK with its documented HTTP status,
code and message. Codes with a natural trigger are tested where that trigger lives; here each
one is produced by an injected fault, which renders through the same vendor envelope."""
from __future__ import annotations

import json

import httpx
import pytest
from dashscope.client.base_api import BaseAsyncApi

from mockserver.core.schemas import schemas_root

CATALOGUE = json.loads((schemas_root() / "dashscope" / "catalogue.json").read_text("utf-8"))
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]


# Another spelling a vendor source uses names the same entry and answers the entry's code.
ALIASES = {alias: code for code, e in CATALOGUE["errors"].items() for alias in e.get("aliases", ())}


@pytest.mark.parametrize("code", sorted(CATALOGUE["errors"]) + sorted(ALIASES))
def test_catalogue_code_reaches_the_sdk(server, code: str) -> None:
    rule = {"vendor": "dashscope", "operation": "gen_potrait", "effect": "error", "code": code,
            "times": 1}
    added = httpx.post(f"{server.base_url}/__admin/faults", json=rule)
    assert added.status_code == 201, added.text
    answer = BaseAsyncApi.async_call(
        model="facechain-generation", input={}, task_group="aigc", task="album",
        function="gen_potrait", api_key="sk-catalogue", base_address=f"{server.base_url}/api/v1",
        resources=LORA, style="f_idcard_male", n=1)
    answered = ALIASES.get(code, code)
    entry = CATALOGUE["errors"][answered]
    assert (answer.status_code, answer.code, answer.message) == (
        entry["status"], answered, entry["message"])
    assert answer.request_id
