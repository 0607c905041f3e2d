"""Channel writes: validation (bad input refused, nothing stored), permissions, audit;
enqueue is idempotent; a send cut off mid-way is shown, never resent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from govwx.accounts.models import Account, AuditEvent
from govwx.notify import services
from govwx.notify.models import Channel, Delivery
from govwx.notify.services import ChannelInput, create_channel, enqueue

from .conftest import Hook, make_channel

pytestmark = pytest.mark.django_db
ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2aaaa5aaa"


def test_it_creates_each_kind_encrypted_at_rest_and_audited(
    account: Account, account_admin: Any
) -> None:
    email = make_channel(account, account_admin, "email", " a@example.gov.cn , b@example.gov.cn ")
    webhook = make_channel(
        account, account_admin, "webhook", "https://hooks.example.gov.cn/x", secret=" k "
    )
    wecom = make_channel(account, account_admin, "wecom", ROBOT)
    assert email.target == "a@example.gov.cn, b@example.gov.cn"
    assert (webhook.target, webhook.secret) == ("https://hooks.example.gov.cn/x", "k")
    assert Channel.objects.get(pk=wecom.pk).target == ROBOT
    raw = Channel.objects.filter(pk=wecom.pk).values_list("target", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT target, secret FROM notify_channel WHERE id = %s", [webhook.pk])
        stored_target, stored_secret = cursor.fetchone()
    assert "hooks.example" not in stored_target and stored_secret != "k"
    assert list(raw) == [ROBOT]
    assert [
        e.data["kind"] for e in AuditEvent.objects.filter(name="channel.created").order_by("id")
    ] == [
        "email",
        "webhook",
        "wecom",
    ]


@pytest.mark.parametrize(
    ("kind", "target", "secret", "field", "message"),
    [
        (
            "email",
            "duty@",
            "",
            "target",
            "邮件地址格式不正确：duty@ / not an e-mail address: duty@",
        ),
        ("email", "a@example.gov.cn, not-an-address", "", "target", "not an e-mail address"),
        ("email", "  ", "", "target", "请填写收件地址 / enter at least one e-mail address"),
        ("webhook", "ftp://hooks.example.gov.cn/x", "", "target", "http(s) URL"),
        ("webhook", "javascript:alert(1)", "", "target", "http(s) URL"),
        ("webhook", "hooks.example.gov.cn/x", "", "target", "http(s) URL"),
        ("wecom", "https://example.com/cgi-bin/webhook/send?key=abc", "", "target", "WeCom"),
        ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "", "target", "WeCom"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=", "", "target", "WeCom"),
        ("wecom", ROBOT, "s", "secret", "only a webhook channel takes a signing secret"),
        ("sms", "13800001111", "", "kind", "未知的渠道类型 / unknown kind of channel: sms"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    account: Account,
    account_admin: Any,
    kind: str,
    target: str,
    secret: str,
    field: str,
    message: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        create_channel(
            account,
            ChannelInput(kind=kind, name="值班", target=target, secret=secret),
            actor=account_admin,
        )
    assert message in " ".join(caught.value.message_dict[field])
    assert Channel.objects.count() == 0
    assert not AuditEvent.objects.filter(name__startswith="channel.").exists()


def test_an_empty_name_is_refused(account: Account, account_admin: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        create_channel(account, ChannelInput("email", " ", "a@example.gov.cn"), actor=account_admin)
    assert caught.value.message_dict["name"] == ["名称不能为空 / name is required"]
    assert Channel.objects.count() == 0


def test_the_sandbox_robot_is_accepted_only_where_the_sandbox_runs(
    account: Account, account_admin: Any, settings: Any
) -> None:
    url = "http://127.0.0.1:8000/sandbox/cgi-bin/webhook/send?key=0f9e8d7c-aaaa"
    assert make_channel(account, account_admin, "wecom", url).target == url
    settings.GOVWX_SANDBOX = False
    with pytest.raises(ValidationError):
        make_channel(account, account_admin, "wecom", url)
    assert Channel.objects.count() == 1


def test_only_channels_manage_may_write(
    account: Account, account_admin: Any, operator: Any, outsider: Any
) -> None:
    channel = make_channel(account, account_admin, "email", "a@example.gov.cn")
    for person in (operator, outsider, None):
        with pytest.raises(PermissionDenied):
            create_channel(account, ChannelInput("email", "x", "b@example.gov.cn"), actor=person)
        with pytest.raises(PermissionDenied):
            services.update_channel(channel, name="改", actor=person)
        with pytest.raises(PermissionDenied):
            services.set_channel_enabled(channel, False, actor=person)
        with pytest.raises(PermissionDenied):
            services.send_test(channel, actor=person)
    channel.refresh_from_db()
    assert (Channel.objects.count(), channel.name, channel.enabled) == (1, "email", True)
    assert Delivery.objects.count() == 0


def test_update_keeps_an_empty_target_and_validates_a_new_one(
    account: Account, account_admin: Any
) -> None:
    channel = make_channel(account, account_admin, "webhook", "https://a.example/x", secret="k1")
    services.update_channel(channel, name="新名", actor=account_admin)
    assert (channel.name, channel.target, channel.secret) == ("新名", "https://a.example/x", "k1")
    with pytest.raises(ValidationError):
        services.update_channel(channel, name="新名", target="not a url", actor=account_admin)
    services.update_channel(
        channel, name="新名", target="https://b.example/y", secret="", actor=account_admin
    )
    channel.refresh_from_db()
    assert (channel.target, channel.secret) == ("https://b.example/y", "")
    services.set_channel_enabled(channel, False, actor=account_admin)
    assert channel.enabled is False
    assert list(
        AuditEvent.objects.filter(name__startswith="channel.")
        .order_by("id")
        .values_list("name", flat=True)
    ) == ["channel.created", "channel.updated", "channel.updated", "channel.disabled"]


def test_enqueue_twice_stores_and_sends_once(
    account: Account,
    account_admin: Any,
    hook: Hook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_channel(account, account_admin, "webhook", hook.url, name="a")
    make_channel(account, account_admin, "webhook", hook.url, name="b")
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue(account, "alert:1:1", "新诉求", "x", mentions=["138", "", "138"])
    with django_capture_on_commit_callbacks(execute=True):
        second = enqueue(account, "alert:1:1", "新诉求", "x")
    assert len(first) == 2 and second == []
    assert Delivery.objects.count() == 2
    assert [d.mentions for d in Delivery.objects.order_by("id")] == [["138"], ["138"]]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert len(hook.calls) == 2


def test_a_send_cut_off_midway_is_shown_and_never_resent(
    account: Account, account_admin: Any, hook: Hook
) -> None:
    channel = make_channel(account, account_admin, "webhook", hook.url)
    t0 = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False) as clock:
        (delivery,) = enqueue(account, "alert:1:1", "新诉求", "x")  # on_commit never runs here
        # a worker claimed it and died before recording the outcome
        Delivery.objects.filter(pk=delivery.pk).update(
            status="sending", attempts=1, last_attempt_at=t0
        )
        assert services.deliver_due() == 0
        assert services.attempt(delivery.pk) == "skipped"
        assert services.failing(account) == []
        clock.shift(timedelta(minutes=6))
        assert services.failing(account) == [channel]
        assert services.channels_with_state(account)[0].stuck_count == 1
    assert hook.calls == []


def test_another_accounts_channel_is_not_found(
    account: Account, other_account: Account, account_admin: Any
) -> None:
    from django.http import Http404

    channel = make_channel(account, account_admin, "email", "a@example.gov.cn")
    assert services.get_channel_for_account(account, channel.pk) == channel
    with pytest.raises(Http404):
        services.get_channel_for_account(other_account, channel.pk)


def test_display_target_hides_keys_and_paths(account: Account, account_admin: Any) -> None:
    wecom = make_channel(account, account_admin, "wecom", ROBOT)
    webhook = make_channel(account, account_admin, "webhook", "https://h.example/secret/path")
    assert services.display_target(wecom) == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…"
    )
    assert services.display_target(webhook) == "https://h.example/…"
