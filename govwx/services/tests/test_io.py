"""Import and export of the catalogue as CSV and Excel: every bad row reported with its
row number and nothing imported, the fixed file then imported, round trips that change
nothing, and the `govwx services` command."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from govwx.accounts.models import Account, AuditEvent, Department, Organisation
from govwx.lib import textcheck
from govwx.services import catalogue
from govwx.services import io as catalogue_io
from govwx.services.catalogue_writes import OfficeInput, ServiceInput, create_office, create_service
from govwx.services.io import (
    CatalogueImportError,
    export_csv,
    export_xlsx,
    import_catalogue,
)
from govwx.services.models import Office, Service

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


FORMULA = '=HYPERLINK("https://example.invalid/","apply online")'


def _fill(city: Organisation, county: Organisation, hrss: Department) -> None:
    create_office(
        OfficeInput("HALL", "市民中心", "人民路 1 号", "工作日 9:00-17:00\n周六上午", "+86 571 8712 3456", 30.274084, 120.15507),
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
    create_service(
        ServiceInput(
            code="FX01", name="公式一样的文字", category="other", summary=FORMULA,
            eligibility="'=1+1 照原样保存", materials=["-身份证", "@户口簿"], fees="-",
            time_limit="+3 个工作日", position=9,
        ),
        organisation=city,
    )  # fmt: skip
    sb = Service.objects.get(code="SB001")
    from govwx.services.catalogue_writes import withdraw_service

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


def test_a_csv_export_neutralises_formulas_and_the_import_takes_the_quote_off(
    city: Organisation, county: Organisation, hrss: Department
) -> None:
    _fill(city, county, hrss)
    services = list(csv.reader(io.StringIO(export_csv(city).decode("utf-8-sig"))))
    offices = list(csv.reader(io.StringIO(export_csv(city, "offices").decode("utf-8-sig"))))
    fx = dict(zip(services[0], next(r for r in services if r[0] == "FX01"), strict=True))
    assert (fx["简介"], fx["办理对象"], fx["申请材料"], fx["收费标准"], fx["法定时限"]) == (
        "'" + FORMULA, "''=1+1 照原样保存", "'-身份证\n@户口簿", "'-", "'+3 个工作日",
    )  # fmt: skip
    hall = dict(zip(offices[0], offices[1], strict=True))
    assert (hall["网点编码"], hall["电话"]) == ("HALL", "'+86 571 8712 3456")
    cells = [c for table in (services, offices) for row in table for c in row]
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    # Back in: the texts as they were stored.
    Service.objects.filter(code="FX01").delete()
    Office.objects.filter(organisation=city, code="HALL").update(phone="")
    import_catalogue(city, "s.csv", csv_bytes([services[0], fx_row(services)]))
    fx_new = Service.objects.get(organisation=city, code="FX01")
    assert (fx_new.summary, fx_new.eligibility, fx_new.materials, fx_new.fees) == (
        FORMULA, "'=1+1 照原样保存", "-身份证\n@户口簿", "-",
    )  # fmt: skip
    assert import_catalogue(city, "o.csv", csv_bytes(offices)).offices_updated == ["HALL"]
    assert Office.objects.get(organisation=city, code="HALL").phone == "+86 571 8712 3456"


def fx_row(rows: list[list[str]]) -> list[str]:
    return next(r for r in rows if r[0] == "FX01")


def test_csv_cells_a_spreadsheet_would_run_are_read_with_one_quote_taken_off(
    city: Organisation,
) -> None:
    rows = [
        ["事项编码", "事项名称", "类别", "简介"],
        ["A1", "甲", "其他", "'=SUM(A1:A2)"],
        ["A2", "乙", "其他", "'plain"],  # not a formula after the quote: kept
        ["A3", "丙", "其他", "'''@x"],
    ]
    import_catalogue(city, "a.csv", csv_bytes(rows))
    assert list(Service.objects.order_by("code").values_list("summary", flat=True)) == [
        "=SUM(A1:A2)",
        "'plain",
        "''@x",
    ]


def test_an_xlsx_export_has_no_formula_cells(
    city: Organisation, county: Organisation, hrss: Department
) -> None:
    _fill(city, county, hrss)
    data = export_xlsx(city)
    wb = load_workbook(io.BytesIO(data))  # formulas kept as formulas (not data_only)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    header = [c.value for c in wb["服务事项"][1]]
    fx = next(r for r in wb["服务事项"].iter_rows(min_row=2) if r[0].value == "FX01")
    summary = fx[header.index("简介")]
    assert (summary.value, summary.data_type) == ("'" + FORMULA, "s")
    phone = wb["办事网点"]["E2"]
    assert (phone.value, phone.data_type) == ("'+86 571 8712 3456", "s")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 2
        assert [n for n in sheets if b"<f>" in z.read(n) or b"<f " in z.read(n)] == []


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


def catalogue_book(n: int, *, changed: int | None = None) -> bytes:
    """A workbook of 10 offices and n services naming two of them each; the service
    numbered `changed` renamed and moved to office O9."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "服务事项"
    ws.append(["事项编码", "事项名称", "类别", "关键词", "办理地点"])
    for i in range(n):
        if i == changed:
            ws.append([f"S{i:03d}", f"事项{i:03d}（新）", "其他", f"词{i:03d}", "O9"])
        else:
            ws.append([f"S{i:03d}", f"事项{i:03d}", "其他", f"词{i:03d}", f"O{i % 10}、O{(i + 1) % 10}"])  # fmt: skip
    ws2 = wb.create_sheet("办事网点")
    ws2.append(["网点编码", "网点名称", "地址"])
    for j in range(10):
        ws2.append([f"O{j}", f"网点{j}", f"人民路 {j} 号"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_importing_200_services_with_offices_takes_a_few_statements(
    city: Organisation, city_account: Account
) -> None:
    # Validation: offices, departments, inherited services, the organisations below,
    # keywords (5). Writing: offices read, offices inserted, services read, links read,
    # services inserted, links inserted (6). The audit event and the bump (3). Savepoints
    # (4), and the lock on PostgreSQL (1). SQLite inserts at most 999 parameters a
    # statement: 55 services (18 fields) each, so 200 services take 4 INSERTs.
    # Proofreading the new guides: the stored guides and the account whose word lists
    # check them (2), and one read a text of the word lists' version in the shared cache
    # (the checker's context, built before: 200 names).
    pg = connection.vendor == "postgresql"
    version = city_account.rules_version
    textcheck.findings(city_account, "预热", "guide")
    with CaptureQueriesContext(connection) as ctx:
        result = import_catalogue(city, "c.xlsx", catalogue_book(200))
    assert len(ctx.captured_queries) == (19 if pg else 21) + 2 + 200, [q["sql"][:80] for q in ctx]
    assert (len(result.services_created), len(result.offices_created)) == (200, 10)
    links = sorted(
        Service.offices.through.objects.filter(service__code__in=["S000", "S009"]).values_list(
            "service__code", "office__code"
        )
    )
    assert links == [("S000", "O0"), ("S000", "O1"), ("S009", "O0"), ("S009", "O9")]
    assert Service.offices.through.objects.count() == 400
    city_account.refresh_from_db()
    assert city_account.rules_version == version + 1
    assert AuditEvent.objects.filter(name="catalogue.imported").count() == 1

    # The same file with one row changed: one UPDATE of the changed fields, the links of
    # that service deleted and inserted.
    # Proofreading: the changed guide only (2 + 1).
    before = dict(Service.objects.values_list("code", "updated_at"))
    textcheck.findings(city_account, "预热", "guide")
    with CaptureQueriesContext(connection) as ctx:
        result = import_catalogue(city, "c.xlsx", catalogue_book(200, changed=5))
    assert len(ctx.captured_queries) == (19 if pg else 18) + 2 + 1, [q["sql"][:80] for q in ctx]
    updates = [q["sql"] for q in ctx if q["sql"].startswith('UPDATE "services_service"')]
    assert len(updates) == 1
    assert re.findall(r'"(\w+)" = \(?CASE', updates[0]) == ["name", "updated_at"]
    assert (result.services_updated, result.services_created, result.unchanged) == (
        ["S005"],
        [],
        209,
    )
    s5 = Service.objects.get(code="S005")
    assert (s5.name, [o.code for o in s5.offices.all()]) == ("事项005（新）", ["O9"])
    after = dict(Service.objects.values_list("code", "updated_at"))
    assert [c for c in after if after[c] != before[c]] == ["S005"]
    assert Service.offices.through.objects.count() == 399
    assert AuditEvent.objects.filter(name="catalogue.imported").count() == 2


def test_a_row_written_past_the_check_makes_the_import_refused_and_write_nothing(
    city: Organisation, city_account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The codes' unique constraint refuses an INSERT that collides with a row written
    after the import read the catalogue (not through the catalogue's writes, which wait
    for each other): a clear error, nothing of the file written."""
    values = catalogue_io.service_values

    def a_row_appears_once_read(data: ServiceInput) -> dict[str, Any]:
        if not Service.objects.filter(code="S003").exists():
            Service.objects.create(organisation=city, code="S003", name="别处写入", category="other")  # fmt: skip
        return values(data)

    monkeypatch.setattr(catalogue_io, "service_values", a_row_appears_once_read)
    before = state()
    with pytest.raises(CatalogueImportError) as exc:
        import_catalogue(city, "c.xlsx", catalogue_book(5))
    assert exc.value.errors == [
        "导入时服务目录被同时修改，没有导入任何内容，请重新导入 / the catalogue changed "
        "during the import; nothing was imported, import the file again"
    ]
    # (the stand-in row went in this transaction, so it is rolled back with the rest)
    assert state() == before


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
        "新增事项 0，更新 0；新增网点 0，更新 0；未变 5 / services created 0, updated 0; "
        "offices created 0, updated 0; unchanged 5"
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
