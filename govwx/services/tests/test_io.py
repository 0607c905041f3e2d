"""Import and export of the catalogue as CSV and Excel: every bad row reported with its
row number and nothing imported, the fixed file then imported, round trips that change
nothing, and the `govwx services` command."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from govwx.accounts.models import Account, AuditEvent, Department, Organisation
from govwx.services import catalogue
from govwx.services.io import (
    CatalogueImportError,
    export_csv,
    export_xlsx,
    import_catalogue,
)
from govwx.services.models import Office, Service
from govwx.services.services import OfficeInput, ServiceInput, create_office, create_service

pytestmark = pytest.mark.django_db

HEADER = [
    "事项编码",
    "事项名称",
    "类别",
    "责任部门",
    "在线办理网址",
    "申请材料",
    "关键词",
    "办理地点",
]


def csv_bytes(rows: list[list[str]], *, bom: bool = True, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return (("\ufeff" if bom else "") + buf.getvalue()).encode(encoding)


def state() -> tuple[Any, ...]:
    return (
        list(
            Service.objects.order_by("pk").values_list(
                "pk", "organisation_id", "code", "name", "category", "materials", "keywords",
                "online_url", "department_id", "withdrawn", "updated_at",
            )
        ),
        list(Office.objects.order_by("pk").values_list("pk", "code", "name", "latitude", "updated_at")),
        sorted(Service.offices.through.objects.values_list("service_id", "office_id")),
        AuditEvent.objects.count(),
        list(Account.objects.order_by("pk").values_list("rules_version", flat=True)),
    )  # fmt: skip


@pytest.fixture
def hall(city: Organisation) -> Office:
    return create_office(
        OfficeInput("HALL", "市民中心", "人民路 1 号", "工作日 9:00-17:00", "0571-12345", 30.27, 120.15),
        organisation=city,
    )  # fmt: skip


GOOD = [
    HEADER,
    ["SB001", "养老保险参保登记", "社会保障", "市人力资源和社会保障局", "https://zwfw.example.gov.cn/sb", "身份证；户口簿", "养老、参保", "HALL"],
    ["GJJ01", "住房公积金提取", "housing", "", "", "身份证\n购房合同", "公积金,提取", ""],
    ["JY01", "失业登记", "就业创业", "", "", "", "失业", "HALL"],
]  # fmt: skip


def test_a_file_with_bad_rows_reports_each_row_and_imports_nothing(
    city: Organisation, hrss: Department, hall: Office
) -> None:
    rows = [
        HEADER,
        ["SB001", "养老保险参保登记", "社会保障", "市人力资源和社会保障局", "https://zwfw.example.gov.cn/sb", "身份证", "养老", "HALL"],
        ["GJJ01", "", "天气", "", "", "", "", ""],
        ["JY01", "失业登记", "就业创业", "不存在的局", "ftp://x", "", "", "NOPE"],
        ["", "", "", "", "", "", "", ""],
        ["SB001", "重复的编码", "社会保障", "", "", "", "", ""],
        ["ZZ01", "另一个事项", "其他", "", "", "", "养老", ""],
    ]  # fmt: skip
    before = state()
    with pytest.raises(CatalogueImportError) as exc:
        import_catalogue(city, "services.csv", csv_bytes(rows))
    assert exc.value.errors == [
        "第 3 行：未知的类别：天气；事项名称不能为空 / "
        "row 3: unknown category: '天气'; name is required",
        "第 4 行：责任部门“不存在的局”不属于本级或上级组织；"
        "网址须以 http:// 或 https:// 开头并含有域名：ftp://x；"
        "未知的办理地点（网点编码）：NOPE / "
        "row 4: unknown department '不存在的局' (not of this organisation or above); "
        "URL must be http or https with a host: 'ftp://x'; unknown offices: NOPE",
        "第 6 行：事项编码 SB001 与第 2 行重复 / row 6: service code SB001 repeats row 2",
        "第 7 行：关键词“养老”已被事项“养老保险参保登记”（SB001）使用 / "
        "row 7: keyword '养老' is already used by service SB001",
    ]
    assert state() == before


def test_the_fixed_file_imports_everything(
    city: Organisation, hrss: Department, hall: Office, city_account: Account
) -> None:
    version = city_account.rules_version
    result = import_catalogue(city, "services.csv", csv_bytes(GOOD))
    assert (result.services_created, result.services_updated, result.unchanged) == (
        ["SB001", "GJJ01", "JY01"],
        [],
        0,
    )
    sb = Service.objects.get(code="SB001")
    assert (sb.category, sb.department_id, sb.materials, sb.keywords) == (
        "social_security",
        hrss.pk,
        "身份证\n户口簿",
        ["养老", "参保"],
    )
    assert [o.code for o in sb.offices.all()] == ["HALL"]
    gjj = Service.objects.get(code="GJJ01")
    assert (gjj.category, gjj.materials, gjj.keywords) == (
        "housing",
        "身份证\n购房合同",
        ["公积金", "提取"],
    )
    city_account.refresh_from_db()
    assert city_account.rules_version == version + 1
    event = AuditEvent.objects.get(name="catalogue.imported")
    assert event.data["services_created"] == ["SB001", "GJJ01", "JY01"]


def test_an_import_updates_by_code_and_leaves_other_rows_alone(
    city: Organisation, hrss: Department, hall: Office
) -> None:
    keep = create_service(
        ServiceInput(code="KEEP", name="不在文件里的事项", category="other"), organisation=city
    )
    create_service(
        ServiceInput(code="SB001", name="旧名称", category="other", keywords=["旧词"]),
        organisation=city,
    )
    result = import_catalogue(city, "s.csv", csv_bytes(GOOD))
    assert (result.services_created, result.services_updated) == (["GJJ01", "JY01"], ["SB001"])
    assert Service.objects.get(code="SB001").name == "养老保险参保登记"
    assert Service.objects.get(pk=keep.pk).name == "不在文件里的事项"
    assert Service.objects.filter(organisation=city).count() == 4


def test_plain_utf8_gbk_and_english_headers_are_read(city: Organisation) -> None:
    english = [["code", "name", "category", "keywords"], ["A1", "户口迁移", "household", "迁户口"]]
    import_catalogue(city, "a.csv", csv_bytes(english, bom=False))
    gbk = [["事项编码", "事项名称", "类别"], ["B1", "结婚登记", "民政婚育"]]
    import_catalogue(city, "b.csv", csv_bytes(gbk, bom=False, encoding="gb18030"))
    assert list(Service.objects.order_by("code").values_list("code", "name", "category")) == [
        ("A1", "户口迁移", "household"),
        ("B1", "结婚登记", "civil"),
    ]


def test_a_header_it_does_not_know_is_reported_on_row_1(city: Organisation) -> None:
    with pytest.raises(CatalogueImportError) as exc:
        import_catalogue(
            city, "a.csv", csv_bytes([["事项编码", "名字", "类别"], ["A", "B", "其他"]])
        )
    assert exc.value.errors == [
        "第 1 行：未知的列“名字”；缺少“事项名称”列 / "
        "row 1: unknown column '名字'; missing column 'name'"
    ]
    assert Service.objects.count() == 0


def test_a_file_that_is_neither_utf8_nor_a_workbook_is_refused(city: Organisation) -> None:
    with pytest.raises(CatalogueImportError) as exc:
        import_catalogue(city, "x.xlsx", b"PK\x03\x04 not really a zip")
    assert exc.value.errors[0].startswith("无法读取 Excel 文件 / cannot read the Excel file")


def _fill(city: Organisation, county: Organisation, hrss: Department) -> None:
    create_office(
        OfficeInput("HALL", "市民中心", "人民路 1 号", "工作日 9:00-17:00\n周六上午", "0571-12345", 30.274084, 120.15507),
        organisation=city,
    )  # fmt: skip
    create_office(OfficeInput("NOCOORD", "社区服务站", "解放路 2 号"), organisation=city)
    create_service(
        ServiceInput(
            code="SB001", name="养老保险参保登记", category="social_security",
            department_id=hrss.pk, summary="城乡居民参保", eligibility="未参加职工养老保险的居民",
            materials=["身份证", "户口簿"], steps=["申请", "受理", "办结"], fees="不收费",
            time_limit="5 个工作日", online_url="https://zwfw.example.gov.cn/sb?a=1&b=2",
            miniprogram_appid="wx0123456789abcdef", miniprogram_path="pages/sb/index",
            keywords=["养老", "参保"], office_codes=["HALL", "NOCOORD"], position=3,
        ),
        organisation=city,
    )  # fmt: skip
    create_service(
        ServiceInput(code="0012", name="编码以零开头", category="other"), organisation=city
    )
    sb = Service.objects.get(code="SB001")
    from govwx.services.services import withdraw_service

    withdraw_service(sb, organisation=county)  # the county's export holds a withdrawn row


def test_xlsx_round_trip_changes_nothing(
    city: Organisation, county: Organisation, hrss: Department
) -> None:
    _fill(city, county, hrss)
    for org in (city, county):
        data = export_xlsx(org)
        wb = load_workbook(io.BytesIO(data))
        assert wb.sheetnames == ["服务事项", "办事网点"]
        before = state()
        result = import_catalogue(org, "c.xlsx", data)
        assert (result.changed, state()) == (0, before)
    wb = load_workbook(io.BytesIO(export_xlsx(city)))
    header = [c.value for c in wb["服务事项"][1]]
    assert header[:4] == ["事项编码", "事项名称", "类别", "责任部门"]
    first = {h: c.value for h, c in zip(header, wb["服务事项"][2], strict=True)}
    assert (first["事项编码"], first["类别"], first["申请材料"], first["关键词"], first["办理地点"]) == (
        "0012", "其他", None, None, None,
    )  # fmt: skip


def test_csv_round_trip_changes_nothing_and_starts_with_a_bom(
    city: Organisation, county: Organisation, hrss: Department
) -> None:
    _fill(city, county, hrss)
    services = export_csv(city)
    offices = export_csv(city, "offices")
    assert services.startswith("\ufeff事项编码,事项名称,类别".encode())
    assert offices.startswith("\ufeff网点编码,网点名称,地址".encode())
    before = state()
    assert import_catalogue(city, "o.csv", offices).changed == 0
    assert import_catalogue(city, "s.csv", services).changed == 0
    assert state() == before


def test_one_workbook_brings_offices_and_the_services_that_name_them(
    city: Organisation, county_account: Account
) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "事项"
    ws.append(["事项编码", "事项名称", "类别", "办理地点", "关键词"])
    ws.append(["T1", "驾驶证换证", "交通出行", "DMV", "换驾照"])
    ws2 = wb.create_sheet("网点")
    ws2.append(["网点编码", "网点名称", "地址", "纬度", "经度"])
    ws2.append(["DMV", "车管所", "北环路 8 号", 30.3, 120.2])
    buf = io.BytesIO()
    wb.save(buf)
    import_catalogue(city, "t.xlsx", buf.getvalue())
    s = catalogue.service_for(county_account, "T1")
    assert s is not None and [(o.code, o.latitude) for o in s.offices.all()] == [("DMV", 30.3)]


def test_bad_rows_on_a_sheet_are_named_by_the_sheet(city: Organisation) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "办事网点"
    ws.append(["网点编码", "网点名称", "地址", "纬度", "经度"])
    ws.append(["A", "甲", "路 1 号", 95, 120])
    ws.append(["B", "乙", "路 2 号", "北纬三十度", 120])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(CatalogueImportError) as exc:
        import_catalogue(city, "t.xlsx", buf.getvalue())
    assert exc.value.errors == [
        "办事网点第 2 行：纬度须在 -90 到 90 之间：95.0 / "
        "offices row 2: latitude must be within -90..90: 95.0",
        "办事网点第 3 行：“纬度”不是数字：北纬三十度；纬度和经度须同时填写 / "
        "offices row 3: '纬度' is not a number: '北纬三十度'; latitude and longitude go together",
    ]
    assert Office.objects.count() == 0


# ------------------------------------------------------------------ the command


def test_the_command_exports_and_imports_by_organisation_name_or_id(
    city: Organisation, county: Organisation, hrss: Department, tmp_path: Path
) -> None:
    _fill(city, county, hrss)
    target = tmp_path / "city.xlsx"
    out = io.StringIO()
    call_command("services", "export", "--org", "示例市", str(target), stdout=out)
    assert out.getvalue().strip() == f"已导出到 {target} / exported to {target}"
    out = io.StringIO()
    call_command("services", "import", "--org", str(city.pk), str(target), stdout=out)
    assert out.getvalue().strip() == (
        "新增事项 0，更新 0；新增网点 0，更新 0；未变 4 / services created 0, updated 0; "
        "offices created 0, updated 0; unchanged 4"
    )


def test_the_command_reports_every_bad_row(city: Organisation, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes([["事项编码", "事项名称", "类别"], ["A", "", "其他"], ["B", "乙", "x"]])
    )
    with pytest.raises(CommandError) as exc:
        call_command("services", "import", "--org", "示例市", str(bad))
    assert str(exc.value) == (
        "第 2 行：事项名称不能为空 / row 2: name is required\n"
        "第 3 行：未知的类别：x / row 3: unknown category: 'x'"
    )
    with pytest.raises(CommandError) as exc:
        call_command("services", "import", "--org", "没有的组织", str(bad))
    assert str(exc.value) == "没有这个组织：没有的组织 / no organisation '没有的组织'"
