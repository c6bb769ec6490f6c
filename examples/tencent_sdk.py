"""The official `tencentcloud-sdk-python-aiart` AiartClient, unchanged, against a running mock.

    mockserver serve &
    python examples/tencent_sdk.py http://127.0.0.1:8000

Only the endpoint changes: `HttpProfile(endpoint="127.0.0.1:8000", protocol="http")` (no
scheme in the endpoint: the SDK adds it, and signs the endpoint as the Host). The mock accepts
the SecretId/SecretKey pair `AKIDmock` / `mock-secret` unless configured otherwise, and checks
the TC3-HMAC-SHA256 signature for real. The input images are the mock's own fixtures.
"""
from __future__ import annotations

import json
import sys
from urllib.parse import urlsplit

import httpx
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile


def client_for(mock_url: str) -> aiart_client.AiartClient:
    url = urlsplit(mock_url)
    profile = ClientProfile(httpProfile=HttpProfile(protocol=url.scheme, endpoint=url.netloc))
    return aiart_client.AiartClient(Credential("AKIDmock", "mock-secret"), "ap-guangzhou", profile)


def main(mock_url: str) -> None:
    client = client_for(mock_url)
    fixtures = f"{mock_url}/__admin/fixtures"
    submit = models.SubmitGlamPicJobRequest()
    submit.from_json_string(json.dumps({
        "TemplateUrl": f"{fixtures}/template.jpg",
        "FaceInfos": [{"ImageUrls": [f"{fixtures}/face.jpg"]}],
        "Num": 1,
    }))
    job_id = client.SubmitGlamPicJob(submit).JobId
    print("submitted", job_id)
    # Jobs take ~30 emulated seconds; stay well inside the signature's 5-minute validity.
    httpx.post(f"{mock_url}/__admin/clock/advance", json={"seconds": 60}).raise_for_status()
    query = models.QueryGlamPicJobRequest()
    query.JobId = job_id
    done = client.QueryGlamPicJob(query)
    print("status", done.JobStatusCode, done.JobStatusMsg)
    for url in done.ResultImage:
        print(" ", url, len(httpx.get(url).content), "bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
