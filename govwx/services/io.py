"""Import and export of an organisation's own catalogue as CSV or Excel (.xlsx).

Offices keep these lists in spreadsheets. One header row, in Chinese (English headers
are accepted too); one service or office a row. A CSV file holds one table (services,
or offices when it has an 地址 / address column) and is written as UTF-8 with a BOM so
that Excel opens it; plain UTF-8 and GB18030 (what Excel saves in Chinese Windows) are
read. An .xlsx workbook holds both: a sheet of services and a sheet of offices.

An import inserts or updates rows by code (never deletes), all or nothing: every bad row
is reported ("第 N 行：… / row N: …", N the spreadsheet's row number, the header being
row 1) and nothing is written while any row is bad. Exporting and importing the same
file changes nothing.

Formulas: a spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage
return as a formula (OWASP's "CSV injection"). An export, CSV or .xlsx, puts a single
quote in front of such a text (`'=HYPERLINK(…)`, `'+86 …`: `lib.cells.safe_cell`), which
a spreadsheet shows as text, also after the cell is edited; an import takes exactly one
such quote off again, so export → import gives back the same text (a text that itself
starts with quotes and then one of those characters gets one more quote on export). An
.xlsx export also writes every text as a string cell, never as a formula.

Writing is in bulk: the organisation's rows are read once, new rows are inserted with
`bulk_create`, changed ones updated with `bulk_update` (the changed fields only) and the
office links of new and changed services rewritten with one DELETE and one INSERT, a
few statements whatever the number of rows.

Proofreading: the guides of new and changed services are checked (`lib.textcheck`). A
row with personal data (a veto) is a bad row like any other; errors and warnings do not
hold the import up (it brings over guides an office already publishes) and are listed
in `ImportResult.notes`, each naming its row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from govwx.accounts.models import Account, Department, Organisation
from govwx.accounts.services import record
from govwx.lib import textcheck
from govwx.lib.cells import safe_cell

from . import catalogue
from .catalogue_writes import (
    GUIDE,
    GUIDE_FIELDS,
    OfficeInput,
    ServiceInput,
    _allowed,
    checker_account,
    clean_office,
    clean_service,
    guide_texts,
    keyword_entries,
    lineage_departments,
    lock_catalogue,
    office_values,
    service_values,
    split_keywords,
    split_lines,
    visible_offices,
)
from .models import Category, Office, Service

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

# (field, Chinese header, English header)
SERVICE_COLUMNS = [
    ("code", "事项编码", "code"),
    ("name", "事项名称", "name"),
    ("category", "类别", "category"),
    ("department", "责任部门", "department"),
    ("summary", "简介", "summary"),
    ("eligibility", "办理对象", "eligibility"),
    ("materials", "申请材料", "materials"),
    ("steps", "办理流程", "steps"),
    ("fees", "收费标准", "fees"),
    ("time_limit", "法定时限", "time_limit"),
    ("online_url", "在线办理网址", "online_url"),
    ("miniprogram_appid", "小程序AppID", "miniprogram_appid"),
    ("miniprogram_path", "小程序页面路径", "miniprogram_path"),
    ("keywords", "关键词", "keywords"),
    ("offices", "办理地点", "offices"),
    ("position", "排序", "position"),
    ("withdrawn", "本级不提供", "withdrawn"),
]
OFFICE_COLUMNS = [
    ("code", "网点编码", "code"),
    ("name", "网点名称", "name"),
    ("address", "地址", "address"),
    ("opening_hours", "办公时间", "opening_hours"),
    ("phone", "电话", "phone"),
    ("latitude", "纬度", "latitude"),
    ("longitude", "经度", "longitude"),
    ("withdrawn", "本级不显示", "withdrawn"),
]
OFFICE_HEADER_ALIASES = {"名称": "name", "事项编码": "code"}
SERVICES_SHEET = "服务事项"
OFFICES_SHEET = "办事网点"
YES = {"是", "y", "yes", "true", "1", "√", "✓"}
NO = {"", "否", "n", "no", "false", "0"}
# A text a spreadsheet would run as a formula, after any quotes put in front of it.
FORMULA_RE = re.compile(r"^'*[=+\-@\t\r]")
DELETE_CHUNK = 500  # ids in one DELETE … IN (…) (SQLite allows 999 parameters)


def csv_escape(text: str) -> str:
    """A text as a spreadsheet cell (CSV or .xlsx): `safe_cell`, and a quote more in front
    of a text that already starts with quotes before a formula's first character, so
    that the import can take exactly one off."""
    return "'" + text if text.startswith("'") and FORMULA_RE.match(text) else safe_cell(text)


def csv_unescape(text: str) -> str:
    """A CSV cell as the text it was exported from (the inverse of `csv_escape`)."""
    return text[1:] if text.startswith("'") and FORMULA_RE.match(text[1:]) else text


class CatalogueImportError(Exception):
    """An import refused: every problem found, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    services_created: list[str] = field(default_factory=list)
    services_updated: list[str] = field(default_factory=list)
    offices_created: list[str] = field(default_factory=list)
    offices_updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)  # the checker's errors and warnings

    @property
    def changed(self) -> int:
        return (
            len(self.services_created)
            + len(self.services_updated)
            + len(self.offices_created)
            + len(self.offices_updated)
        )


