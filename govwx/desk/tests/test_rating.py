"""The citizen's rating page: a signed link, one rating per case, dissatisfied reopens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from govwx.accounts.models import Account
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent, Rating, Status
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db


def answered_case(account: Account, openid: str = "oRater") -> Case:
    now = datetime.now(UTC)
    msg = InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key=f"m:{openid}",
        msg_type="text",
        content="路灯坏了",
        sent_at=now,
        received_at=now,
        handled_by="desk",
    )
    case = services.intake(msg.pk)
    Case.objects.filter(pk=case.pk).update(status=Status.ANSWERED)
    case.refresh_from_db()
    return case


def token_of(case: Case) -> str:
    return services.rating_url(case).rstrip("/").rsplit("/", 1)[-1]


def test_the_page_rates_once(client: Client, account: Account) -> None:
    case = answered_case(account)
    url = services.rating_url(case).removeprefix("http://127.0.0.1:8000")
    page = client.get(url)
    assert page.status_code == 200 and "路灯坏了" in page.content.decode()
    assert "请您评价本次办理" in page.content.decode()
    r = client.post(url, {"score": "satisfied", "comment": "修得很快"})
    assert r.status_code == 200 and "感谢您的评价" in r.content.decode()
    assert (case.rating.score, case.rating.comment) == ("satisfied", "修得很快")
    r = client.post(url, {"score": "dissatisfied"})
    assert r.status_code == 400 and "已经评价过" in r.content.decode()
    assert Rating.objects.get().score == "satisfied"
    assert "您已评价" in client.get(url).content.decode()


def test_dissatisfied_reopens_the_case(account: Account) -> None:
    case = answered_case(account)
    services.rate_case(token_of(case), "dissatisfied", "没有解决")
    case.refresh_from_db()
    assert case.status == Status.REOPENED
    assert list(CaseEvent.objects.filter(case=case).values_list("name", flat=True))[-2:] == [
        "case.rated",
        "case.reopened",
    ]


def test_forged_or_foreign_links_and_bad_input_change_nothing(
    client: Client, account: Account
) -> None:
    case = answered_case(account)
    token = token_of(case)
    assert client.get(f"/desk/rate/{token[:-2]}xx/").status_code == 404
    assert client.post(f"/desk/rate/{token[:-2]}xx/", {"score": "satisfied"}).status_code == 404
    assert client.post(f"/desk/rate/{token}/", {"score": "great"}).status_code == 400
    assert (
        client.post(
            f"/desk/rate/{token}/", {"score": "satisfied", "comment": "长" * 501}
        ).status_code
        == 400
    )
    new = answered_case(account, openid="oOther")
    Case.objects.filter(pk=new.pk).update(status=Status.NEW)
    with pytest.raises(Exception, match="尚未答复"):
        services.rate_case(token_of(new), "satisfied")
    assert not Rating.objects.exists()
