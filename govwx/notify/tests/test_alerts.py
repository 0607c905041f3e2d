"""Alerts go out through the channels: raise_alert for the new alert, escalate for each
level up, @-mentioning the recipients by their staff profile's phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from govwx.accounts.models import Account
from govwx.notify.models import Delivery
from govwx.team.models import Alert, StaffProfile
from govwx.team.services import escalate, raise_alert

from .conftest import Hook, make_channel

pytestmark = pytest.mark.django_db
AT = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai


def test_a_new_alert_and_each_escalation_are_enqueued_once(
    account: Account, operator: Any, admin_user: Any, hook: Hook, settings: Any
) -> None:
    settings.GOVWX_PUBLIC_URL = "https://govwx.example.gov.cn"
    StaffProfile.objects.create(user=operator, phone="13800001111")
    channel = make_channel(account, admin_user, "webhook", hook.url)
    alert = raise_alert(
        account, Alert.Kind.NEW_CASE, "case:7", "路灯不亮", link="/desk/cases/7/", at=AT
    )
    assert alert is not None
    assert raise_alert(account, Alert.Kind.NEW_CASE, "case:7", "路灯不亮", at=AT) is None
    assert escalate(AT + timedelta(minutes=16)) == 1
    assert escalate(AT + timedelta(minutes=16)) == 0
    assert escalate(AT + timedelta(minutes=50)) == 1
    rows = list(
        Delivery.objects.order_by("id").values_list(
            "channel", "key", "title", "text", "link", "mentions"
        )
    )
    link = "https://govwx.example.gov.cn/desk/cases/7/"
    assert rows == [
        (
            channel.pk,
            f"alert:{alert.pk}:1",
            "【示例市发布】新诉求",
            "路灯不亮",
            link,
            ["13800001111"],
        ),
        (
            channel.pk,
            f"alert:{alert.pk}:2",
            "【示例市发布】新诉求（升级至带班领导）",
            "路灯不亮",
            link,
            ["13800001111"],
        ),
        (
            channel.pk,
            f"alert:{alert.pk}:3",
            "【示例市发布】新诉求（升级至督办人）",
            "路灯不亮",
            link,
            ["13800001111"],
        ),
    ]


def test_a_recipient_without_a_phone_is_not_mentioned(
    account: Account, operator: Any, admin_user: Any, hook: Hook
) -> None:
    StaffProfile.objects.create(user=operator, phone="")
    make_channel(account, admin_user, "webhook", hook.url)
    raise_alert(account, Alert.Kind.BREACH, "sweep:1", "1 件诉求已超时", at=AT)
    assert Delivery.objects.get().mentions == []


def test_without_channels_an_alert_is_only_in_the_console(account: Account, operator: Any) -> None:
    assert raise_alert(account, Alert.Kind.GAP, "gap:1", "无人值班", at=AT) is not None
    assert Delivery.objects.count() == 0
