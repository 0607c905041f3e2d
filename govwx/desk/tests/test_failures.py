"""未能受理的消息: the page lists the current account's failures only, 重试 and 全部重试
take the messages in once the cause is fixed, a refusal changes nothing, and the home
page shows the count.

The cause used here is a real one: an account's time limit for consultations entered as
0 working days (the admin allows it), on which no deadline can be computed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member
from govwx.desk import failures
from govwx.desk.models import Case, CaseMessage, IntakeFailure, TimeLimit
from govwx.desk.services import intake
from govwx.wechat.models import Follower, InboundMessage

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 10, 10, tzinfo=SH)  # a Tuesday
URL = "/desk/intake-failures/"


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def broken_limit(account: Account) -> TimeLimit:
    return TimeLimit.objects.create(
        account=account, case_type="consultation", first_response=1,
        first_response_unit="working_days", resolution=0, resolution_unit="working_days",
    )  # fmt: skip


def fix_limit(account: Account) -> None:
    TimeLimit.objects.filter(account=account).update(resolution=3)


def failed_message(account: Account, openid: str, text: str, n: int) -> IntakeFailure:
    """A message for the desk whose intake fails, recorded as the desk's loop does."""
    msg = InboundMessage.objects.create(
        account=account, openid=openid, dedup_key=f"m{n}", msg_type="text", content=text,
        sent_at=NOW, received_at=NOW, handled_by="desk",
    )  # fmt: skip
    with pytest.raises(Exception) as exc:
        intake(msg.pk)
    return IntakeFailure.objects.create(inbound=msg, error=str(exc.value))


def test_it_lists_only_the_current_accounts_failures(
    client: Client, account: Account, other_account: Account, operator: Any, outsider: Any
) -> None:
    broken_limit(account)
    broken_limit(other_account)
    Follower.objects.create(
        account=account,
        openid="oAbcdef123456789xyz9",
        nickname="老王",
        first_seen_at=NOW,
        last_interaction_at=NOW,
    )
    mine = failed_message(account, "oAbcdef123456789xyz9", "电话13812345678，咨询社保卡补办", 1)
    theirs = failed_message(other_account, "oZyxwvu987654321abc1", "另一个县的咨询", 2)
    assert mine.error == "n must be at least 1"

    client.force_login(operator)
    page = client.get(URL).content.decode()
    assert f'data-failure="{mine.pk}"' in page and f'data-failure="{theirs.pk}"' not in page
    row = page[page.index(f'data-failure="{mine.pk}"') :].split("</tr>")[0]
    assert "2026-11-10 10:00" in row  # received, Beijing time
    assert "老王<br><code>oAbcde…xyz9</code>" in row  # the openid masked
    assert "电话138****5678，咨询社保卡补办" in row  # the phone masked, as in the inbox
    assert '<td class="error">n must be at least 1</td>' in row
    assert "<td>1</td>" in row
    assert "共 1 条" in page and 'id="retry-all"' in page
    home = client.get("/").content.decode()
    assert 'id="intake-failures-notice"' in home and "1 条群众消息未能转为诉求" in home
    assert f'href="{URL}"' in home

    client.force_login(outsider)
    page = client.get(URL).content.decode()
    assert f'data-failure="{theirs.pk}"' in page and f'data-failure="{mine.pk}"' not in page
    # another account's failure named in a POST is not tried from this account
    client.post(URL, {"failure": mine.pk})
    assert IntakeFailure.objects.get(pk=mine.pk).attempts == 1
    assert not AuditEvent.objects.filter(name="desk.intake_retried").exists()