@dataclass
class Table:
    kind: str  # "services" | "offices"
    label: str  # how its rows are named in messages ("" for a CSV's one table)
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, field -> text)


# ------------------------------------------------------------------ messages


def row_error(n: int, messages: Iterable[str], label: str = "") -> str:
    """ "第 N 行：中文；中文 / row N: english; english" from "中文 / english" messages."""
    zh: list[str] = []
    en: list[str] = []
    for m in messages:
        a, sep, b = m.partition(" / ")
        zh.append(a)
        en.append(b if sep else a)
    where_zh = f"{label}第 {n} 行" if label else f"第 {n} 行"
    where_en = f"{_sheet_en(label)}row {n}" if label else f"row {n}"
    return f"{where_zh}：{'；'.join(zh)} / {where_en}: {'; '.join(en)}"


def _sheet_en(label: str) -> str:
    return {SERVICES_SHEET: "services ", OFFICES_SHEET: "offices "}.get(label, label + " ")


# ------------------------------------------------------------------ reading


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _table(rows: list[list[Any]], label: str, errors: list[str]) -> Table | None:
    """A sheet's rows, keyed by field, with its kind told by its header."""
    skipped = 0
    while rows and not any(_cell(v) for v in rows[0]):
        rows = rows[1:]
        skipped += 1
    if not rows:
        return None
    header = [_cell(v) for v in rows[0]]
    kind = "offices" if {"地址", "address"} & {h.lower() for h in header} else "services"
    columns = OFFICE_COLUMNS if kind == "offices" else SERVICE_COLUMNS
    names: dict[str, str] = {}
    for f, zh, en in columns:
        names[zh.lower()] = f
        names[en.lower()] = f
    if kind == "offices":
        names.update(OFFICE_HEADER_ALIASES)
    fields: list[str | None] = []
    problems: list[str] = []
    for h in header:
        if not h:
            fields.append(None)
            continue
        known = names.get(h.lower())
        if known is None:
            problems.append(f"未知的列“{h}” / unknown column {h!r}")
        elif known in fields:
            problems.append(f"列“{h}”重复 / column {h!r} appears twice")
        fields.append(known)
    need = ["code", "name", "address"] if kind == "offices" else ["code", "name", "category"]
    heads = {f: zh for f, zh, _en in columns}
    for f in need:
        if f not in fields:
            problems.append(f"缺少“{heads[f]}”列 / missing column {f!r}")
    if problems:
        errors.append(row_error(skipped + 1, problems, label))
        return None
    out: list[tuple[int, dict[str, str]]] = []
    for i, raw in enumerate(rows[1:], start=skipped + 2):
        values = {f: _cell(v) for f, v in zip(fields, raw, strict=False) if f is not None}
        extra = [_cell(v) for v in raw[len(fields) :]]
        if not any(values.values()) and not any(extra):
            continue
        if any(extra):
            errors.append(row_error(i, ["该行的单元格比表头多 / more cells than headers"], label))
            continue
        out.append((i, values))
    if len(out) > MAX_ROWS:
        errors.append(f"最多导入 {MAX_ROWS} 行 / at most {MAX_ROWS} rows")
        return None
    return Table(kind, label, out)


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CatalogueImportError(
        ["文件不是 UTF-8 或 GBK 编码的 CSV / the file is not a UTF-8 or GBK CSV"]
    )


