"""Calls of the publishing APIs for the sandbox's tests, through Django's test client."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from .conftest import SECRET
from .mediafiles import picture
from .peer import APPID

BASE = "/sandbox/cgi-bin/"
API = "/sandbox/api/accounts/"


def token_for(client: Client, appid: str = APPID, secret: str = SECRET) -> str:
    answer = client.get(
        BASE + "token", {"grant_type": "client_credential", "appid": appid, "secret": secret}
    )
    return str(answer.json()["access_token"])


def call(client: Client, path: str, token: str, body: Any = None, *, method: str = "POST") -> Any:
    """A WeChat API call; WeChat answers HTTP 200 with JSON, errors included."""
    url = f"{BASE}{path}?access_token={token}"
    if method == "GET":
        response = client.get(url)
    else:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        response = client.post(url, raw, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def upload(
    client: Client,
    path: str,
    token: str,
    data: bytes | None,
    *,
    name: str = "f",
    fields: dict[str, str] | None = None,
    **params: str,
) -> Any:
    """A multipart upload with the file in the field `media`."""
    form: dict[str, Any] = dict(fields or {})
    if data is not None:
        form["media"] = SimpleUploadedFile(name, data, "application/octet-stream")
    query = "&".join([f"access_token={token}", *(f"{k}={v}" for k, v in params.items())])
    response = client.post(f"{BASE}{path}?{query}", form)
    assert response.status_code == 200, response.content
    return response.json()


def add_material(client: Client, token: str, kind: str, data: bytes, **kw: Any) -> Any:
    return upload(client, "material/add_material", token, data, type=kind, **kw)


def cover(client: Client, token: str) -> str:
    """A permanent thumb (a small JPEG) for articles' covers."""
    answer = add_material(client, token, "thumb", picture(size=(120, 90)), name="cover.jpg")
    return str(answer["media_id"])


def article(thumb: str, **overrides: Any) -> dict[str, Any]:
    return {
        "title": "示例市开展冬季供暖检查",
        "author": "市发布",
        "digest": "",
        "content": "<p>本市今日起开展冬季供暖设施安全检查，<strong>请居民配合</strong>。</p>",
        "content_source_url": "https://www.example.gov.cn/news/1",
        "thumb_media_id": thumb,
        "need_open_comment": 1,
        "only_fans_can_comment": 0,
        **overrides,
    }


def add_draft(client: Client, token: str, *articles: dict[str, Any]) -> str:
    answer = call(client, "draft/add", token, {"articles": list(articles)})
    assert "media_id" in answer, answer
    return str(answer["media_id"])


def run_jobs(client: Client, appid: str = APPID, everything: bool = True) -> list[dict[str, Any]]:
    response = client.post(
        f"{API}{appid}/jobs/run", {"all": everything}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return list(response.json()["finished"])
