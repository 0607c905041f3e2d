"""The console's catalogue pages: what a county account sees (own rows, inherited ones,
overrides, withdrawals), the forms and their refusals, import with bad rows, export,
and who may do what."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from govwx.accounts.models import Account, AuditEvent, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.services import catalogue, catalogue_writes
from govwx.services.catalogue_writes import (
    OfficeInput,
    ServiceInput,
    create_office,
    create_service,
    override_service,
    withdraw_service,
)
from govwx.services.models import Office, Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(
    city: Organisation, county: Organisation, hrss: Department, county_account: Account
) -> dict[str, Any]:
    hall = create_office(OfficeInput("HALL", "市民中心", "人民路 1 号"), organisation=city)
    sb = create_service(
        ServiceInput(code="SB001", name="养老保险参保", category="social_security", keywords=["参保"]),
        organisation=city,
    )  # fmt: skip
    gjj = create_service(
        ServiceInput(code="GJJ01", name="公积金提取", category="housing"), organisation=city
    )
    etc = create_service(
        ServiceInput(code="ETC01", name="ETC 办理", category="transport"), organisation=city
    )
    own = create_service(
        ServiceInput(code="XJ01", name="县级事项", category="other", keywords=["县级"]),
        organisation=county,
    )
    override_service(gjj, ServiceInput(code="", name="县公积金提取", category="housing"), organisation=county)  # fmt: skip
    withdraw_service(etc, organisation=county)
    return {"city": city, "county": county, "hall": hall, "sb": sb, "gjj": gjj, "etc": etc, "own": own}  # fmt: skip


def member(account: Account, role: str, django_user_model: Any, name: str) -> Client:
    user = django_user_model.objects.create_user(name)
    add_member(account, user, role)
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def editor(county_account: Account, django_user_model: Any) -> Client:
    return member(county_account, Membership.Role.EDITOR, django_user_model, "county-editor")


@pytest.fixture
def reviewer(county_account: Account, django_user_model: Any) -> Client:
    return member(county_account, Membership.Role.REVIEWER, django_user_model, "county-reviewer")


def rows(html: str) -> list[tuple[str, str]]:
    """(code, origin) of each row of the catalogue table, in order."""
    return re.findall(r'<tr class="origin-(\w+)[^"]*" data-code="([^"]+)">', html)


def state() -> tuple[Any, ...]:
    return (
        list(Service.objects.order_by("pk").values_list("pk", "code", "name", "withdrawn", "online_url")),
        list(Office.objects.order_by("pk").values_list("pk", "code", "name")),
        AuditEvent.objects.count(),
    )  # fmt: skip


def test_the_catalogue_shows_where_each_row_comes_from(
    world: dict[str, Any], editor: Client, django_assert_num_queries: Any
) -> None:
    # the same number of queries however many services
    with django_assert_num_queries(10):
        editor.get(reverse("services:catalogue"))
    for i in range(5):
        create_service(
            ServiceInput(code=f"T{i}", name=f"税务{i}", category="tax"), organisation=world["city"]
        )
    with django_assert_num_queries(10):
        r = editor.get(reverse("services:catalogue"), {"category": "", "origin": ""})
    html = r.content.decode()
    assert rows(html) == [
        ("inherited", "SB001"),
        ("overridden", "GJJ01"),
        ("withdrawn", "ETC01"),
        ("inherited", "T0"), ("inherited", "T1"), ("inherited", "T2"), ("inherited", "T3"),
        ("inherited", "T4"),
        ("own", "XJ01"),
    ]  # fmt: skip
    assert "继承自示例市" in html and "本级覆盖（示例市）" in html
    assert 'href="http://127.0.0.1:8000/h/wx0000000000000c01/"' in html
    sb = world["sb"]
    assert f'href="/services/catalogue/{sb.pk}/override/"' in html
    assert f'href="/services/catalogue/{sb.pk}/withdraw/"' in html
    assert '<span class="muted push-right" id="shown">显示 9 / 共 9 个事项</span>' in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"origin": "inherited"}, ["SB001"]),
        ({"origin": "withdrawn"}, ["ETC01"]),
        ({"origin": "overridden"}, ["GJJ01"]),
        ({"origin": "own"}, ["XJ01"]),
        ({"category": "housing"}, ["GJJ01"]),
        ({"q": "参保"}, ["SB001"]),
        ({"q": "xj"}, ["XJ01"]),
    ],
)
def test_the_catalogue_filters(
    world: dict[str, Any], reviewer: Client, query: dict[str, str], expected: list[str]
) -> None:
    html = reviewer.get(reverse("services:catalogue"), query).content.decode()
    assert [code for _o, code in rows(html)] == expected
    assert 'id="new-service"' not in html  # a reviewer reads only


def test_anonymous_goes_to_the_login_page(world: dict[str, Any]) -> None:
    r = Client().get(reverse("services:catalogue"))
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_a_new_service_is_created_from_the_form(
    world: dict[str, Any], editor: Client, county_account: Account, hrss: Department
) -> None:
    r = editor.post(
        reverse("services:service_create"),
        {
            "code": "XJ02", "name": "新生儿落户", "category": "household", "department": hrss.pk,
            "materials": "出生医学证明\n户口簿", "steps": "申请；审核", "keywords": "落户、新生儿",
            "offices": ["HALL"], "position": "0", "online_url": "https://zwfw.example.gov.cn/x",
        },
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"] == reverse("services:catalogue")
    s = Service.objects.get(organisation=county_account.organisation, code="XJ02")
    assert (s.materials, s.steps, s.keywords, s.department_id) == (
        "出生医学证明\n户口簿",
        "申请\n审核",
        ["落户", "新生儿"],
        hrss.pk,
    )
    assert [o.code for o in s.offices.all()] == ["HALL"]


def test_a_service_created_meanwhile_with_the_same_code_is_a_form_error_not_a_500(
    world: dict[str, Any], editor: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = catalogue_writes.check_service_code

    def check_then_the_other_writer_commits(org: Organisation, code: str, **kw: Any) -> None:
        check(org, code, **kw)
        Service.objects.create(organisation=org, code=code, name="并发写入", category="other")

    monkeypatch.setattr(catalogue_writes, "check_service_code", check_then_the_other_writer_commits)
    before = state()
    r = editor.post(
        reverse("services:service_create"),
        {"code": "XJ02", "name": "新生儿落户", "category": "household", "position": "0"},
    )
    assert r.status_code == 200
    assert "事项编码 XJ02 已存在 / service code XJ02 already exists" in r.content.decode()
    assert state() == before


def test_a_guide_with_a_malformed_url_is_refused_on_the_form(
    world: dict[str, Any], editor: Client
) -> None:
    before = state()
    r = editor.post(
        reverse("services:service_create"),
        {"code": "XJ02", "name": "新事项", "category": "other", "position": "0",
         "online_url": "htp:/zwfw.example.gov.cn", "keywords": "参保"},
    )  # fmt: skip
    html = r.content.decode()
    assert r.status_code == 200
    assert "网址须以 http:// 或 https:// 开头并含有域名：htp:/zwfw.example.gov.cn" in html
    assert "关键词“参保”已被事项“养老保险参保”（SB001）使用" not in html  # one step at a time
    assert state() == before


def test_a_keyword_clash_is_shown_on_the_form(world: dict[str, Any], editor: Client) -> None:
    before = state()
    r = editor.post(
        reverse("services:service_create"),
        {
            "code": "XJ02",
            "name": "新事项",
            "category": "other",
            "position": "0",
            "keywords": "参保",
        },
    )
    assert "关键词“参保”已被事项“养老保险参保”（SB001）使用" in r.content.decode()
    assert state() == before


def test_editing_an_own_service(world: dict[str, Any], editor: Client) -> None:
    own = world["own"]
    r = editor.get(reverse("services:service_edit", kwargs={"pk": own.pk}))
    assert 'value="县级事项"' in r.content.decode()
    r = editor.post(
        reverse("services:service_edit", kwargs={"pk": own.pk}),
        {"code": "XJ01", "name": "县级事项（改）", "category": "other", "position": "0", "keywords": "县级"},
    )  # fmt: skip
    assert r.status_code == 302
    own.refresh_from_db()
    assert own.name == "县级事项（改）"


def test_the_citys_service_cannot_be_edited_from_the_county(
    world: dict[str, Any], editor: Client
) -> None:
    before = state()
    url = reverse("services:service_edit", kwargs={"pk": world["sb"].pk})
    assert editor.get(url).status_code == 404
    assert editor.post(url, {"code": "SB001", "name": "x", "category": "other", "position": "0"}).status_code == 404  # fmt: skip
    assert state() == before


def test_overriding_an_inherited_service_starts_from_its_guide(
    world: dict[str, Any], editor: Client, county_account: Account
) -> None:
    sb = world["sb"]
    url = reverse("services:service_override", kwargs={"pk": sb.pk})
    html = editor.get(url).content.decode()
    assert 'value="养老保险参保"' in html and "此事项继承自示例市" in html
    r = editor.post(url, {"code": "ignored", "name": "县养老保险参保", "category": "social_security", "position": "0", "keywords": "参保"})  # fmt: skip
    assert r.status_code == 302
    s = catalogue.service_for(county_account, "SB001")
    assert s is not None and (s.organisation_id, s.name) == (world["county"].pk, "县养老保险参保")
    # once overridden, the override link opens the own row
    r = editor.get(url)
    assert r.status_code == 302 and r["Location"] == reverse(
        "services:service_edit", kwargs={"pk": s.pk}
    )


def test_withdrawing_and_restoring_an_inherited_service(
    world: dict[str, Any], editor: Client, county_account: Account
) -> None:
    sb = world["sb"]
    url = reverse("services:service_withdraw", kwargs={"pk": sb.pk})
    assert "将不再出现在本公众号的服务大厅" in editor.get(url).content.decode()
    assert editor.post(url).status_code == 302
    assert catalogue.service_for(county_account, "SB001") is None
    row = Service.objects.get(organisation=world["county"], code="SB001")
    delete = reverse("services:service_delete", kwargs={"pk": row.pk})
    assert "改用示例市的版本" in editor.get(delete).content.decode()
    assert editor.post(delete).status_code == 302
    s = catalogue.service_for(county_account, "SB001")
    assert s is not None and s.pk == sb.pk


def test_a_reviewer_may_read_but_not_write(world: dict[str, Any], reviewer: Client) -> None:
    before = state()
    assert reviewer.get(reverse("services:offices")).status_code == 200
    for url in (
        reverse("services:service_create"),
        reverse("services:service_withdraw", kwargs={"pk": world["sb"].pk}),
        reverse("services:service_delete", kwargs={"pk": world["own"].pk}),
        reverse("services:import"),
    ):
        assert reviewer.post(url, {"code": "Z", "name": "z", "category": "other", "position": "0"}).status_code == 403  # fmt: skip
    assert state() == before


def test_an_outsider_cannot_reach_the_countys_rows(world: dict[str, Any], outsider: Any) -> None:
    c = Client()
    c.force_login(outsider)
    before = state()
    assert (
        c.get(reverse("services:service_edit", kwargs={"pk": world["own"].pk})).status_code == 404
    )
    assert (
        c.post(reverse("services:service_delete", kwargs={"pk": world["own"].pk})).status_code
        == 404
    )
    html = c.get(reverse("services:catalogue")).content.decode()
    assert 'id="no-organisation"' in html and "XJ01" not in html
    assert state() == before


# ------------------------------------------------------------------ offices


def test_offices_list_create_and_refuse_bad_coordinates(
    world: dict[str, Any], editor: Client
) -> None:
    html = editor.get(reverse("services:offices")).content.decode()
    assert rows(html) == [("inherited", "HALL")]
    before = state()
    r = editor.post(
        reverse("services:office_create"),
        {"code": "XJ-HALL", "name": "县政务中心", "address": "县府路 1 号", "latitude": "120", "longitude": "30"},
    )  # fmt: skip
    assert "纬度须在 -90 到 90 之间：120.0" in r.content.decode()
    assert state() == before
    r = editor.post(
        reverse("services:office_create"),
        {"code": "XJ-HALL", "name": "县政务中心", "address": "县府路 1 号", "latitude": "30", "longitude": "120", "phone": "0571-1234"},
    )  # fmt: skip
    assert r.status_code == 302
    o = Office.objects.get(code="XJ-HALL")
    assert (o.organisation_id, o.latitude, o.longitude) == (world["county"].pk, 30.0, 120.0)
    r = editor.post(
        reverse("services:office_edit", kwargs={"pk": o.pk}),
        {"code": "XJ-HALL", "name": "县政务服务中心", "address": "县府路 1 号"},
    )
    assert r.status_code == 302
    o.refresh_from_db()
    assert (o.name, o.latitude) == ("县政务服务中心", None)


def test_an_inherited_office_is_overridden_and_withdrawn(
    world: dict[str, Any], editor: Client, county_account: Account
) -> None:
    hall = world["hall"]
    r = editor.post(
        reverse("services:office_override", kwargs={"pk": hall.pk}),
        {"name": "市民中心（县窗口）", "address": "县府路 2 号"},
    )
    assert r.status_code == 302
    assert [(o.code, o.name) for o in catalogue.offices_for(county_account)] == [("HALL", "市民中心（县窗口）")]  # fmt: skip
    assert (
        editor.post(reverse("services:office_withdraw", kwargs={"pk": hall.pk})).status_code == 302
    )
    assert catalogue.offices_for(county_account) == []


# ------------------------------------------------------------------ import, export


def upload(name: str, rows: list[list[str]]) -> io.BytesIO:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    f = io.BytesIO(("\ufeff" + buf.getvalue()).encode())
    f.name = name
    return f


def test_an_import_with_bad_rows_shows_each_and_imports_nothing(
    world: dict[str, Any], editor: Client
) -> None:
    before = state()
    bad = upload("s.csv", [["事项编码", "事项名称", "类别", "在线办理网址"], ["N1", "新事项", "其他", "https:/x"], ["N2", "", "其他", ""]])  # fmt: skip
    r = editor.post(reverse("services:import"), {"file": bad})
    html = r.content.decode()
    assert r.status_code == 200
    items = re.findall(r"<li>(第 \d+ 行：.*?)</li>", html)
    assert items == [
        "第 2 行：网址须以 http:// 或 https:// 开头并含有域名：https:/x / "
        "row 2: URL must be http or https with a host: &#x27;https:/x&#x27;",
        "第 3 行：事项名称不能为空 / row 3: name is required",
    ]
    assert "没有导入任何内容：发现 2 处问题" in html
    assert state() == before
    good = upload("s.csv", [["事项编码", "事项名称", "类别", "在线办理网址"], ["N1", "新事项", "其他", "https://x.example.gov.cn/"], ["N2", "另一个", "其他", ""]])  # fmt: skip
    r = editor.post(reverse("services:import"), {"file": good})
    assert r.status_code == 302
    assert sorted(Service.objects.filter(organisation=world["county"]).values_list("code", flat=True)) == [
        "ETC01", "GJJ01", "N1", "N2", "XJ01",
    ]  # fmt: skip


def test_export_as_csv_and_xlsx(world: dict[str, Any], reviewer: Client) -> None:
    r = reviewer.get(reverse("services:export"), {"format": "csv"})
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        r["Content-Disposition"]
        == f'attachment; filename="catalogue-services-{world["county"].pk}.csv"'
    )
    lines = r.content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines] == ["事项编码", "ETC01", "GJJ01", "XJ01"]
    r = reviewer.get(reverse("services:export"), {"format": "xlsx"})
    wb = load_workbook(io.BytesIO(r.content))
    assert [c.value for c in wb["服务事项"]["A"]] == ["事项编码", "ETC01", "GJJ01", "XJ01"]
    assert reviewer.get(reverse("services:export"), {"format": "pdf"}).status_code == 404


def test_withdrawing_a_service_the_menu_opens_is_refused_on_the_page(
    world: dict[str, Any], editor: Client, county_account: Account
) -> None:
    from govwx.services.models import MenuVersion

    MenuVersion.objects.create(
        account=county_account,
        number=1,
        status=MenuVersion.Status.PUBLISHED,
        tree={"button": [{"name": "社保", "kind": "service", "service": "SB001"}]},
    )
    before = state()
    url = reverse("services:service_withdraw", kwargs={"pk": world["sb"].pk})
    r = editor.post(url, follow=True)
    assert "自定义菜单正链接到这个事项，先修改菜单再操作（示例县发布：社保）" in r.content.decode()
    assert state() == before
