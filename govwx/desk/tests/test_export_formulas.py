"""Exports keep a citizen's (or anyone's) text that a spreadsheet would run as a formula
as plain text: the case CSV, the workload CSV and workbook, and the rota's workbook,
each read back as an office's spreadsheet would read it."""

from __future__ import annotations

import csv
import io
from datetime import date, time
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import Case
from govwx.inbox.tests.wxpeer import Peer, text_xml
from govwx.team import services as team
from govwx.team.models import Rota, ShiftPattern

pytestmark = pytest.mark.django_db
FORMULA = '=HYPERLINK("http://x","点击")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _cells_of_workbook(content: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(content))  # formulas would stay formulas
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row]


def test_a_citizens_formula_is_text_in_the_case_export(
    client: Client, account: Account, operator: Any
) -> None:
    r = Peer(client, appid=account.appid).post(text_xml(FORMULA, openid="o-x", msg_id=4401))
    assert r.status_code == 200
    assert services.take_in_pending() == (1, 0)
    case = Case.objects.get(account=account, openid="o-x")
    assert case.subject.startswith("=HYPERLINK")  # stored as the citizen wrote it

    client.force_login(operator)
    body = b"".join(client.get("/desk/cases/export.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["编号", "标题"]
    assert [r[:2] for r in rows[1:]] == [[str(case.pk), "'" + case.subject]]
    assert [c for row in rows for c in row if c.startswith(TRIGGERS)] == []


@pytest.fixture
def formula_person(account: Account, django_user_model: Any) -> Any:
    """A colleague whose name, as typed into govwx, reads as a formula."""
    user = django_user_model.objects.create_user("evil", first_name=FORMULA)
    add_member(account, user, Membership.Role.OPERATOR)
    return user


def test_a_name_that_reads_as_a_formula_is_text_in_the_workload_exports(
    client: Client, account: Account, account_admin: Any, formula_person: Any
) -> None:
    rota = Rota.objects.create(name="-值班表")
    rota.accounts.add(account)
    ShiftPattern.objects.create(rota=rota, name="@日班", start=time(8), hours=12)
    team.generate(rota, date(2025, 11, 3), 1, {"operator": [formula_person]})
    client.force_login(account_admin)
    period = {"from": "2025-11-01", "to": "2025-11-30"}

    for table, first in (("people", "'" + FORMULA), ("shifts", "'-值班表")):
        r = client.get("/desk/workload/export.csv", {**period, "table": table})
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert first in [row[0] for row in rows[1:]]
        assert [c for row in rows for c in row if c.startswith(TRIGGERS)] == []

    r = client.get("/desk/workload/export.xlsx", period)
    cells = _cells_of_workbook(r.content)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"'" + FORMULA, "'-值班表", "'@日班"} <= texts
    assert [t for t in texts if t.startswith(TRIGGERS)] == []


def test_a_name_that_reads_as_a_formula_is_text_in_the_rota_workbook(
    client: Client, account: Account, account_admin: Any, formula_person: Any
) -> None:
    rota = Rota.objects.create(name="=1+1")
    rota.accounts.add(account)
    ShiftPattern.objects.create(rota=rota, name="日班", start=time(8), hours=12)
    team.generate(rota, date(2025, 11, 3), 2, {"operator": [formula_person]})
    client.force_login(account_admin)
    r = client.get(f"/team/rotas/{rota.pk}/rota.xlsx?month=2025-11")
    assert r.status_code == 200
    cells = _cells_of_workbook(r.content)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert texts[0] == "'=1+1 2025 年 11 月值班表"
    assert "'" + FORMULA + " 08:00–20:00" in texts
    assert [t for t in texts if t.startswith(TRIGGERS)] == []
