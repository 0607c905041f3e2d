"""The channels page: list with state, add, edit, enable / disable, send a test; another
account's channel is 404, a role without channels.manage gets 403, nothing changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.template import Context, Template
from django.test import Client, RequestFactory

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member
from govwx.notify.models import Channel, Delivery
from govwx.notify.services import deliver_due, enqueue

from .conftest import Hook, make_channel

pytestmark = pytest.mark.django_db
PAGE = "/team/channels/"


@pytest.fixture
def admin_client(client: Client, account_admin: Any) -> Client:
    client.force_login(account_admin)
    return client


def test_anonymous_goes_to_login(client: Client) -> None:
    answer = client.get(PAGE)
    assert answer.status_code == 302 and "/login/" in answer["Location"]


def test_the_page_shows_state_and_failures_in_red(
    admin_client: Client,
    account: Account,
    account_admin: Any,
    hook: Hook,
    django_capture_on_commit_callbacks: Any,
    django_assert_num_queries: Any,
) -> None:
    hook.statuses = [400]
    bad = make_channel(account, account_admin, "webhook", hook.url, name="坏的钩子")
    make_channel(account, account_admin, "email", "duty@example.gov.cn", name="值班邮箱")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(account, "alert:1:1", "新诉求", "路灯不亮")
    Channel.objects.filter(name="值班邮箱").update(enabled=False)
    with django_assert_num_queries(9):
        page = admin_client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert "坏的钩子" in html and "值班邮箱" in html and "已停用" in html
    assert 'class="tag tag-warn channel-failing"' in html
    assert '<p class="error failed-count">1 条发送失败</p>' in html
    assert "对方返回 HTTP 400 / answered HTTP 400" in html
    assert f'data-delivery="{Delivery.objects.get(channel=bad).pk}" data-status="failed"' in html
    assert "/hooks/govwx" not in html  # the path (it may hold a key) is not shown


def test_it_adds_a_channel(admin_client: Client, account: Account) -> None:
    answer = admin_client.post(
        f"{PAGE}new/",
        {"kind": "email", "name": "值班邮箱", "target": "duty@example.gov.cn", "secret": ""},
    )
    assert answer.status_code == 302
    channel = Channel.objects.get()
    assert (channel.account, channel.kind, channel.target) == (
        account,
        "email",
        "duty@example.gov.cn",
    )


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"kind": "email", "name": "x", "target": "duty@"}, "邮件地址格式不正确"),
        ({"kind": "webhook", "name": "x", "target": "ftp://a.example/"}, "http:// 或 https://"),
        (
            {"kind": "wecom", "name": "x", "target": "https://a.example/?key=1"},
            "企业微信群机器人地址",
        ),
        ({"kind": "sms", "name": "x", "target": "138"}, "sms"),
        ({"kind": "email", "name": "", "target": "a@example.gov.cn"}, "没有保存"),
    ],
)
def test_bad_input_is_shown_and_nothing_stored(
    admin_client: Client, post: dict[str, str], message: str
) -> None:
    answer = admin_client.post(f"{PAGE}new/", post)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert Channel.objects.count() == 0


def test_it_edits_enables_and_disables(
    admin_client: Client, account: Account, account_admin: Any
) -> None:
    channel = make_channel(account, account_admin, "webhook", "https://a.example/x", secret="k")
    assert admin_client.get(f"{PAGE}{channel.pk}/").status_code == 200
    answer = admin_client.post(f"{PAGE}{channel.pk}/", {"name": "新名", "target": "", "secret": ""})
    assert answer.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.target, channel.secret) == ("新名", "https://a.example/x", "k")
    bad = admin_client.post(f"{PAGE}{channel.pk}/", {"name": "新名", "target": "nope"})
    assert bad.status_code == 400 and "http:// 或 https://" in bad.content.decode()
    admin_client.post(f"{PAGE}{channel.pk}/", {"name": "新名", "remove_secret": "on"})
    admin_client.post(f"{PAGE}{channel.pk}/enable/", {"enabled": "0"})
    channel.refresh_from_db()
    assert (channel.secret, channel.enabled) == ("", False)
    admin_client.post(f"{PAGE}{channel.pk}/enable/", {"enabled": "1"})
    channel.refresh_from_db()
    assert channel.enabled is True


def test_the_test_button_sends_and_reports(
    admin_client: Client, account: Account, account_admin: Any, hook: Hook
) -> None:
    channel = make_channel(account, account_admin, "webhook", hook.url, name="钩子")
    answer = admin_client.post(f"{PAGE}{channel.pk}/test/", follow=True)
    assert "测试消息已发出：钩子" in answer.content.decode()
    assert len(hook.calls) == 1
    hook.statuses = [404]
    answer = admin_client.post(f"{PAGE}{channel.pk}/test/", follow=True)
    assert "测试消息发送失败：对方返回 HTTP 404" in answer.content.decode()
    assert list(Delivery.objects.order_by("id").values_list("status", flat=True)) == [
        "sent",
        "failed",
    ]


def test_another_accounts_channel_is_404_and_unchanged(
    admin_client: Client, other_account: Account, django_user_model: Any
) -> None:
    boss = django_user_model.objects.create_user("otheradmin", password="pw")
    add_member(other_account, boss, Membership.Role.ADMIN)
    theirs = make_channel(other_account, boss, "email", "a@example.gov.cn", name="他们的")
    assert admin_client.get(f"{PAGE}{theirs.pk}/").status_code == 404
    assert admin_client.post(f"{PAGE}{theirs.pk}/", {"name": "改"}).status_code == 404
    assert admin_client.post(f"{PAGE}{theirs.pk}/enable/", {"enabled": "0"}).status_code == 404
    assert admin_client.post(f"{PAGE}{theirs.pk}/test/").status_code == 404
    assert "他们的" not in admin_client.get(PAGE).content.decode()
    theirs.refresh_from_db()
    assert (theirs.name, theirs.enabled) == ("他们的", True)
    assert Delivery.objects.count() == 0


def test_a_role_without_channels_manage_gets_403_and_changes_nothing(
    client: Client, account: Account, account_admin: Any, operator: Any
) -> None:
    channel = make_channel(account, account_admin, "email", "a@example.gov.cn")
    client.force_login(operator)
    assert client.get(PAGE).status_code == 403
    assert (
        client.post(
            f"{PAGE}new/", {"kind": "email", "name": "x", "target": "b@example.gov.cn"}
        ).status_code
        == 403
    )
    assert client.post(f"{PAGE}{channel.pk}/", {"name": "改"}).status_code == 403
    assert client.post(f"{PAGE}{channel.pk}/enable/", {"enabled": "0"}).status_code == 403
    assert client.post(f"{PAGE}{channel.pk}/test/").status_code == 403
    channel.refresh_from_db()
    assert (Channel.objects.count(), channel.name, channel.enabled) == (1, "email", True)
    assert Delivery.objects.count() == 0


def test_the_failing_notice_for_other_pages(
    account: Account, account_admin: Any, operator: Any, hook: Hook, client: Client
) -> None:
    hook.statuses = [500]
    channel = make_channel(account, account_admin, "webhook", hook.url, name="值班钩子")
    template = Template("{% load notify_tags %}{% failing_channels %}")

    def render(user: Any) -> str:
        request = RequestFactory().get("/team/alerts/")
        request.user = user
        request.session = client.session
        return template.render(Context({"request": request}))

    assert "failing-channels" not in render(operator)
    from govwx.notify.services import attempt

    (delivery,) = enqueue(account, "alert:1:1", "新诉求", "x")
    assert attempt(delivery.pk) == "retry"
    channel.refresh_from_db()
    html = render(operator)
    assert "通知渠道「值班钩子」发送失败" in html and "HTTP 500" in html
    assert "/team/channels/" not in html  # an operator cannot manage channels
    assert 'href="/team/channels/"' in render(account_admin)


def test_the_page_shows_what_waits_for_the_rate_and_what_went_out_merged(
    admin_client: Client,
    account: Account,
    account_admin: Any,
    hook: Hook,
    django_assert_num_queries: Any,
) -> None:
    hook.statuses = [(429, {"Retry-After": "120"}), 204]
    channel = make_channel(account, account_admin, "webhook", hook.url, name="钩子")
    at = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai
    with time_machine.travel(at, tick=False) as clock:
        for n in (1, 2, 3):
            enqueue(account, f"alert:{n}:1", "新诉求", f"第{n}条")  # no task runs here
        assert deliver_due() == 3
        with django_assert_num_queries(9):
            html = admin_client.get(PAGE).content.decode()
        assert '<span class="tag tag-warn channel-held">限流中</span>' in html
        assert '<p class="help pending-count">3 条待发送</p>' in html
        assert "暂缓至 03:02:00：已达发送频率上限（每分钟最多 60 条）或对方要求稍后再发" in html
        assert (
            "对方限流（HTTP 429），120 秒后再试 / rate limited (HTTP 429), retry after 120 s"
            in html
        )
        assert '<p class="help window-count">最近一分钟已发 1 / 60 条</p>' in html
        assert html.count("合并尝试（共 3 条，批次 #") == 3
        assert "channel-failing" not in html
        clock.shift(timedelta(minutes=2))
        assert deliver_due() == 3
        html = admin_client.get(PAGE).content.decode()
    assert html.count("合并发送（共 3 条，批次 #") == 3
    assert "限流中" not in html and "待发送" not in html
    assert '<p class="help window-count">最近一分钟已发 1 / 60 条</p>' in html
    assert len(hook.calls) == 2
    channel.refresh_from_db()
    assert channel.held_until == at + timedelta(minutes=2)  # past: shown no more


def test_a_test_message_waits_for_the_rate_and_finds_a_channel_back(
    admin_client: Client,
    account: Account,
    account_admin: Any,
    hook: Hook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    hook.statuses = [(429, {"Retry-After": "300"})]
    channel = make_channel(account, account_admin, "webhook", hook.url, name="钩子")
    at = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)
    with time_machine.travel(at, tick=False) as clock:
        enqueue(account, "alert:1:1", "新诉求", "第一条")
        deliver_due()
        answer = admin_client.post(f"{PAGE}{channel.pk}/test/", follow=True)
        assert "渠道「钩子」已达发送频率上限，测试消息将于 03:05:00 随下一条消息发出" in (
            answer.content.decode()
        )
        assert len(hook.calls) == 1  # the test did not go out into the wait
        test = Delivery.objects.get(key__startswith="test:")
        assert (test.status, test.attempts) == ("pending", 0)
        # now the receiver is down: the channel waits after each refusal
        hook.down()
        clock.shift(timedelta(minutes=5))
        assert deliver_due() == 2
        channel.refresh_from_db()
        assert (channel.held_for, channel.held_until) == ("down", at + timedelta(minutes=6))
        hook.statuses = [204]
        hook.up()
        # the admin's test goes out at once, though the channel waits; it is back, so
        # what waited goes out after it, merged
        with django_capture_on_commit_callbacks(execute=True):
            answer = admin_client.post(f"{PAGE}{channel.pk}/test/", follow=True)
        assert "测试消息已发出：钩子" in answer.content.decode()
    assert [json.loads(body)["title"] for _, body in hook.calls[1:]] == [
        "govwx 测试消息 / test message",
        "【示例市发布】提醒 2 条",
    ]
    channel.refresh_from_db()
    assert (channel.held_for, channel.held_until) == ("", None)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
