"""The pytest plugin, as a user's test suite sees it (run inside `pytester`)."""
from __future__ import annotations

import socket

import pytest

from mockserver.core.images import load_opencv
from mockserver.providers import provider_classes
from mockserver.testing import free_port

pytest_plugins = ["pytester"]
# pytester's in-process runs drop modules first imported inside them; C extensions (numpy via
# the image pipeline) cannot be loaded twice, so import every provider's modules out here, and
# OpenCV, which an emulator's start warms up in a thread.
provider_classes()
load_opencv()

DASHSCOPE_HELPERS = '''
import httpx

BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
        "resources": [{"resource_id": "my-lora", "resource_type": "facelora"}]}

def submit(handle, key=None):
    headers = {"Authorization": f"Bearer {key or handle.api_key}", "X-DashScope-Async": "enable"}
    answer = httpx.post(handle.dashscope_base_url + "/services/aigc/album/gen_potrait",
                        json=BODY, headers=headers, trust_env=False)
    return answer
'''


# aiohttp runs on asyncio only; anyio's plugin would also try trio when it is installed.
ASYNCIO_ONLY = '''
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
'''


def run(pytester: pytest.Pytester, source: str, *, conftest: str = "") -> pytest.RunResult:
    pytester.makepyfile(helpers=DASHSCOPE_HELPERS)
    if conftest:
        pytester.makeconftest(conftest)
    pytester.makepyfile(test_user=source)
    return pytester.runpytest("-p", "no:cacheprovider", "-W", "error")


def test_handle_drives_the_clock_tasks_and_journal(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
import httpx
from helpers import submit

def test_task_lifecycle(portrait_mock):
    task_id = submit(portrait_mock).json()["output"]["task_id"]
    assert [t.id for t in portrait_mock.tasks("dashscope")] == [task_id]
    portrait_mock.advance(120)
    answer = portrait_mock.http.get(f"/api/v1/tasks/{task_id}", headers=portrait_mock.auth_headers)
    assert answer.json()["output"]["task_status"] == "SUCCEEDED"
    image = httpx.get(answer.json()["output"]["results"][0]["url"], trust_env=False)
    assert image.headers["content-type"] == "image/jpeg"
    seen = [(e.operation, e.status) for e in portrait_mock.requests("dashscope")]
    assert seen == [("query_task", 200), ("gen_potrait", 200)]
''')
    result.assert_outcomes(passed=1)


def test_state_is_reset_between_tests_on_one_shared_server(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
from helpers import submit

SEEN = []

def test_first(portrait_mock):
    SEEN.append(portrait_mock.base_url)
    submit(portrait_mock)
    portrait_mock.advance(1000)

def test_second(portrait_mock):
    assert SEEN == [portrait_mock.base_url]  # the same session server ...
    assert portrait_mock.tasks() == [] and portrait_mock.requests() == []  # ... reset
    assert portrait_mock.emulator.clock.offset == 0
''')
    result.assert_outcomes(passed=2)


def test_marker_gives_a_test_its_own_server_with_changed_settings(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
import pytest
from helpers import submit

@pytest.mark.portrait_mock(strict_auth=True, api_keys=["sk-known"], time_scale=50.0,
                           vendors={"dashscope": {"run_seconds": 5}})
def test_strict(portrait_mock):
    assert portrait_mock.settings.time_scale == 50.0
    assert submit(portrait_mock, "sk-unknown").status_code == 401
    assert submit(portrait_mock, "sk-known").status_code == 200
    assert submit(portrait_mock).status_code == 200  # the handle's own key is always listed
    assert portrait_mock.tasks()[0].run_seconds == 5

def test_default(portrait_mock):
    assert not portrait_mock.settings.strict_auth
    assert submit(portrait_mock, "sk-unknown").status_code == 200
''')
    result.assert_outcomes(passed=2)


def test_unknown_marker_option_is_a_clear_usage_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
import pytest

@pytest.mark.portrait_mock(time_scael=5)
def test_typo(portrait_mock):
    pass
''')
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown option(s) time_scael*"])