def test_retry_takes_the_message_in_once_the_cause_is_fixed(
    client: Client, account: Account, operator: Any
) -> None:
    broken_limit(account)
    failure = failed_message(account, "oAbcdef123456789xyz9", "咨询公积金提取", 1)
    client.force_login(operator)

    # not fixed yet: it fails again, with one attempt more
    with time_machine.travel(datetime(2026, 11, 10, 10, 5, tzinfo=SH), tick=False):
        r = client.post(URL, {"failure": failure.pk}, follow=True)
    assert "1 条消息仍未能受理" in r.content.decode()
    failure.refresh_from_db()
    assert (failure.attempts, failure.error) == (2, "n must be at least 1")
    assert failure.updated_at == datetime(2026, 11, 10, 10, 5, tzinfo=SH)
    assert not Case.objects.exists()
    event = AuditEvent.objects.get(name="desk.intake_retried")
    assert (event.actor, event.account, event.data["ok"]) == (operator, account, False)

    fix_limit(account)
    r = client.post(URL, {"failure": failure.pk}, follow=True)
    assert "已重新受理 1 条消息" in r.content.decode()
    assert not IntakeFailure.objects.exists()
    case = Case.objects.get()
    assert case.subject == "咨询公积金提取"
    assert CaseMessage.objects.get().inbound_id == failure.inbound_id
    ok = AuditEvent.objects.filter(name="desk.intake_retried").order_by("-id").first()
    assert ok.data == {"inbound": failure.inbound_id, "ok": True, "case": case.pk}
    assert "没有未能受理的消息" in r.content.decode()
    assert 'id="intake-failures-notice"' not in client.get("/").content.decode()


def test_retry_all_takes_in_every_failure_of_the_account(
    client: Client, account: Account, other_account: Account, account_admin: Any
) -> None:
    broken_limit(account)
    broken_limit(other_account)
    a = failed_message(account, "oFollowerA0000000001", "咨询一", 1)
    b = failed_message(account, "oFollowerB0000000002", "咨询二", 2)
    other = failed_message(other_account, "oFollowerC0000000003", "咨询三", 3)
    fix_limit(account)
    fix_limit(other_account)
    client.force_login(account_admin)
    r = client.post(URL, {"all": "1"}, follow=True)
    assert "已重新受理 2 条消息" in r.content.decode()
    assert set(Case.objects.values_list("subject", flat=True)) == {"咨询一", "咨询二"}
    assert list(IntakeFailure.objects.values_list("pk", flat=True)) == [other.pk]
    assert {a.inbound_id, b.inbound_id} == set(
        CaseMessage.objects.values_list("inbound_id", flat=True)
    )
    # a message the desk's loop took in meanwhile: the retry finds the same case
    result = failures.retry([other.pk], None)
    assert len(result.cases) == 1 and result.failed == []
    again = IntakeFailure.objects.create(inbound_id=other.inbound_id, error="stale")
    assert failures.retry([again.pk], None).cases == result.cases
    assert Case.objects.count() == 3


def test_roles_without_the_permission_change_nothing(
    client: Client, account: Account, outsider: Any, django_user_model: Any
) -> None:
    broken_limit(account)
    failure = failed_message(account, "oAbcdef123456789xyz9", "咨询", 1)
    fix_limit(account)
    editor = django_user_model.objects.create_user("editor1")
    add_member(account, editor, Membership.Role.EDITOR)
    client.force_login(editor)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"all": "1"}).status_code == 403
    assert 'id="intake-failures-notice"' not in client.get("/").content.decode()
    with pytest.raises(PermissionDenied):
        failures.retry([failure.pk], outsider)
    failure.refresh_from_db()
    assert failure.attempts == 1 and not Case.objects.exists()
    assert not AuditEvent.objects.filter(name="desk.intake_retried").exists()
    assert Client().get(URL).status_code == 302  # anonymous: the login page


def test_the_page_costs_the_same_queries_for_one_row_or_many(
    client: Client, account: Account, operator: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    broken_limit(account)
    failed_message(account, "oFollowerA0000000001", "咨询一", 1)
    client.force_login(operator)
    client.get(URL)  # the session and the like, once
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for n in range(2, 6):
        failed_message(account, f"oFollower{n}000000000{n}", f"咨询{n}", n)
    with CaptureQueriesContext(connection) as many:
        page = client.get(URL).content.decode()
    assert page.count("data-failure=") == 5
    # session, user, accounts, account, role, count, rows, nicknames, the bell
    assert len(many) == len(one) == 9
