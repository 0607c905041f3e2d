"""The WeCom group robot: the webhook's protocol and error codes, the driver API, the
group page."""

from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from django.test import Client

from govwx.sandbox.models import Robot, RobotMessage

pytestmark = pytest.mark.django_db
ROBOTS = "/sandbox/api/robots"
KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
SEND = f"/sandbox/cgi-bin/webhook/send?key={KEY}"


def post(client: Client, path: str, body: Any) -> Any:
    raw = body if isinstance(body, bytes | str) else json.dumps(body, ensure_ascii=False)
    return client.post(path, raw, content_type="application/json")


@pytest.fixture
def robot(client: Client) -> dict[str, Any]:
    created = post(client, ROBOTS, {"name": "值班群", "key": KEY})
    assert created.status_code == 201
    return dict(created.json())


def test_it_registers_a_robot_and_gives_its_webhook_url(client: Client) -> None:
    created = post(client, ROBOTS, {"name": "值班群"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "值班群" and (body["delay"], body["errcode"]) == (0, 0)
    assert (
        body["webhook_url"] == f"http://testserver/sandbox/cgi-bin/webhook/send?key={body['key']}"
    )
    again = post(client, ROBOTS, {"name": "改名", "key": body["key"], "delay": 1.5, "errcode": -1})
    assert again.status_code == 200
    assert (again.json()["name"], again.json()["delay"], again.json()["errcode"]) == (
        "改名",
        1.5,
        -1,
    )
    assert [r["key"] for r in client.get(ROBOTS).json()["robots"]] == [body["key"]]
    assert client.get(f"{ROBOTS}/{body['key']}").json()["name"] == "改名"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "群", "key": "short"},
        {"name": "群", "delay": -1},
        {"name": "群", "delay": "slow"},
        {"name": "群", "errcode": "x"},
        "[]",
        "{bad",
    ],
)
def test_bad_robot_input_is_refused_and_nothing_stored(client: Client, body: Any) -> None:
    answer = post(client, ROBOTS, body)
    assert answer.status_code == 400
    assert "error" in answer.json()
    assert Robot.objects.count() == 0


def test_it_posts_a_text_with_mentions_into_the_group(
    client: Client, robot: dict[str, Any]
) -> None:
    answer = post(
        client,
        SEND,
        {
            "msgtype": "text",
            "text": {"content": "新诉求：路灯不亮", "mentioned_mobile_list": ["13800001111"]},
        },
    )
    assert answer.json() == {"errcode": 0, "errmsg": "ok"}
    listed = client.get(f"{ROBOTS}/{KEY}/messages").json()
    assert [
        (m["msg_type"], m["content"], m["mentioned_mobile_list"]) for m in listed["messages"]
    ] == [("text", "新诉求：路灯不亮", ["13800001111"])]
    assert client.get(f"{ROBOTS}/{KEY}/messages?after={listed['last_id']}").json() == {
        "messages": [],
        "last_id": listed["last_id"],
    }
    page = client.get(f"/sandbox/wecom/?robot={KEY}").content.decode()
    assert "新诉求：路灯不亮" in page and "@13800001111" in page and "值班群" in page


@pytest.mark.parametrize(
    ("path", "body", "errcode"),
    [
        ("/sandbox/cgi-bin/webhook/send?key=unknown-key-0000", {"msgtype": "text"}, 93000),
        ("/sandbox/cgi-bin/webhook/send", {"msgtype": "text"}, 93000),
        (SEND, {"msgtype": "TEXT", "TEXT": {"content": "x"}}, 40008),
        (SEND, {"msg_type": "text", "content": {"text": "x"}}, 40008),
        (SEND, {"msgtype": "text", "text": {"content": "  "}}, 44004),
        (SEND, {"msgtype": "text", "text": "x"}, 47001),
        (SEND, "{bad", 47001),
        (SEND, "", 44002),
    ],
)
def test_the_webhook_answers_the_platforms_error_codes(
    client: Client, robot: dict[str, Any], path: str, body: Any, errcode: int
) -> None:
    answer = post(client, path, body)
    assert answer.status_code == 200
    assert answer.json()["errcode"] == errcode
    assert RobotMessage.objects.count() == 0


def test_content_over_the_platforms_length_is_refused_with_40058(
    client: Client, robot: dict[str, Any]
) -> None:
    exact = "值" * 682 + "xx"  # 2048 bytes of UTF-8
    assert post(client, SEND, {"msgtype": "text", "text": {"content": exact}}).json() == {
        "errcode": 0,
        "errmsg": "ok",
    }
    answer = post(client, SEND, {"msgtype": "text", "text": {"content": exact + "x"}})
    assert answer.json() == {
        "errcode": 40058,
        "errmsg": "text.content exceed max length 2048",
    }
    markdown = {"msgtype": "markdown", "markdown": {"content": "值" * 1365 + "x"}}  # 4096
    assert post(client, SEND, markdown).json()["errcode"] == 0
    markdown["markdown"]["content"] += "x"
    assert post(client, SEND, markdown).json()["errcode"] == 40058
    assert [len(m.content.encode()) for m in RobotMessage.objects.order_by("id")] == [2048, 4096]


def test_get_is_refused(client: Client, robot: dict[str, Any]) -> None:
    assert client.get(SEND).json()["errcode"] == 43002


def test_over_twenty_a_minute_is_rate_limited(client: Client, robot: dict[str, Any]) -> None:
    msg = {"msgtype": "text", "text": {"content": "提醒"}}
    with time_machine.travel("2026-10-01 03:00:00+08:00", tick=False) as traveller:
        codes = [post(client, SEND, msg).json()["errcode"] for _ in range(21)]
        assert codes == [0] * 20 + [45009]
        traveller.shift(61)
        assert post(client, SEND, msg).json()["errcode"] == 0
    assert RobotMessage.objects.count() == 21


def test_a_failing_robot_answers_its_errcode_and_posts_nothing(
    client: Client, robot: dict[str, Any]
) -> None:
    post(client, ROBOTS, {"name": "值班群", "key": KEY, "errcode": -1})
    answer = post(client, SEND, {"msgtype": "text", "text": {"content": "x"}})
    assert answer.json() == {"errcode": -1, "errmsg": "system busy"}
    assert RobotMessage.objects.count() == 0


def test_unknown_robot_is_404(client: Client) -> None:
    assert client.get(f"{ROBOTS}/nope-nope-nope").status_code == 404
    assert client.get(f"{ROBOTS}/nope-nope-nope/messages").status_code == 404
    assert "还没有群机器人" in client.get("/sandbox/wecom/").content.decode()
