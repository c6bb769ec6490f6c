"""DashScope as its current references describe it, and the older seed 004 one option away."""
from __future__ import annotations

from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.settings import Settings

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
KEY = {"Authorization": "Bearer sk-alice", "X-DashScope-Async": "enable"}
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]
PRESET: dict[str, Any] = {"model": "facechain-generation",
                          "parameters": {"style": "f_idcard_female", "n": 2}, "resources": LORA}
MISSING_MODEL = 'Required parameter "model" missing from request.'


async def submit(mock, body: dict[str, Any] = PRESET) -> str:
    answer = await mock.client.post(SUBMIT, json=body, headers=KEY)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["task_id"])


async def query(mock, task_id: str) -> dict[str, Any]:
    answer = await mock.client.get(f"/api/v1/tasks/{task_id}", headers=KEY)
    return dict(answer.json())


async def fail_next_task(mock, code: str) -> None:
    rule = {"vendor": "dashscope", "effect": "fail_task", "code": code, "times": 1}
    assert (await mock.client.post("/__admin/faults", json=rule)).status_code == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({k: v for k, v in PRESET.items() if k != "model"}, MISSING_MODEL),
        ({**PRESET, "model": None}, MISSING_MODEL),
        ({**PRESET, "model": ""}, MISSING_MODEL),
        ({**PRESET, "model": "wanx-v1"}, "Model not exist."),
    ],
)
async def test_missing_and_wrong_models(mock, body, message) -> None:
    answer = await mock.client.post(SUBMIT, json=body, headers=KEY)
    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["message"]) == ("InvalidParameter", message)


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
async def test_skin_retouch_must_be_a_boolean(mock, value) -> None:
    body = {**PRESET, "parameters": {**PRESET["parameters"], "skin_retouch": value}}
    answer = await mock.client.post(SUBMIT, json=body, headers=KEY)
    assert (answer.status_code, answer.json()["code"]) == (400, "InvalidParameter")


async def test_skin_retouch_is_kept_with_the_task(mock) -> None:
    off = await submit(mock, {**PRESET, "parameters": {**PRESET["parameters"],
                                                       "skin_retouch": False}})
    await mock.advance(1)
    default = await submit(mock)
    kept = mock.emulator.store.get_task(off)
    assert kept.request["parameters"]["skin_retouch"] is False
    assert kept.data["skin_retouch"] is False
    assert mock.emulator.store.get_task(default).data["skin_retouch"] is True


async def test_succeeded_answers_carry_task_metrics(mock) -> None:
    task_id = await submit(mock)
    await mock.advance(60)
    output = (await query(mock, task_id))["output"]
    assert output["task_status"] == "SUCCEEDED"
    assert output["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0}


async def test_failed_answers_use_image_count_and_the_dot_spelling(mock) -> None:
    await fail_next_task(mock, "InternalError:Algo")  # the seed's spelling names the same code
    task_id = await submit(mock)
    await mock.advance(60)
    body = await query(mock, task_id)
    assert (body["output"]["code"], body["usage"]) == ("InternalError.Algo", {"image_count": 0})


@pytest.mark.parametrize(("code", "message"), [
    ("AccessDenied", "Access denied."),
    ("DataInspectionFailed", "Input or output data may contain inappropriate content."),
])
async def test_catalogue_texts_of_the_status_code_page(mock, code, message) -> None:
    rule = {"vendor": "dashscope", "effect": "error", "code": code, "times": 1}
    await mock.client.post("/__admin/faults", json=rule)
    answer = await mock.client.post(SUBMIT, json=PRESET, headers=KEY)
    assert (answer.json()["code"], answer.json()["message"]) == (code, message)
    no_async = await mock.client.post(SUBMIT, json=PRESET,
                                      headers={"Authorization": "Bearer sk-alice"})
    assert no_async.json()["message"] == "current user api does not support synchronous calls"


class TestSeedWording:
    """`failed_usage_key = "image_num"` and `algo_error_code = "InternalError:Algo"`: seed 004."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, vendors={"dashscope": {
            "failed_usage_key": "image_num", "algo_error_code": "InternalError:Algo"}})

    async def test_failed_view_and_injected_errors_use_the_seed_spelling(self, mock) -> None:
        await fail_next_task(mock, "InternalError.Algo")
        task_id = await submit(mock)
        await mock.advance(60)
        body = await query(mock, task_id)
        assert (body["output"]["code"], body["usage"]) == ("InternalError:Algo", {"image_num": 0})
        rule = {"vendor": "dashscope", "effect": "error", "code": "InternalError.Algo", "times": 1}
        await mock.client.post("/__admin/faults", json=rule)
        answer = await mock.client.post(SUBMIT, json=PRESET, headers=KEY)
        assert (answer.status_code, answer.json()["code"]) == (500, "InternalError:Algo")


@pytest.mark.parametrize(("options", "named"), [
    ({"failed_usage_key": "images"}, "failed_usage_key"),
    ({"algo_error_code": "InternalError-Algo"}, "algo_error_code"),
    ({"face_error_code": "NoSuchCode"}, "face_error_code"),
])
def test_a_bad_option_stops_the_start_with_one_line(options, named) -> None:
    with pytest.raises(ValueError) as refused:
        create_app(Settings(vendors={"dashscope": options}))
    assert named in str(refused.value) and "\n" not in str(refused.value)
