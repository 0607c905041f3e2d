"""A long list send keeps to WeChat's 60 mass calls a minute per account: the calls of the
minute are made, the rest wait for the next minute, and every follower gets the message
once (against the sandbox over HTTP)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from govwx.accounts.models import Account
from govwx.content import mass
from govwx.content.models import MassCall, MassSend
from govwx.wechat.tests.test_client import Sandbox

from .test_mass import NOV3, chat, followers, service, wx  # noqa: F401  (fixtures)
from .test_publishing import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)

C = MassCall.Status


def test_a_long_list_waits_for_the_next_minute_past_the_calls_of_one(
    service: Account,  # noqa: F811
    wx: Sandbox,  # noqa: F811
    operator: Any,
    monkeypatch: Any,
) -> None:
    account = service
    monkeypatch.setattr(mass, "LIST_MAX", 3)  # 10 followers: 4 calls (3, 3, 2, 2)
    monkeypatch.setattr(mass, "PER_MINUTE", 3)
    with time_machine.travel(NOV3, tick=True):
        people = followers(wx, account, 10, "Pace")
        send = mass.create(account, kind="text", text="停水通知", openids=people,
                           actor=operator)  # fmt: skip
        # sent at once by the tests' task backend: three calls, then the minute is full
        calls = list(MassCall.objects.filter(mass_send=send).order_by("index"))
        assert [(len(c.openids), c.status) for c in calls] == [
            (3, C.CALLED), (3, C.CALLED), (2, C.CALLED), (2, C.PENDING),
        ]  # fmt: skip
        send.refresh_from_db()
        assert (send.status, send.sending_until) == (MassSend.Status.SENDING, None)
        first = min(c.called_at for c in calls if c.called_at)
        assert mass.room_at(account.pk, first + timedelta(seconds=59)) == first + timedelta(
            minutes=1
        )
        assert mass.send(send.pk) == "paced" and mass.send_due() == 0
        assert MassCall.objects.filter(mass_send=send, status=C.PENDING).count() == 1
    with time_machine.travel(NOV3 + timedelta(minutes=1, seconds=1), tick=True):
        assert mass.room_at(account.pk, NOV3 + timedelta(minutes=1, seconds=1)) is None
        assert mass.send_due() == 1
        assert MassSend.objects.get(pk=send.pk).status == MassSend.Status.SENT
        run_jobs(wx, account)  # WeChat ends what is left; the events come
    calls = list(MassCall.objects.filter(mass_send=send).order_by("index"))
    assert [(c.status, c.sent) for c in calls] == [(C.FINISHED, 3), (C.FINISHED, 3),
                                                   (C.FINISHED, 2), (C.FINISHED, 2)]  # fmt: skip
    for openid in people:  # everyone once
        assert [e["payload"]["content"] for e in chat(wx, account, openid)] == ["停水通知"]
