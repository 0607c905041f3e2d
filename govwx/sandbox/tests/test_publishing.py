"""Publishing (freepublish) by WeChat's rules: submit queues a task that ends later —
a publication with its article_id and URLs, the draft gone, PUBLISHJOBFINISH pushed to
the account's server (checked by wechatpy's crypto and a plain XML parser) — or the
failure a driver ordered; get, getarticle, batchget and delete; the job runner."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from wechatpy.crypto import WeChatCrypto

from govwx.sandbox import jobs
from govwx.sandbox.models import Account, Draft, PublishJob

from .conftest import ORIGINAL_ID, register
from .kit import API, add_draft, article, call, cover, run_jobs, token_for
from .peer import AES_KEY, APPID, TOKEN, Peer, Received, serve

pytestmark = pytest.mark.django_db


def event_xml(record: Received) -> ET.Element:
    """The pushed event as the account's server reads it: decrypted with wechatpy."""
    q = record.query
    xml = WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt_message(
        record.body, q["msg_signature"], q["timestamp"], q["nonce"]
    )
    return ET.fromstring(xml)


@pytest.fixture
def token(client: Client, sandbox_account: Account) -> str:
    return token_for(client)


@pytest.fixture
def thumb(client: Client, token: str) -> str:
    return cover(client, token)


def submit(client: Client, token: str, media_id: str) -> dict[str, Any]:
    answer = call(client, "freepublish/submit", token, {"media_id": media_id})
    assert answer["errcode"] == 0, answer
    return dict(answer)


def test_a_publish_ends_later_and_is_told_to_the_server(client: Client) -> None:
    with serve(Peer(mode="safe")) as peer:
        register(peer.url)
        token = token_for(client)
        thumb = cover(client, token)
        media_id = add_draft(client, token, article(thumb), article(thumb, title="第二篇"))
        answer = submit(client, token, media_id)
        assert answer["errmsg"] == "ok"
        publish_id = answer["publish_id"]
        assert publish_id.isdigit() and answer["msg_data_id"].isdigit()
        assert call(client, "freepublish/get", token, {"publish_id": publish_id}) == {
            "publish_id": publish_id,
            "publish_status": 1,
        }
        assert peer.received == []
        with time_machine.travel(timezone.now() + timedelta(seconds=4)):
            done = call(client, "freepublish/get", token, {"publish_id": int(publish_id)})
    article_id = done["article_id"]
    urls = [f"http://testserver/sandbox/s/{article_id}/{i}" for i in (1, 2)]
    assert done == {
        "publish_id": publish_id,
        "publish_status": 0,
        "article_id": article_id,
        "article_detail": {
            "count": 2,
            "item": [{"idx": 1, "article_url": urls[0]}, {"idx": 2, "article_url": urls[1]}],
        },
        "fail_idx": [],
    }
    assert not Draft.objects.exists()  # published drafts leave the draft box
    assert [r.error for r in peer.received] == [""]
    xml = event_xml(peer.received[0])
    assert (xml.findtext("ToUserName"), xml.findtext("MsgType"), xml.findtext("Event")) == (
        ORIGINAL_ID,
        "event",
        "PUBLISHJOBFINISH",
    )
    assert xml.findtext("FromUserName", "").startswith("o")
    info = xml.find("PublishEventInfo")
    assert info is not None
    assert (info.findtext("publish_id"), info.findtext("publish_status")) == (publish_id, "0")
    assert info.findtext("article_id") == article_id
    assert info.findtext("article_detail/count") == "2"
    items = info.findall("article_detail/item")
    assert [(i.findtext("idx"), i.findtext("article_url")) for i in items] == [
        ("1", urls[0]),
        ("2", urls[1]),
    ]
    # wechatpy reads it, though it has no class for this event
    assert (peer.received[0].message.type, peer.received[0].message.target) == (
        "unknown",
        ORIGINAL_ID,
    )
    job = PublishJob.objects.get()
    assert (job.delivery or {})["status"] == 200


