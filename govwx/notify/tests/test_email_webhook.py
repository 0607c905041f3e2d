"""E-mail to a real SMTP server and webhooks to a real HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
import time_machine

from govwx.accounts.models import Account
from govwx.notify.models import Channel, Delivery
from govwx.notify.services import deliver_due, enqueue, failing

from .conftest import Hook, Mailbox, make_channel

pytestmark = pytest.mark.django_db
NIGHT = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai


def test_it_emails_the_alert_through_a_real_smtp_server(
    account: Account,
    account_admin: Any,
    smtp: Mailbox,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.GOVWX_PUBLIC_URL = "https://govwx.example.gov.cn"
    channel = make_channel(
        account, account_admin, "email", "duty@example.gov.cn；lead@example.gov.cn", name="值班邮箱"
    )
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(account, "alert:7:1", "新诉求", "路灯不亮（解放路 12 号）", link="/desk/cases/7/")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    (envelope,) = smtp.received
    assert envelope.mail_from == "govwx@example.gov.cn"
    assert envelope.rcpt_tos == ["duty@example.gov.cn", "lead@example.gov.cn"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "新诉求"
    assert mail["To"] == "duty@example.gov.cn, lead@example.gov.cn"
    assert mail.get_content().splitlines() == [
        "路灯不亮（解放路 12 号）",
        "",
        "https://govwx.example.gov.cn/desk/cases/7/",
    ]
    channel.refresh_from_db()
    assert channel.last_ok_at is not None and channel.last_error == ""


def test_a_refused_mailbox_fails_at_once(
    account: Account, account_admin: Any, smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    make_channel(account, account_admin, "email", "refused@example.gov.cn")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(account, "alert:8:1", "已超时", "1 件诉求已超时")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "550" in delivery.last_error
    assert smtp.received == []


def test_an_smtp_server_that_is_down_is_retried(
    account: Account, account_admin: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from .conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    make_channel(account, account_admin, "email", "duty@example.gov.cn")
    with time_machine.travel(NIGHT, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue(account, "alert:9:1", "新诉求", "x")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == NIGHT + timedelta(minutes=1)
    assert "邮件服务器" in delivery.last_error


def test_it_posts_a_signed_webhook(
    account: Account, account_admin: Any, hook: Hook, django_capture_on_commit_callbacks: Any
) -> None:
    make_channel(account, account_admin, "webhook", hook.url, secret="s3cr3t-hook")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(account, "alert:7:1", "新诉求", "路灯不亮", link="https://x.example/desk/7")
    ((headers, body),) = hook.calls
    assert json.loads(body) == {
        "key": "alert:7:1",
        "title": "新诉求",
        "text": "路灯不亮",
        "link": "https://x.example/desk/7",
        "account": "示例市发布",
        "appid": account.appid,
    }
    expected = hmac.new(b"s3cr3t-hook", body, hashlib.sha256).hexdigest()
    assert headers["x-govwx-signature"] == f"sha256={expected}"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert Delivery.objects.get().status == "sent"


def test_an_unsigned_webhook_has_no_signature(
    account: Account, account_admin: Any, hook: Hook, django_capture_on_commit_callbacks: Any
) -> None:
    make_channel(account, account_admin, "webhook", hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(account, "alert:7:1", "新诉求", "x")
    ((headers, _),) = hook.calls
    assert "x-govwx-signature" not in headers


def test_a_webhook_answering_500_is_retried_with_backoff_then_failed(
    account: Account, account_admin: Any, hook: Hook, django_capture_on_commit_callbacks: Any
) -> None:
    hook.statuses = [500]
    channel = make_channel(account, account_admin, "webhook", hook.url)
    with time_machine.travel(NIGHT, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            enqueue(account, "alert:7:1", "新诉求", "x")
        delivery = Delivery.objects.get()
        seen = [(delivery.status, delivery.attempts, delivery.next_attempt_at - NIGHT)]
        for minutes in (1, 5, 15, 60):
            clock.shift(timedelta(minutes=minutes) - timedelta(seconds=1))
            assert deliver_due() == 0  # not due yet
            clock.shift(timedelta(seconds=1))
            assert deliver_due() == 1
            delivery.refresh_from_db()
            seen.append((delivery.status, delivery.attempts, delivery.next_attempt_at - NIGHT))
        clock.shift(timedelta(days=1))
        assert deliver_due() == 0
    m = timedelta(minutes=1)
    assert seen == [
        ("pending", 1, 1 * m),
        ("pending", 2, 6 * m),
        ("pending", 3, 21 * m),
        ("pending", 4, 81 * m),
        ("failed", 5, 81 * m),
    ]
    assert len(hook.calls) == 5
    assert delivery.last_error == "对方返回 HTTP 500 / answered HTTP 500"
    channel.refresh_from_db()
    assert channel.last_error == delivery.last_error
    assert channel.last_error_at == NIGHT + 81 * m
    assert failing(account) == [channel]


def test_a_webhook_answering_404_is_not_retried_and_a_later_success_clears_the_failure(
    account: Account, account_admin: Any, hook: Hook, django_capture_on_commit_callbacks: Any
) -> None:
    hook.statuses = [404, 200]
    channel = make_channel(account, account_admin, "webhook", hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(account, "alert:1:1", "新诉求", "x")
    assert Delivery.objects.get().status == "failed"
    assert failing(account) == [channel]
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(account, "alert:2:1", "新诉求", "y")
    assert Delivery.objects.get(key="alert:2:1").status == "sent"
    assert failing(account) == []
    assert len(hook.calls) == 2


def test_a_disabled_channel_gets_nothing(
    account: Account, account_admin: Any, hook: Hook, django_capture_on_commit_callbacks: Any
) -> None:
    assert enqueue(account, "alert:0:1", "新诉求", "x") == []
    channel = make_channel(account, account_admin, "webhook", hook.url)
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert enqueue(account, "alert:1:1", "新诉求", "x") == []
    assert Delivery.objects.count() == 0 and hook.calls == []


def test_desk_run_sends_what_is_due(
    account: Account, account_admin: Any, hook: Hook, cache_table: None
) -> None:
    from io import StringIO

    from django.core.management import call_command

    make_channel(account, account_admin, "webhook", hook.url)
    enqueue(account, "alert:1:1", "新诉求", "x")  # stored; the on-commit task never ran here
    call_command("desk", "run", "--once", stdout=StringIO())
    assert Delivery.objects.get(key="alert:1:1").status == "sent"
    assert len(hook.calls) == 1


def test_what_is_due_together_goes_out_in_one_mail(
    account: Account, account_admin: Any, smtp: Mailbox, settings: Any
) -> None:
    settings.GOVWX_PUBLIC_URL = "https://govwx.example.gov.cn"
    make_channel(account, account_admin, "email", "duty@example.gov.cn")
    enqueue(account, "alert:7:1", "【示例市发布】新诉求", "路灯不亮", link="/desk/cases/7/")
    enqueue(account, "alert:8:1", "【示例市发布】已超时", "1 件诉求已超时")  # no task runs here
    assert deliver_due() == 2
    (envelope,) = smtp.received
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "【示例市发布】提醒 2 条"
    assert mail.get_content().splitlines() == [
        "1. 新诉求",
        "路灯不亮",
        "https://govwx.example.gov.cn/desk/cases/7/",
        "",
        "2. 已超时",
        "1 件诉求已超时",
    ]
    first, second = Delivery.objects.order_by("id")
    assert first.batch_id == second.batch_id and first.batch is not None
    assert (first.batch.size, first.batch.outcome) == (2, "sent")
