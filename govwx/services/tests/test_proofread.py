"""Guides of the catalogue and the menu's button names are proofread when saved
(`lib.textcheck`): a veto refuses the save naming the finding and changes nothing, a
warning is shown after the save, an admin dismisses an error with a reason and the save
goes through; an import refuses a row with personal data (the row named) and only
reports the errors of the others."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, AuditEvent, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.content.models import Dismissal
from govwx.content.proofread import context as proofread_context
from govwx.lib import textcheck
from govwx.services.catalogue_writes import ServiceInput, create_service, update_service
from govwx.services.io import CatalogueImportError, import_catalogue
from govwx.services.models import MenuVersion, Service

pytestmark = pytest.mark.django_db

ID = "11010519491231002X"
MOBILE = "13812345678"
ERROR_TEXT = "户口簿,身份证"  # a half-width comma: an error
WARNING_TEXT = "材料清单见“政务服务—户籍”"  # a single dash: a warning


@pytest.fixture(autouse=True)
def fresh_context() -> Any:
    proofread_context.forget()
    yield
    proofread_context.forget()


def signed_in(account: Account, role: str, django_user_model: Any, name: str) -> Client:
    user = django_user_model.objects.create_user(name)
    add_member(account, user, role)
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def editor(city_account: Account, django_user_model: Any) -> Client:
    return signed_in(city_account, Membership.Role.EDITOR, django_user_model, "city-editor")


@pytest.fixture
def admin(city_account: Account, django_user_model: Any) -> Client:
    return signed_in(city_account, Membership.Role.ADMIN, django_user_model, "city-admin")


def state() -> tuple[Any, ...]:
    return (
        list(Service.objects.order_by("pk").values_list("code", "name", "summary", "materials")),
        list(MenuVersion.objects.values_list("tree", flat=True)),
        AuditEvent.objects.exclude(name__startswith="member").count(),
    )


def guide(**over: Any) -> dict[str, Any]:
    return {"code": "HJ01", "name": "户籍迁入", "category": "household", "position": "0",
            "materials": "户口簿", **over}  # fmt: skip


# ------------------------------------------------------------------ guides


def test_a_guide_with_an_id_number_is_refused_and_nothing_changes(
    city_account: Account, city: Organisation
) -> None:
    before = state()
    with pytest.raises(textcheck.TextRefused) as exc:
        create_service(
            ServiceInput(code="HJ01", name="户籍迁入", category="household",
                         materials=["户口簿", f"样例：身份证 {ID}"]),
            account=city_account,
        )  # fmt: skip
    assert exc.value.messages == [
        "【否决】申请材料：含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）："
        f"「{ID}」，建议：110105********002X"
    ]
    assert state() == before


def test_the_guide_page_names_a_phone_number_and_keeps_the_service_as_it_was(
    city_account: Account, editor: Client
) -> None:
    s = create_service(ServiceInput(code="HJ01", name="户籍迁入", category="household"),
                       account=city_account)  # fmt: skip
    before = state()
    r = editor.post(
        reverse("services:service_edit", args=[s.pk]),
        guide(summary=f"咨询请联系王老师 {MOBILE}"),
    )
    page = r.content.decode()
    assert (
        f"【否决】简介：含有手机号码，发布前应删除或遮盖（《个人信息保护法》）：「{MOBILE}」"
        in page
    )
    assert 'id="textcheck-veto"' in page
    assert state() == before


def test_an_editor_may_not_dismiss_an_error(city_account: Account, editor: Client) -> None:
    r = editor.post(reverse("services:service_create"), guide(materials=ERROR_TEXT))
    page = r.content.decode()
    assert "【错误】申请材料：中文语句中的逗号应使用全角形式「，」" in page
    assert 'id="textcheck-ask"' in page and 'id="textcheck-dismiss"' not in page
    r = editor.post(
        reverse("services:service_create"),
        guide(materials=ERROR_TEXT, textcheck_dismiss="1",
              textcheck_key=r.context["refused"].keys, textcheck_reason="原文如此"),
    )  # fmt: skip
    assert "您没有忽略校对提示的权限（proofread.dismiss）" in r.content.decode()
    assert (Service.objects.count(), Dismissal.objects.count()) == (0, 0)


def test_an_admin_dismisses_the_error_and_the_guide_is_saved(
    city_account: Account, admin: Client
) -> None:
    r = admin.post(reverse("services:service_create"), guide(materials=ERROR_TEXT))
    assert 'id="textcheck-dismiss"' in r.content.decode()
    r = admin.post(
        reverse("services:service_create"),
        guide(materials=ERROR_TEXT, textcheck_dismiss="1",
              textcheck_key=r.context["refused"].keys, textcheck_reason="材料名称照抄原件"),
    )  # fmt: skip
    assert r.status_code == 302
    assert Service.objects.get(code="HJ01").materials == ERROR_TEXT
    assert list(Dismissal.objects.values_list("found", "reason")) == [(",", "材料名称照抄原件")]
    # saved again unchanged: the dismissal holds, no question asked
    s = Service.objects.get(code="HJ01")
    update_service(s, ServiceInput.of(s), account=city_account)


def test_a_warning_is_shown_after_the_guide_is_saved(city_account: Account, editor: Client) -> None:
    r = editor.post(reverse("services:service_create"), guide(summary=WARNING_TEXT), follow=True)
    assert [str(m) for m in r.context["messages"]] == [
        "已新建事项“户籍迁入”",
        "已保存，校对提示：【提示】简介：作破折号时应为「——」（两个「—」）；作连接号（如北京—上海）"
        "可保留（GB/T 15834-2011）：「—」，建议：——",
    ]


def test_a_guide_save_checks_each_text_once(
    city_account: Account, editor: Client, checker_calls: list[tuple[str, str]]
) -> None:
    r = editor.post(reverse("services:service_create"), guide(summary=WARNING_TEXT), follow=True)
    assert sorted(checker_calls) == [
        ("guide", "户口簿"),
        ("guide", "户籍迁入"),
        ("guide", WARNING_TEXT),
    ]
    assert [str(m).split("：")[0] for m in r.context["messages"]] == [
        "已新建事项“户籍迁入”",
        "已保存，校对提示",
    ]
    checker_calls.clear()
    s = Service.objects.get(code="HJ01")
    r = editor.post(reverse("services:service_edit", args=[s.pk]),
                    guide(summary=WARNING_TEXT, materials="户口簿\n身份证"), follow=True)  # fmt: skip
    assert sorted(checker_calls) == [
        ("guide", "户口簿\n身份证"),
        ("guide", "户籍迁入"),
        ("guide", WARNING_TEXT),
    ]
    assert [str(m).split("：")[0] for m in r.context["messages"]] == [
        "已保存事项“户籍迁入”",
        "已保存，校对提示",
    ]


def test_a_withdrawn_row_is_not_proofread(
    city_account: Account, county_account: Account, city: Organisation, county: Organisation
) -> None:
    create_service(ServiceInput(code="HJ01", name="户籍迁入", category="household"),
                   organisation=city)  # fmt: skip
    s = create_service(
        ServiceInput(code="HJ01", name=f"户籍 {MOBILE}", category="household", withdrawn=True),
        organisation=county,
    )
    assert s.withdrawn


# ------------------------------------------------------------------ the catalogue's import


def csv_file(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode()


HEAD = ["事项编码", "事项名称", "类别", "简介"]


def test_an_import_refuses_the_row_with_personal_data_naming_it(
    city_account: Account, city: Organisation
) -> None:
    before = state()
    data = csv_file([HEAD, ["A1", "户籍迁入", "其他", "办理须知"],
                     ["A2", "户籍迁出", "其他", f"联系 {MOBILE}"]])  # fmt: skip
    with pytest.raises(CatalogueImportError) as exc:
        import_catalogue(city, "s.csv", data, account=city_account)
    assert exc.value.errors == [
        f"第 3 行：【否决】简介：含有手机号码，发布前应删除或遮盖（《个人信息保护法》）：「{MOBILE}」，"
        "建议：138****5678 / row 3: personal_data.mobile"
    ]
    assert state() == before


def test_an_import_reports_errors_and_warnings_and_imports_the_rows(
    city_account: Account, city: Organisation
) -> None:
    data = csv_file([HEAD, ["A1", "户籍迁入", "其他", ERROR_TEXT],
                     ["A2", "户籍迁出", "其他", WARNING_TEXT]])  # fmt: skip
    result = import_catalogue(city, "s.csv", data, account=city_account)
    assert result.services_created == ["A1", "A2"]
    assert [n.split("：")[0:2] for n in result.notes] == [
        ["第 2 行", "【错误】简介"],
        ["第 3 行", "【提示】简介"],
    ]
    # the same file again changes no guide: nothing to report
    assert import_catalogue(city, "s.csv", data, account=city_account).notes == []


def test_the_import_page_shows_the_notes(city_account: Account, editor: Client) -> None:
    f = io.BytesIO(csv_file([HEAD, ["A1", "户籍迁入", "其他", ERROR_TEXT]]))
    f.name = "s.csv"
    r = editor.post(reverse("services:import"), {"file": f}, follow=True)
    assert [str(m).split("：")[0] for m in r.context["messages"]] == [
        "导入完成",
        "已导入，校对提示",
    ]
    assert Service.objects.get().summary == ERROR_TEXT


def test_the_command_reads_the_organisations_account_and_prints_the_notes(
    city_account: Account, city: Organisation, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([HEAD, ["A1", "户籍迁入", "其他", f"身份证 {ID}"]]))
    with pytest.raises(CommandError, match="第 2 行：【否决】简介：含有身份证号码"):
        call_command("services", "import", "--org", str(city.pk), str(bad))
    ok = tmp_path / "ok.csv"
    ok.write_bytes(csv_file([HEAD, ["A1", "户籍迁入", "其他", ERROR_TEXT]]))
    err = StringIO()
    call_command(
        "services", "import", "--org", str(city.pk), str(ok), stdout=StringIO(), stderr=err
    )
    assert "第 2 行：【错误】简介：中文语句中的逗号应使用全角形式" in err.getvalue()


# ------------------------------------------------------------------ the menu


def menu(sub: str) -> dict[str, str]:
    tree = {"button": [{"name": "服务", "sub_button": [{"name": sub, "kind": "hub"}]}]}
    return {"tree": json.dumps(tree, ensure_ascii=False), "conditional": "[]"}


def test_a_button_named_with_a_phone_number_is_refused(
    city_account: Account, editor: Client
) -> None:
    before = state()
    r = editor.post("/services/menu/", menu(f"客服{MOBILE}"))
    assert r.status_code == 400
    assert [str(f) for f in r.context["refused"].blocking] == [
        "【否决】「服务」›「客服13812345678」：含有手机号码，发布前应删除或遮盖（《个人信息保护法》）："
        f"「{MOBILE}」，建议：138****5678"
    ]
    assert 'id="textcheck-veto"' in r.content.decode()
    assert r.context["setup"]["tree"]["button"][0]["sub_button"][0]["name"] == f"客服{MOBILE}"
    assert state() == before


def test_an_admin_dismisses_an_error_in_a_button_name(city_account: Account, admin: Client) -> None:
    r = admin.post("/services/menu/", menu("社保,医保"))
    assert r.status_code == 400 and 'id="textcheck-dismiss"' in r.content.decode()
    r = admin.post("/services/menu/", {**menu("社保,医保"), "textcheck_dismiss": "1",
                                       "textcheck_key": r.context["refused"].keys,
                                       "textcheck_reason": "按钮文字需要短"})  # fmt: skip
    assert r.status_code == 302
    assert MenuVersion.objects.get().tree["button"][0]["sub_button"][0]["name"] == "社保,医保"


def test_a_warning_in_a_button_name_is_shown_after_the_save(
    city_account: Account, editor: Client
) -> None:
    r = editor.post("/services/menu/", menu("政务服务—户籍"), follow=True)
    assert [str(m).split("：")[0] for m in r.context["messages"]] == [
        "已保存草稿（版本 1），可以发布了。",
        "已保存，校对提示",
    ]


def test_a_menu_save_checks_its_button_names_once(
    city_account: Account, editor: Client, checker_calls: list[tuple[str, str]]
) -> None:
    r = editor.post("/services/menu/", menu("政务服务—户籍"), follow=True)
    assert sorted(checker_calls) == [("menu", "政务服务—户籍"), ("menu", "服务")]
    assert [str(m).split("：")[0] for m in r.context["messages"]][-1] == "已保存，校对提示"