def test_the_published_articles_are_listed_and_read_back(
    client: Client, token: str, thumb: str
) -> None:
    media_id = add_draft(client, token, article(thumb))
    publish_id = submit(client, token, media_id)["publish_id"]
    assert run_jobs(client)[0]["publish_status"] == 0
    article_id = call(client, "freepublish/get", token, {"publish_id": publish_id})["article_id"]
    got = call(client, "freepublish/getarticle", token, {"article_id": article_id})
    item = got["news_item"][0]
    assert item["title"] == "示例市开展冬季供暖检查"
    assert item["url"] == f"http://testserver/sandbox/s/{article_id}/1"
    assert item["is_deleted"] is False
    assert item["content"].startswith("<p>本市今日起")
    page = call(client, "freepublish/batchget", token, {"offset": 0, "count": 10, "no_content": 1})
    assert page["total_count"] == 1 and page["item_count"] == 1
    assert page["item"][0]["article_id"] == article_id
    assert "content" not in page["item"][0]["content"]["news_item"][0]
    assert (
        call(client, "freepublish/batchget", token, {"offset": 0, "count": 21})["errcode"] == 40035
    )


def test_a_driver_makes_the_next_publish_fail(client: Client) -> None:
    with serve(Peer(mode="safe")) as peer:
        register(peer.url)
        token = token_for(client)
        thumb = cover(client, token)
        path = f"{API}{APPID}/publish-failures"
        ordered = client.post(path, {"status": 3}, content_type="application/json")
        assert (ordered.status_code, ordered.json()) == (201, {"pending": [3]})
        media_id = add_draft(client, token, article(thumb))
        publish_id = submit(client, token, media_id)["publish_id"]
        assert client.get(path).json() == {"pending": []}  # taken by this submit
        finished = run_jobs(client)
    assert finished[0]["publish_status"] == 3 and finished[0]["article_id"] is None
    assert call(client, "freepublish/get", token, {"publish_id": publish_id}) == {
        "publish_id": publish_id,
        "publish_status": 3,
        "fail_idx": [1],
    }
    assert Draft.objects.filter(media_id=media_id).exists()  # a failed draft stays
    info = event_xml(peer.received[0]).find("PublishEventInfo")
    assert info is not None
    assert (info.findtext("publish_status"), info.findtext("fail_idx")) == ("3", "1")
    assert info.find("article_id") is None
    # the draft can be published again, and now it succeeds
    again = submit(client, token, media_id)["publish_id"]
    run_jobs(client)
    assert call(client, "freepublish/get", token, {"publish_id": again})["publish_status"] == 0


def test_a_job_event_waits_for_the_server_as_long_as_the_callback_deadline(
    client: Client, settings: Any
) -> None:
    """PUBLISHJOBFINISH (and MASSSENDJOBFINISH, through the same push) keeps to
    GOVWX_SANDBOX_CALLBACK_TIMEOUT like every other delivery: a server slower than it
    gets WeChat's three attempts; within it, one."""
    settings.GOVWX_SANDBOX_CALLBACK_TIMEOUT = 0.2
    with serve(Peer(mode="safe", delay=0.5)) as peer:
        register(peer.url)
        token = token_for(client)
        thumb = cover(client, token)
        submit(client, token, add_draft(client, token, article(thumb)))
        [missed] = run_jobs(client)
        settings.GOVWX_SANDBOX_CALLBACK_TIMEOUT = 2
        submit(client, token, add_draft(client, token, article(thumb, title="第二篇")))
        [waited] = run_jobs(client)
    assert (missed["delivery"]["attempts"], missed["delivery"]["error"]) == (
        3,
        "timeout after 0.2 s",
    )
    assert (waited["delivery"]["attempts"], waited["delivery"]["status"]) == (1, 200)
    assert waited["delivery"]["error"] is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"status": 1}, "status 须为 2（原创失败）、3（常规失败）或 4（平台审核不通过）"),
        ({"status": 5}, "status must be 2, 3 or 4"),
        ({"status": True}, "status must be 2, 3 or 4"),
        ({"status": 2, "count": 0}, "count must be an integer from 1 to 20"),
        ({"status": 2, "count": "2"}, "count 须为 1 到 20 的整数"),
    ],
)
def test_it_refuses_bad_failure_orders(
    client: Client, sandbox_account: Account, body: dict[str, Any], error: str
) -> None:
    response = client.post(f"{API}{APPID}/publish-failures", body, content_type="application/json")
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert client.get(f"{API}{APPID}/publish-failures").json() == {"pending": []}


