"""GlamPic input images: accepted at submit, checked by the job, which fails with the code."""
from __future__ import annotations

import pytest

from mockserver.settings import Settings
from mockserver.testing import fixture_url

pytestmark = pytest.mark.anyio


def job(api, template: str, users: list[str]) -> dict:
    base = api.mock.base_url
    return {"TemplateUrl": fixture_url(base, template), "Num": 1,
            "FaceInfos": [{"ImageUrls": [fixture_url(base, u)]} for u in users]}


async def finished(api, mock, params: dict) -> dict:
    job_id = await api.submit(params)
    await mock.advance(60)
    return await api.query(job_id)


@pytest.mark.parametrize(
    ("template", "users", "code"),
    [
        ("six_faces.jpg", ["face.jpg"], "InvalidParameter.InvalidParameter"),
        ("template.jpg", ["face.jpg", "face.jpg"], "InvalidParameter.InvalidParameter"),
        ("tiny.jpg", ["face.jpg"], "InvalidParameterValue.ParameterValueError"),
        ("huge.jpg", ["face.jpg"], "FailedOperation.ImageResolutionExceed"),
        ("corrupt.jpg", ["face.jpg"], "FailedOperation.ImageDecodeFailed"),
        ("template.jpg", ["missing.jpg"], "FailedOperation.DownloadError"),
        ("template.jpg", ["no_face.jpg"], "InvalidParameter.InvalidParameter"),
    ],
)
async def test_image_problems_fail_the_job(api, mock, template, users, code) -> None:
    done = await finished(api, mock, job(api, template, users))
    assert (done["JobStatusCode"], done["JobErrorCode"]) == ("4", code)
    assert done["JobErrorMsg"] and done["ResultImage"] == []


async def test_two_users_on_a_two_face_template_and_multi_face_user_photos(api, mock) -> None:
    done = await finished(api, mock, job(api, "two_faces.jpg", ["face.jpg", "two_faces.jpg"]))
    assert done["JobStatusCode"] == "5" and len(done["ResultImage"]) == 1


async def test_a_download_failure_reads_as_the_query_reference_shows(api, mock) -> None:
    done = await finished(api, mock, job(api, "missing.jpg", ["face.jpg"]))
    assert (done["JobErrorCode"], done["JobErrorMsg"]) == (
        "FailedOperation.DownloadError", "文件下载失败。")


class TestOlderDownloadErrorCode:
    """`download_error_code` selects the SDK errorcodes.py code the mock answered before."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, vendors={"tencent": {
            "download_error_code": "FailedOperation.ImageDownloadError"}})

    async def test_download_failure_uses_the_chosen_code(self, api, mock) -> None:
        done = await finished(api, mock, job(api, "template.jpg", ["missing.jpg"]))
        assert (done["JobErrorCode"], done["JobErrorMsg"]) == (
            "FailedOperation.ImageDownloadError", "图片下载错误。")
        decode = await finished(api, mock, job(api, "corrupt.jpg", ["face.jpg"]))
        assert decode["JobErrorCode"] == "FailedOperation.ImageDecodeFailed"


def test_an_unknown_download_error_code_is_refused_in_one_line() -> None:
    from mockserver.emulator import Emulator

    with pytest.raises(ValueError, match=r"^\[vendors.tencent\] download_error_code must be "
                                         r"one of FailedOperation.DownloadError, "):
        Emulator(Settings(vendors={"tencent": {"download_error_code": "Oops"}}))