def test_schema_violations_fail_the_test_unless_allowed(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
import pytest

BROKEN = {"vendor": "dashscope", "problem": "made up for this test"}

def test_checked(portrait_mock):
    portrait_mock.schema_violations.append(BROKEN)

@pytest.mark.portrait_mock(check_schemas=False)
def test_allowed(portrait_mock):
    portrait_mock.schema_violations.append(BROKEN)
''')
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_checked*", "*made up for this test*"])


def test_session_settings_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    result = run(pytester, conftest='''
import pytest
from mockserver.settings import Settings

@pytest.fixture(scope="session")
def portrait_mock_settings():
    return Settings(validate_responses=True, limits_enabled=False)
''', source='''
from helpers import submit

def test_no_limits(portrait_mock):
    assert all(submit(portrait_mock).status_code == 200 for _ in range(5))  # QPS 2 is off
''')
    result.assert_outcomes(passed=1)


def test_faults_and_callbacks_are_exposed(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
from helpers import submit

def test_injected_error(portrait_mock):
    portrait_mock.add_fault(vendor="dashscope", effect="error", code="Throttling", times=1)
    assert submit(portrait_mock).json()["code"] == "Throttling"
    assert submit(portrait_mock).status_code == 200
    assert [e.injected for e in portrait_mock.requests()] == [False, True]

def test_failed_callback_is_recorded(portrait_mock):
    body = {"mode": "fast", "template": "male_portrait", "async": True,
            "image_urls": ["https://cdn.example.com/me.jpg"],
            "callback_url": "http://127.0.0.1:9/closed-port"}
    answer = portrait_mock.http.post(portrait_mock.acedata_base_url + "/headshots/generate",
                                     json=body, headers=portrait_mock.auth_headers)
    assert answer.status_code == 200, answer.text
    portrait_mock.advance(3600)
    portrait_mock.drain_callbacks()
    [record] = portrait_mock.callback_records("acedata")
    assert record["task_id"] == answer.json()["task_id"]
    assert record["attempts"] and record["delivered_at"] is None
''')
    result.assert_outcomes(passed=2)


def test_vendor_sdks_get_ready_settings(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
import json
from dashscope.client.base_api import BaseAsyncApi

def test_dashscope_sdk(portrait_mock):
    submitted = BaseAsyncApi.async_call(
        model="facechain-generation", input={}, task_group="aigc", task="album",
        function="gen_potrait", style="f_idcard_male", n=1,
        resources=[{"resource_id": "my-lora", "resource_type": "facelora"}],
        **portrait_mock.dashscope_kwargs)
    assert submitted.status_code == 200
    portrait_mock.advance(120)
    done = BaseAsyncApi.fetch(submitted, **portrait_mock.dashscope_kwargs)
    assert done.output["task_status"] == "SUCCEEDED"

def test_tencent_sdk(portrait_mock):
    from tencentcloud.aiart.v20221229 import models
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException)
    client = portrait_mock.tencent_client()
    query = models.QueryGlamPicJobRequest()
    query.from_json_string(json.dumps({"JobId": "no-such-job"}))
    try:
        client.QueryGlamPicJob(query)
    except TencentCloudSDKException as error:  # the signature passed; the job is unknown
        assert error.get_code() == "FailedOperation.JobNotExist"
    else:
        raise AssertionError("an unknown job must fail")
    assert portrait_mock.requests("tencent")[0].account == portrait_mock.tencent_secret[0]
''')
    result.assert_outcomes(passed=2)


def test_project_style_fixture_names_do_not_clash(pytester: pytest.Pytester) -> None:
    """A suite with its own `mock`, `server` and `settings` fixtures (like this project's)."""
    result = run(pytester, conftest='''
import pytest

@pytest.fixture
def settings():
    return "mine"

@pytest.fixture
def server():
    return "mine"

@pytest.fixture
def mock():
    return "mine"
''', source='''
def test_both(portrait_mock, mock, server, settings):
    assert (mock, server, settings) == ("mine", "mine", "mine")
    assert portrait_mock.settings.validate_responses
''')
    result.assert_outcomes(passed=1)


def test_inprocess_fixture_answers_the_real_hostnames(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
import httpx
from helpers import BODY

def test_unchanged_base_url(portrait_mock_inprocess):
    headers = {"Authorization": "Bearer sk-app", "X-DashScope-Async": "enable"}
    answer = httpx.post("https://dashscope.aliyuncs.com/api/v1/services/aigc/album/gen_potrait",
                        json=BODY, headers=headers)
    assert answer.status_code == 200
    assert portrait_mock_inprocess.dashscope_base_url == "https://dashscope.aliyuncs.com/api/v1"
    assert len(portrait_mock_inprocess.tasks("dashscope")) == 1
''')
    result.assert_outcomes(passed=1)


# --- in-process mode for every client, its options ---------------------------------------------