def test_failure_orders_queue_and_clear(client: Client, sandbox_account: Account) -> None:
    path = f"{API}{APPID}/publish-failures"
    client.post(path, {"status": 2, "count": 2}, content_type="application/json")
    client.post(path, {"status": 4}, content_type="application/json")
    assert client.get(path).json() == {"pending": [2, 2, 4]}
    assert client.delete(path).json() == {"pending": []}
    assert client.put(path).status_code == 405
    assert client.get(f"{API}wxnobody/publish-failures").status_code == 404


def test_publish_errors(client: Client, token: str, thumb: str) -> None:
    assert call(client, "freepublish/submit", token, {"media_id": "NOPE"})["errcode"] == 40007
    for publish_id in ("123", 123, "x", None):
        answer = call(client, "freepublish/get", token, {"publish_id": publish_id})
        assert answer["errcode"] == 53502
    media_id = add_draft(client, token, article(thumb))
    # the cover left the library after the draft was saved: the draft fails the check
    assert call(client, "material/del_material", token, {"media_id": thumb})["errcode"] == 0
    assert call(client, "freepublish/submit", token, {"media_id": media_id})["errcode"] == 53503
    assert not PublishJob.objects.exists()


def test_deleting_published_articles(client: Client, token: str, thumb: str) -> None:
    media_id = add_draft(client, token, article(thumb), article(thumb, title="第二篇"))
    publish_id = submit(client, token, media_id)["publish_id"]
    run_jobs(client)
    article_id = call(client, "freepublish/get", token, {"publish_id": publish_id})["article_id"]
    for body, errcode in (
        ({"article_id": "NOPE", "index": 0}, 53600),
        ({"article_id": article_id, "index": 3}, 40060),
    ):
        assert call(client, "freepublish/delete", token, body)["errcode"] == errcode
    ok = call(client, "freepublish/delete", token, {"article_id": article_id, "index": 2})
    assert ok == {"errcode": 0, "errmsg": "ok"}
    items = call(client, "freepublish/getarticle", token, {"article_id": article_id})["news_item"]
    assert [i["is_deleted"] for i in items] == [False, True]
    assert client.get(f"/sandbox/s/{article_id}/2").status_code == 410
    assert call(client, "freepublish/get", token, {"publish_id": publish_id})["publish_status"] == 0
    call(client, "freepublish/delete", token, {"article_id": article_id})
    assert call(client, "freepublish/get", token, {"publish_id": publish_id})["publish_status"] == 5
    assert (
        call(client, "freepublish/batchget", token, {"offset": 0, "count": 10})["total_count"] == 0
    )
    assert call(client, "freepublish/getarticle", token, {"article_id": "NOPE"})["errcode"] == 53600


def test_tasks_end_only_when_due(client: Client, token: str, thumb: str) -> None:
    publish_id = submit(client, token, add_draft(client, token, article(thumb)))["publish_id"]
    assert run_jobs(client, everything=False) == []
    assert jobs.run_due(now=timezone.now() + timedelta(seconds=2)) == []
    assert call(client, "freepublish/get", token, {"publish_id": publish_id})["publish_status"] == 1
    finished = jobs.run_due(now=timezone.now() + timedelta(seconds=3, milliseconds=100))
    assert [f["publish_id"] for f in finished] == [int(publish_id)]
    assert jobs.run_due(everything=True) == []  # claimed once, never again


def test_the_run_jobs_command(client: Client, token: str, thumb: str) -> None:
    publish_id = submit(client, token, add_draft(client, token, article(thumb)))["publish_id"]
    out = StringIO()
    call_command("sandbox", "run-jobs", "--appid", APPID, "--all", stdout=out)
    assert out.getvalue().splitlines() == [f"publish {publish_id} status=0"]
    response = client.post(
        f"{API}{APPID}/jobs/run", {"all": "yes"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert client.get(f"{API}{APPID}/jobs/run").status_code == 405