def read_tables(filename: str, content: bytes) -> list[Table]:
    """The tables of an uploaded file (.csv or .xlsx), or CatalogueImportError."""
    if len(content) > MAX_BYTES:
        raise CatalogueImportError(
            [f"文件超过 {MAX_BYTES // 1024 // 1024} MB / the file is larger than 5 MB"]
        )
    errors: list[str] = []
    tables: list[Table] = []
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise CatalogueImportError(
                [f"无法读取 Excel 文件 / cannot read the Excel file: {exc}"]
            ) from exc
        for ws in wb.worksheets:
            rows = [
                [csv_unescape(v) if isinstance(v, str) else v for v in r]
                for r in ws.iter_rows(values_only=True)
            ]
            t = _table(rows, ws.title, errors)
            if t is not None:
                tables.append(t)
        wb.close()
    else:
        text = _decode(content)
        try:
            rows = [[csv_unescape(c) for c in r] for r in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            raise CatalogueImportError([f"CSV 格式不正确 / malformed CSV: {exc}"]) from exc
        t = _table(rows, "", errors)
        if t is not None:
            tables.append(t)
    if errors:
        raise CatalogueImportError(errors)
    if not tables:
        raise CatalogueImportError(["文件中没有数据 / the file has no rows"])
    return tables


# ------------------------------------------------------------------ parsing rows


def _category_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for value, label in Category.choices:
        names[value.lower()] = value
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                names[str(label).lower()] = value
    return names


def _bool(text: str, problems: list[str], label: str) -> bool:
    t = text.strip().lower()
    if t in YES:
        return True
    if t in NO:
        return False
    problems.append(f"“{label}”应填“是”或留空：{text} / {label!r} must be 是 or blank: {text!r}")
    return False


def _float(text: str, problems: list[str], label: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        problems.append(f"“{label}”不是数字：{text} / {label!r} is not a number: {text!r}")
        return None


def _departments_by_name(
    org: Organisation,
) -> tuple[dict[str, Department | None], list[Department]]:
    """Department name -> the nearest organisation's department of that name (None
    when that organisation has two of the same name)."""
    depts = lineage_departments(org)
    by_name: dict[str, Department | None] = {}
    first_org: dict[str, int] = {}
    for d in depts:
        if d.name not in by_name:
            by_name[d.name] = d
            first_org[d.name] = d.organisation_id
        elif first_org[d.name] == d.organisation_id:
            by_name[d.name] = None
    return by_name, depts


def _service_input(
    v: dict[str, str],
    problems: list[str],
    categories: dict[str, str],
    departments: dict[str, Department | None],
) -> ServiceInput:
    category = v.get("category", "")
    cat = categories.get(category.lower(), "")
    if category and not cat:
        problems.append(f"未知的类别：{category} / unknown category: {category!r}")
        cat = Category.OTHER  # reported above; keeps the other checks running
    dept_id = None
    dept_name = v.get("department", "")
    if dept_name:
        if dept_name not in departments:
            problems.append(
                f"责任部门“{dept_name}”不属于本级或上级组织 / "
                f"unknown department {dept_name!r} (not of this organisation or above)"
            )
        elif (d := departments[dept_name]) is None:
            problems.append(
                f"有多个名为“{dept_name}”的部门 / more than one department is named {dept_name!r}"
            )
        else:
            dept_id = d.pk
    position = 0
    if v.get("position", ""):
        try:
            position = int(v["position"])
        except ValueError:
            problems.append(f"“排序”不是整数：{v['position']} / position is not a whole number")
    return ServiceInput(
        code=v.get("code", ""),
        name=v.get("name", ""),
        category=cat,
        department_id=dept_id,
        summary=v.get("summary", ""),
        eligibility=v.get("eligibility", ""),
        materials=split_lines(v.get("materials", "")),
        steps=split_lines(v.get("steps", "")),
        fees=v.get("fees", ""),
        time_limit=v.get("time_limit", ""),
        online_url=v.get("online_url", ""),
        miniprogram_appid=v.get("miniprogram_appid", ""),
        miniprogram_path=v.get("miniprogram_path", ""),
        keywords=split_keywords(v.get("keywords", "")),
        office_codes=split_keywords(v.get("offices", "")),
        position=position,
        withdrawn=_bool(v.get("withdrawn", ""), problems, "本级不提供"),
    )


def _office_input(v: dict[str, str], problems: list[str]) -> OfficeInput:
    return OfficeInput(
        code=v.get("code", ""),
        name=v.get("name", ""),
        address=v.get("address", ""),
        opening_hours=v.get("opening_hours", ""),
        phone=v.get("phone", ""),
        latitude=_float(v.get("latitude", ""), problems, "纬度"),
        longitude=_float(v.get("longitude", ""), problems, "经度"),
        withdrawn=_bool(v.get("withdrawn", ""), problems, "本级不显示"),
    )


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


# ------------------------------------------------------------------ importing


def import_catalogue(
    organisation: Organisation,
    filename: str,
    content: bytes,
    *,
    account: Account | None = None,
    actor: Any = None,
) -> ImportResult:
    """Insert or update the organisation's own services and offices from a file, all or
    nothing. CatalogueImportError lists every bad row; nothing is written then."""
    _allowed(actor, account, organisation)
    tables = read_tables(filename, content)
    with transaction.atomic():
        lock_catalogue(organisation)
        offices_in, services_in, errors = _validate(organisation, tables)
        notes = _proofread(checker_account(account, organisation), organisation, services_in)
        errors += notes.pop("refused")
        if errors:
            errors.sort(key=_error_order(tables))
            raise CatalogueImportError(errors)
        try:
            with transaction.atomic():
                result = _write(organisation, offices_in, services_in)
                result.notes = notes["noted"]
        except IntegrityError as exc:
            # A row of the same code written past `lock_catalogue` (not by govwx's writes).
            raise CatalogueImportError(
                [
                    "导入时服务目录被同时修改，没有导入任何内容，请重新导入 / the catalogue "
                    "changed during the import; nothing was imported, import the file again"
                ]
            ) from exc
        if result.changed:
            record(
                "catalogue.imported",
                account=account,
                actor=actor,
                organisation=organisation.pk,
                file=filename[:100],
                services_created=result.services_created,
                services_updated=result.services_updated,
                offices_created=result.offices_created,
                offices_updated=result.offices_updated,
            )
            catalogue.bump(organisation)
    return result


def _validate(
    org: Organisation, tables: list[Table]
) -> tuple[list[OfficeInput], list[tuple[int, str, ServiceInput]], list[str]]:
    errors: list[str] = []
    offices_in: list[OfficeInput] = []
    seen_offices: dict[str, int] = {}
    for t in (t for t in tables if t.kind == "offices"):
        for n, v in t.rows:
            problems: list[str] = []
            data = _office_input(v, problems)
            try:
                data = clean_office(data)
            except ValidationError as exc:
                problems += _messages(exc)
            if data.code and data.code in seen_offices:
                problems.append(
                    f"网点编码 {data.code} 与第 {seen_offices[data.code]} 行重复 / "
                    f"office code {data.code} repeats row {seen_offices[data.code]}"
                )
            seen_offices.setdefault(data.code, n)
            if problems:
                errors.append(row_error(n, problems, t.label))
            else:
                offices_in.append(data)

    # What services may name: the offices visible now, with the file's over them.
    offices = visible_offices(org)
    for o in offices_in:
        if o.withdrawn:
            offices.pop(o.code, None)
        else:
            offices[o.code] = Office(code=o.code)
    categories = _category_names()
    by_name, depts = _departments_by_name(org)
    dept_ids = {d.pk: d for d in depts}
    chain = catalogue.lineage(org)
    inherited: dict[str, Service] = {}
    rank = {pk: i for i, pk in enumerate(chain)}
    for s in sorted(
        Service.objects.filter(organisation_id__in=chain[1:]),
        key=lambda r: rank[r.organisation_id],
    ):
        inherited.setdefault(s.code, s)

    services_in: list[tuple[int, str, ServiceInput]] = []
    seen: dict[str, int] = {}
    for t in (t for t in tables if t.kind == "services"):
        for n, v in t.rows:
            problems = []
            sdata = _service_input(v, problems, categories, by_name)
            try:
                sdata = clean_service(
                    org,
                    sdata,
                    departments=dept_ids,
                    offices=offices,
                    inherited=inherited.get(sdata.code.strip()),
                )
            except ValidationError as exc:
                problems += _messages(exc)
            code = sdata.code.strip()
            if code and code in seen:
                problems.append(
                    f"事项编码 {code} 与第 {seen[code]} 行重复 / "
                    f"service code {code} repeats row {seen[code]}"
                )
            seen.setdefault(code, n)
            if problems:
                errors.append(row_error(n, problems, t.label))
            else:
                services_in.append((n, t.label, sdata))

    # Keywords: one service each, over the catalogue as it will be.
    owners: dict[str, tuple[str, str]] = {}
    for code, name, keywords in keyword_entries(
        org, replaced=[d.code for _n, _l, d in services_in]
    ):
        for k in keywords:
            owners.setdefault(k.casefold(), (code, name))
    for n, label, sd in services_in:
        if sd.withdrawn:
            continue
        clashes = []
        for k in sd.keywords:
            owner = owners.get(k.casefold())
            if owner is not None and owner[0] != sd.code:
                clashes.append(
                    f"关键词“{k}”已被事项“{owner[1]}”（{owner[0]}）使用 / "
                    f"keyword {k!r} is already used by service {owner[0]}"
                )
            else:
                owners[k.casefold()] = (sd.code, sd.name)
        if clashes:
            errors.append(row_error(n, clashes, label))
    errors.sort(key=_error_order(tables))
    return offices_in, services_in, errors


def _proofread(
    account: Account | None, org: Organisation, services_in: list[tuple[int, str, ServiceInput]]
) -> dict[str, list[str]]:
    """The checker on the guides of the rows that are new or change a guide: "refused",
    a row error for each row with a veto; "noted", one line a row for the rest."""
    stored = {
        row["code"]: [(label, row[name]) for name, label in GUIDE_FIELDS if row[name]]
        for row in Service.objects.filter(organisation=org).values(
            "code", *(name for name, _label in GUIDE_FIELDS)
        )
    }
    refused: list[str] = []
    noted: list[str] = []
    for n, label, sd in services_in:
        texts = guide_texts(sd)
        if not texts or stored.get(sd.code) == texts:
            continue  # the guide as it is: the import changes nothing there
        blocking, warnings = textcheck.review(account, texts, GUIDE)
        vetoes = [f for f in blocking if f.flag.severity == textcheck.VETO]
        rest = [f for f in blocking + warnings if f not in vetoes]
        if vetoes:
            refused.append(row_error(n, [f"{f} / {f.flag.rule}" for f in vetoes], label))
        if rest:
            noted.append(row_error(n, [f"{f} / {f.flag.rule}" for f in rest], label))
    return {"refused": refused, "noted": noted}


def _error_order(tables: list[Table]) -> Any:
    order = {t.label: i for i, t in enumerate(tables)}

    def key(message: str) -> tuple[int, int]:
        for label, i in order.items():
            prefix = f"{label}第 "
            if message.startswith(prefix):
                number = message[len(prefix) :].split(" ", 1)[0]
                return (i, int(number) if number.isdigit() else 0)
        return (len(order), 0)

    return key


def _write(
    org: Organisation,
    offices_in: list[OfficeInput],
    services_in: list[tuple[int, str, ServiceInput]],
) -> ImportResult:
    """Write the checked rows in bulk: a handful of statements for any number of rows."""
    result = ImportResult()
    now = timezone.now()
    chain = catalogue.lineage(org)

    # Offices: the lineage's rows read once; the own ones inserted or updated.
    lineage_offices = list(Office.objects.filter(organisation_id__in=chain))
    own_offices = {o.code: o for o in lineage_offices if o.organisation_id == org.pk}
    new_offices: list[Office] = []
    changed_offices: list[Office] = []
    office_fields: set[str] = set()
    for data in offices_in:
        values = office_values(data)
        office = own_offices.get(data.code)
        if office is None:
            office = Office(organisation=org, **values)
            new_offices.append(office)
            result.offices_created.append(data.code)
            continue
        diff = [f for f, v in values.items() if getattr(office, f) != v]
        if not diff:
            result.unchanged += 1
            continue
        for f in diff:
            setattr(office, f, values[f])
        office.updated_at = now
        changed_offices.append(office)
        office_fields.update(diff)
        result.offices_updated.append(data.code)
    Office.objects.bulk_create(new_offices)
    if changed_offices:
        Office.objects.bulk_update(changed_offices, [*sorted(office_fields), "updated_at"])
    merged: list[Office] = catalogue._merge(lineage_offices + new_offices, chain)
    offices = {o.code: o for o in merged}

    # Services: the own rows and the codes of their offices read once.
    own = {s.code: s for s in Service.objects.filter(organisation=org)}
    through = Service.offices.through
    linked: dict[int, set[str]] = defaultdict(set)
    for service_id, code in through.objects.filter(service__organisation=org).values_list(
        "service_id", "office__code"
    ):
        linked[service_id].add(code)
    new_services: list[Service] = []
    changed_services: list[Service] = []
    service_fields: set[str] = set()
    relink: list[tuple[Service, ServiceInput]] = []
    stale: list[int] = []  # services whose links are rewritten
    for _n, _label, sd in services_in:
        values = service_values(sd)
        s = own.get(sd.code)
        if s is None:
            s = Service(organisation=org, **values)
            new_services.append(s)
            relink.append((s, sd))
            result.services_created.append(sd.code)
            continue
        diff = [f for f, v in values.items() if getattr(s, f) != v]
        links_differ = sorted(linked.get(s.pk, ())) != sd.office_codes
        if not diff and not links_differ:
            result.unchanged += 1
            continue
        for f in diff:
            setattr(s, f, values[f])
        s.updated_at = now
        changed_services.append(s)
        service_fields.update(diff)
        if links_differ:
            relink.append((s, sd))
            stale.append(s.pk)
        result.services_updated.append(sd.code)
    Service.objects.bulk_create(new_services)
    if changed_services:
        Service.objects.bulk_update(changed_services, [*sorted(service_fields), "updated_at"])
    for i in range(0, len(stale), DELETE_CHUNK):
        through.objects.filter(service_id__in=stale[i : i + DELETE_CHUNK]).delete()
    through.objects.bulk_create(
        through(service_id=s.pk, office_id=offices[code].pk)
        for s, sd in relink
        for code in sd.office_codes
    )
    return result


# ------------------------------------------------------------------ exporting


def _service_rows(org: Organisation) -> list[list[Any]]:
    rows: list[list[Any]] = []
    qs = (
        Service.objects.filter(organisation=org)
        .select_related("department")
        .prefetch_related("offices")
        .order_by("position", "code", "id")
    )
    with translation.override("zh-hans"):
        for s in qs:
            rows.append(
                [
                    s.code,
                    s.name,
                    str(Category(s.category).label)
                    if s.category in Category.values
                    else s.category,
                    s.department.name if s.department else "",
                    s.summary,
                    s.eligibility,
                    "\n".join(s.material_list),
                    "\n".join(s.step_list),
                    s.fees,
                    s.time_limit,
                    s.online_url,
                    s.miniprogram_appid,
                    s.miniprogram_path,
                    "、".join(s.keywords or []),
                    "、".join(sorted({o.code for o in s.offices.all()})),
                    s.position,
                    "是" if s.withdrawn else "",
                ]
            )
    return rows


def _office_rows(org: Organisation) -> list[list[Any]]:
    return [
        [
            o.code,
            o.name,
            o.address,
            o.opening_hours,
            o.phone,
            "" if o.latitude is None else o.latitude,
            "" if o.longitude is None else o.longitude,
            "是" if o.withdrawn else "",
        ]
        for o in Office.objects.filter(organisation=org).order_by("code", "id")
    ]


def export_csv(organisation: Organisation, kind: str = "services") -> bytes:
    """One table as CSV, UTF-8 with a BOM (Excel then reads it as UTF-8)."""
    if kind == "offices":
        header, rows = [zh for _f, zh, _en in OFFICE_COLUMNS], _office_rows(organisation)
    else:
        header, rows = [zh for _f, zh, _en in SERVICE_COLUMNS], _service_rows(organisation)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow([csv_escape(v) if isinstance(v, str) else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def export_xlsx(organisation: Organisation) -> bytes:
    """A workbook with the services and the offices, one sheet each."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    sheets = [
        (SERVICES_SHEET, SERVICE_COLUMNS, _service_rows(organisation)),
        (OFFICES_SHEET, OFFICE_COLUMNS, _office_rows(organisation)),
    ]
    first = True
    for title, columns, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        first = False
        ws.title = title
        ws.append([zh for _f, zh, _en in columns])
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in rows:
            ws.append([csv_escape(v) if isinstance(v, str) else v for v in row])
        for cells in ws.iter_rows(min_row=2):
            for c in cells:
                if isinstance(c.value, str):
                    # Text stays text: a cell starting with "=" is not a formula.
                    c.data_type = "s"
                    if "\n" in c.value:
                        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
        for i, (_f, zh, _en) in enumerate(columns, start=1):
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(
                10, len(zh) * 2 + 4
            )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = [
    "CatalogueImportError",
    "ImportResult",
    "export_csv",
    "export_xlsx",
    "import_catalogue",
    "read_tables",
]