def test_inprocess_fixture_answers_the_sdks_requests_and_aiohttp(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
import aiohttp
import pytest
import requests
from dashscope.client.base_api import BaseAsyncApi

def test_sdk_over_requests(portrait_mock_inprocess):
    task = BaseAsyncApi.async_call(
        model="facechain-generation", input={}, task_group="aigc", task="album",
        function="gen_potrait", style="f_idcard_male",
        resources=[{"resource_id": "my-lora", "resource_type": "facelora"}], api_key="sk-app")
    assert task.status_code == 200
    assert portrait_mock_inprocess.tasks("dashscope")[0].account == "sk-app"

@pytest.mark.anyio
async def test_aiohttp(portrait_mock_inprocess):
    async with aiohttp.ClientSession() as session:
        async with session.get("https://api.gpt.ge/task/none",
                               headers={"Authorization": "Bearer sk-app"}) as answer:
            assert "status" in await answer.json()
''', conftest=ASYNCIO_ONLY)
    result.assert_outcomes(passed=2)


def test_block_other_hosts_from_the_marker_and_the_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nportrait_mock_block_other_hosts = true\n")
    result = run(pytester, '''
import pytest
import requests

def test_ini_blocks(portrait_mock_inprocess):
    with pytest.raises(requests.ConnectionError, match="example.com is not a vendor host"):
        requests.get("https://example.com/")

@pytest.mark.portrait_mock(block_other_hosts=False)
def test_marker_unblocks(portrait_mock_inprocess):
    assert not portrait_mock_inprocess.policy.block_other_hosts

@pytest.mark.portrait_mock(allow_loopback=False)
def test_loopback_too(portrait_mock_inprocess):
    with pytest.raises(requests.ConnectionError, match="keeps every other host off"):
        requests.get("http://127.0.0.1:9/")

@pytest.mark.portrait_mock(block_other_hosts=True)
def test_not_for_the_server(portrait_mock):
    pass
''')
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*block_other_hosts apply to portrait_mock_inprocess*"])


@pytest.mark.parametrize("marker, message", [
    ('vendors={"dashscop": {}}',
     "*unknown vendor 'dashscop' (did you mean dashscope?); vendors: acedata, dashscope, gptge, "
     "tencent*"),
    ('vendors={"dashscope": {"run_secs": 5}}',
     "*[[]vendors.dashscope[]] has no option 'run_secs' (did you mean run_seconds?); options: *"),
    ('vendors={"tencent": {"max_skew_seconds": "soon"}}',
     "*max_skew_seconds must be a finite number, not 'soon'*"),
    ('vendors=["dashscope"]', "*give a dict of vendor name -> {option: value}*"),
])
@pytest.mark.parametrize("fixture", ["portrait_mock", "portrait_mock_inprocess"])
def test_marker_vendor_options_are_checked(pytester: pytest.Pytester, marker: str, message: str,
                                           fixture: str) -> None:
    result = run(pytester, f'''
import pytest

@pytest.mark.portrait_mock({marker})
def test_bad({fixture}):
    pass
''')
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*UsageError: @pytest.mark.portrait_mock(vendors=...): " + message])


def port_source(port: int) -> str:
    return f'''
def test_fixed(portrait_mock):
    assert portrait_mock.base_url == "http://127.0.0.1:{port}"
'''


@pytest.mark.parametrize("given", ["option", "env", "ini"])
def test_session_server_on_a_fixed_port(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                        given: str) -> None:
    port = free_port()
    pytester.makepyfile(test_port=port_source(port))
    args = ["-p", "no:cacheprovider"]
    if given == "option":
        args.append(f"--portrait-mock-port={port}")
    elif given == "env":
        monkeypatch.setenv("PORTRAIT_MOCK_PORT", str(port))
    else:
        pytester.makeini(f"[pytest]\nportrait_mock_port = {port}\n")
    pytester.runpytest(*args).assert_outcomes(passed=1)


def test_a_busy_fixed_port_is_a_one_line_usage_error(pytester: pytest.Pytester) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        pytester.makepyfile(test_port=port_source(port))
        result = pytester.runpytest("-p", "no:cacheprovider", f"--portrait-mock-port={port}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        f"ERROR: --portrait-mock-port {port}: port {port} on 127.0.0.1 is in use; free it or "
        "choose another"]


@pytest.mark.parametrize("value", ["eighty", "9000-8000", "0", "70000"])
def test_a_bad_port_value_is_a_usage_error(pytester: pytest.Pytester, value: str) -> None:
    pytester.makepyfile(test_port=port_source(1))
    result = pytester.runpytest("-p", "no:cacheprovider", f"--portrait-mock-port={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not a port (8000) or a range of ports (8000-8010)" in result.stderr.str()


def test_a_port_range_serves_the_session_and_the_markers_own_servers(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:  # the range's first port is taken: it is skipped
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        first = busy.getsockname()[1]
        last = min(first + 40, 65535)
        monkeypatch.setenv("PORTRAIT_MOCK_PORT", f"{first}-{last}")
        result = run(pytester, f'''
import pytest
from urllib.parse import urlsplit

PORTS = []

def test_session(portrait_mock):
    PORTS.append(urlsplit(portrait_mock.base_url).port)

@pytest.mark.portrait_mock(time_scale=2.0)
def test_own(portrait_mock):
    PORTS.append(urlsplit(portrait_mock.base_url).port)
    assert all({first} < port <= {last} for port in PORTS), PORTS
    assert len(set(PORTS)) == 2
''')
    result.assert_outcomes(passed=2)
