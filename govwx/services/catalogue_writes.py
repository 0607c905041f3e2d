"""Writes on the service catalogue: services (事项 and their guides) and offices (办事网点).

Reading the catalogue as an account sees it is `catalogue.py`; the check that a write
leaves no published menu button on a page that is gone is `menu_usage.py`.

Every write validates first and changes nothing when the input is bad, runs in one
transaction, is audited, and calls `catalogue.bump` so that every process rebuilds the
service query matcher of each account that sees the changed catalogue.

A catalogue belongs to an organisation; an account writes its own organisation's. A
county reuses what its city and province publish: a row of its own with the same `code`
overrides the inherited one (`override_service`), a `withdrawn` row hides it there
(`withdraw_service`), and deleting the county's row lets the inherited one show again.

Keywords: a keyword may name one service only in the catalogue as an organisation sees
it (its own rows merged over its ancestors') and in its descendants' own rows. A keyword
another service already uses is refused, naming that service: a citizen's query must
lead to one guide.

Concurrent writers: every write starts with `lock_catalogue`, which on PostgreSQL locks
the rows of the organisation and its ancestors (SQLite has one writer at a time anyway),
so two writers whose keywords could clash — one catalogue, or a catalogue and one above
or below it — run one after the other and each sees the other's rows. Codes have a unique
constraint besides: a row that slips in between the check and the INSERT makes the write
fail with the same message as the check (`write_service_row`, `write_office_row`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from govwx.accounts import permissions
from govwx.accounts.models import Account, Department, Organisation
from govwx.accounts.services import record
from govwx.lib import textcheck

from . import catalogue
from .menu_usage import check_menus_keep
from .models import Category, Office, Service

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
MINIPROGRAM_APPID_RE = re.compile(r"^wx[0-9a-f]{16}$")
PHONE_RE = re.compile(r"^[0-9+\-()（）\s,，、/转]*$")
MAX_URL_BYTES = 1024
MAX_KEYWORD_CHARS = 30
MAX_KEYWORDS = 20
KEYWORD_SPLIT_RE = re.compile(r"[、,，;；\n\r]+")
LIST_SPLIT_RE = re.compile(r"[\n\r；]+")


@dataclass(frozen=True)
class ServiceInput:
    code: str
    name: str
    category: str
    department_id: int | None = None
    summary: str = ""
    eligibility: str = ""
    materials: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    fees: str = ""
    time_limit: str = ""
    online_url: str = ""
    miniprogram_appid: str = ""
    miniprogram_path: str = ""
    keywords: list[str] = field(default_factory=list)
    office_codes: list[str] = field(default_factory=list)
    position: int = 0
    withdrawn: bool = False

    @classmethod
    def of(cls, s: Service, office_codes: Iterable[str] | None = None) -> ServiceInput:
        """The input that would write this row as it is (`office_codes`: its offices'
        codes when already known, else read)."""
        if office_codes is None:
            office_codes = (o.code for o in s.offices.all())
        return cls(
            code=s.code,
            name=s.name,
            category=s.category,
            department_id=s.department_id,
            summary=s.summary,
            eligibility=s.eligibility,
            materials=s.material_list,
            steps=s.step_list,
            fees=s.fees,
            time_limit=s.time_limit,
            online_url=s.online_url,
            miniprogram_appid=s.miniprogram_appid,
            miniprogram_path=s.miniprogram_path,
            keywords=list(s.keywords or []),
            office_codes=sorted(set(office_codes)),
            position=s.position,
            withdrawn=s.withdrawn,
        )


@dataclass(frozen=True)
class OfficeInput:
    code: str
    name: str
    address: str
    opening_hours: str = ""
    phone: str = ""
    latitude: float | None = None
    longitude: float | None = None
    withdrawn: bool = False

    @classmethod
    def of(cls, o: Office) -> OfficeInput:
        return cls(
            code=o.code,
            name=o.name,
            address=o.address,
            opening_hours=o.opening_hours,
            phone=o.phone,
            latitude=o.latitude,
            longitude=o.longitude,
            withdrawn=o.withdrawn,
        )


# ------------------------------------------------------------------ parsing helpers


def split_keywords(text: str) -> list[str]:
    """Keywords typed in one box or cell: separated by 、 , ； or new lines."""
    return [k.strip() for k in KEYWORD_SPLIT_RE.split(text) if k.strip()]


def split_lines(text: str) -> list[str]:
    """Materials or steps: one a line, or separated by the full-width ；."""
    return [k.strip() for k in LIST_SPLIT_RE.split(text) if k.strip()]


# ------------------------------------------------------------------ validation


def url_error(url: str) -> str | None:
    """Why an online entry's URL is refused, or None when it is fine."""
    if len(url.encode("utf-8")) > MAX_URL_BYTES:
        return f"网址超过 {MAX_URL_BYTES} 字节 / URL longer than {MAX_URL_BYTES} bytes"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return f"网址不能含空格或控制字符：{url[:60]} / URL must not contain spaces: {url[:60]!r}"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return f"网址格式不正确：{url[:60]} / malformed URL: {url[:60]!r}"
    if parts.scheme not in ("http", "https") or not host:
        return (
            f"网址须以 http:// 或 https:// 开头并含有域名：{url[:60]} / "
            f"URL must be http or https with a host: {url[:60]!r}"
        )
    return None


def lineage_departments(organisation: Organisation) -> list[Department]:
    """The departments a service of this organisation may name: its own and its
    ancestors', nearest organisation first."""
    chain = catalogue.lineage(organisation)
    rank = {pk: i for i, pk in enumerate(chain)}
    depts = list(
        Department.objects.filter(organisation_id__in=chain).select_related("organisation")
    )
    depts.sort(key=lambda d: (rank[d.organisation_id], d.name, d.pk))
    return depts


def visible_offices(organisation: Organisation) -> dict[str, Office]:
    """The offices an organisation's services may name, by code (nearest row wins)."""
    chain = catalogue.lineage(organisation)
    rows = list(Office.objects.filter(organisation_id__in=chain))
    merged: list[Office] = catalogue._merge(rows, chain)
    return {o.code: o for o in merged}


def _errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _text(errors: dict[str, list[str]], name: str, value: str, label: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        errors.setdefault(name, []).append(
            f"{label}最多 {limit} 个字 / {name} is at most {limit} characters"
        )
    return value


def _clean_code(errors: dict[str, list[str]], code: str, label: str) -> str:
    code = code.strip()
    if not code:
        errors.setdefault("code", []).append(f"{label}不能为空 / code is required")
    elif len(code) > 32:
        errors.setdefault("code", []).append(
            f"{label}最多 32 个字符 / code is at most 32 characters"
        )
    elif not CODE_RE.match(code):
        errors.setdefault("code", []).append(
            f"{label}只能包含字母、数字、点、下划线和连字符：{code} / "
            f"code may contain only letters, digits, '.', '_' and '-': {code!r}"
        )
    return code


def clean_keywords(keywords: Iterable[Any], errors: dict[str, list[str]]) -> list[str]:
    """Non-empty strings of at most 30 characters, deduplicated (ignoring case)."""
    out: list[str] = []
    seen: set[str] = set()
    for k in keywords:
        if not isinstance(k, str):
            errors.setdefault("keywords", []).append(
                f"关键词必须是文字：{k!r} / a keyword must be a string: {k!r}"
            )
            continue
        k = k.strip()
        if not k:
            continue
        if len(k) > MAX_KEYWORD_CHARS:
            errors.setdefault("keywords", []).append(
                f"关键词“{k[:10]}…”超过 {MAX_KEYWORD_CHARS} 个字 / "
                f"keyword longer than {MAX_KEYWORD_CHARS} characters: {k[:10]}…"
            )
            continue
        if k.casefold() in seen:
            continue
        seen.add(k.casefold())
        out.append(k)
    if len(out) > MAX_KEYWORDS:
        errors.setdefault("keywords", []).append(
            f"关键词最多 {MAX_KEYWORDS} 个 / at most {MAX_KEYWORDS} keywords"
        )
    return out


def clean_service(
    organisation: Organisation,
    data: ServiceInput,
    *,
    departments: dict[int, Department] | None = None,
    offices: dict[str, Office] | None = None,
    inherited: Service | None = None,
) -> ServiceInput:
    """The input, trimmed and checked; a ValidationError by field with every problem.

    `departments` and `offices` are what the organisation may name (looked up when not
    given). A withdrawn row takes a blank name or category from the `inherited` row."""
    errors: dict[str, list[str]] = {}
    code = _clean_code(errors, data.code, "事项编码")
    name = _text(errors, "name", data.name, "事项名称", 100)
    category = data.category.strip()
    if data.withdrawn and inherited is not None:
        name = name or inherited.name
        category = category or inherited.category
    if not name:
        errors.setdefault("name", []).append("事项名称不能为空 / name is required")
    if category not in Category.values:
        errors.setdefault("category", []).append(
            f"未知的类别：{category or '（空）'} / unknown category: {category!r}"
        )
    if departments is None:
        departments = {d.pk: d for d in lineage_departments(organisation)}
    if data.department_id is not None and data.department_id not in departments:
        errors.setdefault("department", []).append(
            "责任部门须属于本级或上级组织 / the department must belong to the organisation "
            "or one above it"
        )
    summary = _text(errors, "summary", data.summary, "简介", 200)
    fees = _text(errors, "fees", data.fees, "收费标准", 200)
    time_limit = _text(errors, "time_limit", data.time_limit, "法定时限", 100)
    materials = [m.strip() for m in data.materials if m.strip()]
    steps = [s.strip() for s in data.steps if s.strip()]
    url = data.online_url.strip()
    if url and (problem := url_error(url)):
        errors.setdefault("online_url", []).append(problem)
    appid = data.miniprogram_appid.strip()
    path = data.miniprogram_path.strip()
    if appid and not MINIPROGRAM_APPID_RE.match(appid):
        errors.setdefault("miniprogram_appid", []).append(
            f"小程序 AppID 应为 wx 加 16 位小写十六进制字符：{appid} / "
            f"mini program AppID must be 'wx' and 16 hex digits: {appid!r}"
        )
    if appid and not path:
        errors.setdefault("miniprogram_path", []).append(
            "填写了小程序 AppID，还需填写小程序页面路径 / a mini program needs a page path"
        )
    if path and not appid:
        errors.setdefault("miniprogram_appid", []).append(
            "填写了小程序页面路径，还需填写小程序 AppID / a mini program path needs an AppID"
        )
    if path and (len(path) > 256 or "://" in path or any(c.isspace() for c in path)):
        errors.setdefault("miniprogram_path", []).append(
            f"小程序页面路径格式不正确：{path[:60]} / malformed mini program path: {path[:60]!r}"
        )
    if appid and not url:
        errors.setdefault("online_url", []).append(
            "小程序还需填写在线办理网址，作为不支持小程序时打开的备用网页 / "
            "a mini program needs the online URL as its fallback page"
        )
    keywords = clean_keywords(data.keywords, errors)
    if offices is None:
        offices = visible_offices(organisation)
    office_codes = sorted({c.strip() for c in data.office_codes if c.strip()})
    unknown = [c for c in office_codes if c not in offices]
    if unknown:
        errors.setdefault("offices", []).append(
            f"未知的办理地点（网点编码）：{'、'.join(unknown)} / "
            f"unknown offices: {', '.join(unknown)}"
        )
    _errors(errors)
    return ServiceInput(
        code=code,
        name=name,
        category=category,
        department_id=data.department_id,
        summary=summary,
        eligibility=data.eligibility.strip(),
        materials=materials,
        steps=steps,
        fees=fees,
        time_limit=time_limit,
        online_url=url,
        miniprogram_appid=appid,
        miniprogram_path=path,
        keywords=keywords,
        office_codes=office_codes,
        position=data.position,
        withdrawn=data.withdrawn,
    )


def keyword_entries(
    organisation: Organisation, *, replaced: Iterable[str] = ()
) -> list[tuple[str, str, list[str]]]:
    """(code, name, keywords) of every service whose keywords a new row of this
    organisation must not share: the catalogue as the organisation sees it and the own
    rows of every organisation below it. `replaced`: codes whose row is being rewritten
    (left out)."""
    skip = set(replaced)
    chain = catalogue.lineage(organisation)
    below = [pk for pk in catalogue.descendants(organisation) if pk != organisation.pk]
    merged: list[Service] = catalogue._merge(
        list(
            Service.objects.filter(organisation_id__in=chain).only(
                "code", "name", "keywords", "withdrawn", "organisation_id"
            )
        ),
        chain,
    )
    rows = [s for s in merged if s.code not in skip] + list(
        Service.objects.filter(organisation_id__in=below, withdrawn=False).only(
            "code", "name", "keywords", "organisation_id"
        )
    )
    return [(s.code, s.name, [k for k in s.keywords or [] if isinstance(k, str)]) for s in rows]


def keyword_owners(organisation: Organisation) -> dict[str, tuple[str, str]]:
    """Keyword (casefolded) -> (code, name) of the service using it."""
    owners: dict[str, tuple[str, str]] = {}
    for code, name, keywords in keyword_entries(organisation):
        for k in keywords:
            owners.setdefault(k.casefold(), (code, name))
    return owners


def keyword_clashes(
    code: str, keywords: list[str], owners: dict[str, tuple[str, str]]
) -> list[str]:
    """The messages for each keyword another service (another code) already uses."""
    out = []
    for k in keywords:
        owner = owners.get(k.casefold())
        if owner is not None and owner[0] != code:
            out.append(
                f"关键词“{k}”已被事项“{owner[1]}”（{owner[0]}）使用 / "
                f"keyword {k!r} is already used by service {owner[0]}"
            )
    return out


def _check_keywords(
    organisation: Organisation, data: ServiceInput, replaced: Iterable[str] = ()
) -> None:
    owners: dict[str, tuple[str, str]] = {}
    for code, name, keywords in keyword_entries(organisation, replaced=replaced):
        for k in keywords:
            owners.setdefault(k.casefold(), (code, name))
    clashes = keyword_clashes(data.code, data.keywords, owners)
    if clashes:
        raise ValidationError({"keywords": clashes})


# ------------------------------------------------------------------ concurrent writers


def lock_catalogue(organisation: Organisation) -> None:
    """Serialise the catalogue writes that could clash: lock the organisation's row and
    its ancestors' (FOR NO KEY UPDATE, in id order, so that two writers never wait on
    each other crosswise) until the transaction ends. A writer of a county and one of its
    city share the city's row; keywords are checked across exactly that lineage. Rows
    that only point to an organisation (a new service, an account) are not held up.
    SQLite: nothing to do, a transaction takes the database's one write lock at BEGIN."""
    if not connection.features.has_select_for_update:
        return
    chain = catalogue.lineage(organisation)
    list(
        Organisation.objects.select_for_update(no_key=True)
        .filter(pk__in=chain)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _service_code_exists(code: str) -> ValidationError:
    return ValidationError(
        {"code": [f"事项编码 {code} 已存在 / service code {code} already exists"]}
    )


def _office_code_exists(code: str) -> ValidationError:
    return ValidationError(
        {"code": [f"网点编码 {code} 已存在 / office code {code} already exists"]}
    )


def check_service_code(
    organisation: Organisation, code: str, *, current: Service | None = None
) -> None:
    """Refuse a code another row of the organisation's own catalogue has."""
    rows = Service.objects.filter(organisation=organisation, code=code)
    if current is not None:
        rows = rows.exclude(pk=current.pk)
    if rows.exists():
        raise _service_code_exists(code)


def check_office_code(
    organisation: Organisation, code: str, *, current: Office | None = None
) -> None:
    rows = Office.objects.filter(organisation=organisation, code=code)
    if current is not None:
        rows = rows.exclude(pk=current.pk)
    if rows.exists():
        raise _office_code_exists(code)


def write_service_row(s: Service, data: ServiceInput, offices: dict[str, Office]) -> None:
    """Save a checked service with its offices in a savepoint. A row of the same code
    written since the check (the unique constraint refuses the INSERT or UPDATE): the
    check's ValidationError, and the transaction goes on usable."""
    try:
        with transaction.atomic():
            _write_service(s, data, offices)
    except IntegrityError as exc:
        taken = Service.objects.filter(organisation_id=s.organisation_id, code=data.code)
        if s.pk is not None:
            taken = taken.exclude(pk=s.pk)
        if taken.exists():
            raise _service_code_exists(data.code) from exc
        raise


def write_office_row(o: Office, data: OfficeInput) -> None:
    """Save a checked office in a savepoint; a row of the same code written since the
    check: the check's ValidationError."""
    try:
        with transaction.atomic():
            _write_office(o, data)
    except IntegrityError as exc:
        taken = Office.objects.filter(organisation_id=o.organisation_id, code=data.code)
        if o.pk is not None:
            taken = taken.exclude(pk=o.pk)
        if taken.exists():
            raise _office_code_exists(data.code) from exc
        raise


# ------------------------------------------------------------------ who may write


def _organisation_of(account: Account | None, organisation: Organisation | None) -> Organisation:
    if organisation is None and account is not None:
        organisation = account.organisation
    if organisation is None:
        raise ValidationError(
            "本公众号未设置主办组织，无法维护服务事项 / the account has no organisation, "
            "so it has no catalogue to edit"
        )
    return organisation


def _allowed(actor: Any, account: Account | None, organisation: Organisation) -> None:
    """An actor writes through an account, on that account's own organisation only."""
    if actor is None:
        return
    if account is None:
        raise PermissionDenied("没有权限 / not permitted: no account given")
    permissions.require(actor, account, "services.edit")
    if account.organisation_id != organisation.pk:
        raise PermissionDenied(
            "只能修改本级组织的服务目录 / only the account's own organisation's catalogue "
            "may be edited"
        )


def _audit(
    name: str, organisation: Organisation, account: Account | None, actor: Any, **data: Any
) -> None:
    record(name, account=account, actor=actor, organisation=organisation.pk, **data)


# ------------------------------------------------------------------ services


GUIDE = "guide"  # what the text checker is told it checks
GUIDE_FIELDS = (
    ("name", "事项名称"), ("summary", "简介"), ("eligibility", "办理对象"),
    ("materials", "申请材料"), ("steps", "办理流程"), ("fees", "收费标准"),
    ("time_limit", "法定时限"),
)  # fmt: skip


def guide_texts(data: ServiceInput) -> list[tuple[str, str]]:
    """The texts of a service's guide a citizen reads, named by field, for the checker
    (materials and steps one line each, as stored). A withdrawn row shows nothing."""
    if data.withdrawn:
        return []
    values = service_values(data)
    return [(label, values[name]) for name, label in GUIDE_FIELDS if values[name]]


def checker_account(account: Account | None, organisation: Organisation) -> Account | None:
    """Whose word lists check a catalogue write: the account writing it; for a write
    with none (the command line), the organisation's first account."""
    if account is not None:
        return account
    return Account.objects.filter(organisation=organisation).order_by("pk").first()


def service_values(data: ServiceInput) -> dict[str, Any]:
    """The row's fields (by attribute name) a checked input writes; its offices aside."""
    return {
        "code": data.code,
        "name": data.name,
        "category": data.category,
        "department_id": data.department_id,
        "summary": data.summary,
        "eligibility": data.eligibility,
        "materials": "\n".join(data.materials),
        "steps": "\n".join(data.steps),
        "fees": data.fees,
        "time_limit": data.time_limit,
        "online_url": data.online_url,
        "miniprogram_appid": data.miniprogram_appid,
        "miniprogram_path": data.miniprogram_path,
        "keywords": list(data.keywords),
        "position": data.position,
        "withdrawn": data.withdrawn,
    }


def office_values(data: OfficeInput) -> dict[str, Any]:
    """The row's fields a checked office input writes."""
    return {
        "code": data.code,
        "name": data.name,
        "address": data.address,
        "opening_hours": data.opening_hours,
        "phone": data.phone,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "withdrawn": data.withdrawn,
    }


def _write_service(s: Service, data: ServiceInput, offices: dict[str, Office]) -> None:
    for name, value in service_values(data).items():
        setattr(s, name, value)
    s.save()
    s.offices.set([offices[c] for c in data.office_codes])


def _inherited(organisation: Organisation, code: str) -> Service | None:
    """The row of this code an organisation inherits (the nearest ancestor's)."""
    chain = catalogue.lineage(organisation)[1:]
    rank = {pk: i for i, pk in enumerate(chain)}
    rows = sorted(
        Service.objects.filter(organisation_id__in=chain, code=code),
        key=lambda r: rank[r.organisation_id],
    )
    return rows[0] if rows else None


def create_service(
    data: ServiceInput,
    *,
    organisation: Organisation | None = None,
    account: Account | None = None,
    actor: Any = None,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> Service:
    """A service of the organisation's own catalogue (the account's, when not given).
    A code an ancestor uses makes this row an override of the inherited service. Its
    guide is refused (textcheck.TextRefused) while the checker finds a veto or an error
    not dismissed (`dismissing`: 「忽略并保存」); its warnings are added to `warnings`
    (for the page to show, unchecked again).

    The code is unique by constraint (a concurrent row of the same code: the same
    ValidationError as the check). Keywords have no constraint: they are checked in this
    transaction, after `lock_catalogue` has made every writer that could clash wait."""
    org = _organisation_of(account, organisation)
    _allowed(actor, account, org)
    with transaction.atomic():
        lock_catalogue(org)
        inherited = _inherited(org, data.code.strip())
        offices = visible_offices(org)
        data = clean_service(org, data, offices=offices, inherited=inherited)
        check_service_code(org, data.code)
        _check_keywords(org, data)
        textcheck.require_clean(
            checker_account(account, org), guide_texts(data), GUIDE,
            dismissing=dismissing, actor=actor, warnings=warnings,
        )  # fmt: skip
        s = Service(organisation=org)
        write_service_row(s, data, offices)
        name = "service.withdrawn" if data.withdrawn else "service.created"
        _audit(name, org, account, actor, code=s.code, overrides=inherited is not None)
        catalogue.bump(org)
    return s


def update_service(
    service: Service,
    data: ServiceInput,
    *,
    account: Account | None = None,
    actor: Any = None,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> Service:
    """Rewrite a row of the organisation's own catalogue (its code too). The new code,
    the keywords and the guide are checked as in `create_service`, in the transaction,
    under `lock_catalogue`."""
    org = service.organisation
    _allowed(actor, account, org)
    with transaction.atomic():
        lock_catalogue(org)
        offices = visible_offices(org)
        data = clean_service(
            org, data, offices=offices, inherited=_inherited(org, data.code.strip())
        )
        check_service_code(org, data.code, current=service)
        _check_keywords(org, data, replaced=(service.code,))
        textcheck.require_clean(
            checker_account(account, org), guide_texts(data), GUIDE,
            dismissing=dismissing, actor=actor, warnings=warnings,
        )  # fmt: skip
        before = service.code
        write_service_row(service, data, offices)
        _audit("service.updated", org, account, actor, code=service.code, was=before)
        catalogue.bump(org)
    return service


def override_service(
    inherited: Service,
    data: ServiceInput,
    *,
    account: Account | None = None,
    actor: Any = None,
    organisation: Organisation | None = None,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> Service:
    """A row of the organisation's own that takes the place of an inherited service
    there (same code: the code of `data` is ignored)."""
    org = _organisation_of(account, organisation)
    if inherited.organisation_id not in catalogue.lineage(org)[1:]:
        raise ValidationError("这不是上级组织的服务事项 / not a service inherited from above")
    return create_service(
        replace(data, code=inherited.code),
        organisation=org,
        account=account,
        actor=actor,
        dismissing=dismissing,
        warnings=warnings,
    )


def withdraw_service(
    inherited: Service,
    *,
    account: Account | None = None,
    actor: Any = None,
    organisation: Organisation | None = None,
) -> Service:
    """Hide an inherited service in the organisation's catalogue (本级不提供): a withdrawn
    row of the same code. Deleting that row brings the inherited service back."""
    org = _organisation_of(account, organisation)
    if inherited.organisation_id not in catalogue.lineage(org)[1:]:
        raise ValidationError("这不是上级组织的服务事项 / not a service inherited from above")
    check_menus_keep(inherited.code, org, "withdraw")
    own = Service.objects.filter(organisation=org, code=inherited.code).first()
    if own is not None:
        _allowed(actor, account, org)
        if own.withdrawn:
            return own
        return update_service(
            own, replace(ServiceInput.of(own), withdrawn=True), account=account, actor=actor
        )
    data = ServiceInput(
        code=inherited.code,
        name=inherited.name,
        category=inherited.category,
        position=inherited.position,
        withdrawn=True,
    )
    return create_service(data, organisation=org, account=account, actor=actor)


def delete_service(service: Service, *, account: Account | None = None, actor: Any = None) -> None:
    """Delete a row of the organisation's own catalogue. For an override or a
    withdrawal, the inherited service shows again."""
    org = service.organisation
    _allowed(actor, account, org)
    with transaction.atomic():
        lock_catalogue(org)
        if not service.withdrawn:
            check_menus_keep(service.code, org, "delete")
        code = service.code
        service.delete()
        _audit("service.deleted", org, account, actor, code=code)
        catalogue.bump(org)


# ------------------------------------------------------------------ offices


def clean_office(data: OfficeInput) -> OfficeInput:
    errors: dict[str, list[str]] = {}
    code = _clean_code(errors, data.code, "网点编码")
    name = _text(errors, "name", data.name, "网点名称", 100)
    address = _text(errors, "address", data.address, "地址", 200)
    if not data.withdrawn:
        if not name:
            errors.setdefault("name", []).append("网点名称不能为空 / office name is required")
        if not address:
            errors.setdefault("address", []).append("地址不能为空 / address is required")
    hours = _text(errors, "opening_hours", data.opening_hours, "办公时间", 200)
    phone = _text(errors, "phone", data.phone, "电话", 64)
    if phone and not PHONE_RE.match(phone):
        errors.setdefault("phone", []).append(
            f"电话只能包含数字、空格、+ - ( ) 和“转”：{phone} / "
            f"a phone number has digits, spaces, + - ( ) only: {phone!r}"
        )
    lat, lon = data.latitude, data.longitude
    if (lat is None) != (lon is None):
        errors.setdefault("latitude", []).append(
            "纬度和经度须同时填写 / latitude and longitude go together"
        )
    if lat is not None and not (-90 <= lat <= 90):
        errors.setdefault("latitude", []).append(
            f"纬度须在 -90 到 90 之间：{lat} / latitude must be within -90..90: {lat}"
        )
    if lon is not None and not (-180 <= lon <= 180):
        errors.setdefault("longitude", []).append(
            f"经度须在 -180 到 180 之间：{lon} / longitude must be within -180..180: {lon}"
        )
    _errors(errors)
    return OfficeInput(code, name, address, hours, phone, lat, lon, data.withdrawn)


def _write_office(o: Office, data: OfficeInput) -> None:
    for name, value in office_values(data).items():
        setattr(o, name, value)
    o.save()


def create_office(
    data: OfficeInput,
    *,
    organisation: Organisation | None = None,
    account: Account | None = None,
    actor: Any = None,
) -> Office:
    """An office of the organisation's own (an ancestor's code: an override there). The
    code is unique by constraint: a concurrent row of the same code gives the check's
    ValidationError."""
    org = _organisation_of(account, organisation)
    _allowed(actor, account, org)
    data = clean_office(data)
    with transaction.atomic():
        lock_catalogue(org)
        check_office_code(org, data.code)
        o = Office(organisation=org)
        write_office_row(o, data)
        _audit("office.created", org, account, actor, code=o.code)
        catalogue.bump(org)
    return o


def update_office(
    office: Office, data: OfficeInput, *, account: Account | None = None, actor: Any = None
) -> Office:
    org = office.organisation
    _allowed(actor, account, org)
    data = clean_office(data)
    with transaction.atomic():
        lock_catalogue(org)
        check_office_code(org, data.code, current=office)
        write_office_row(office, data)
        _audit("office.updated", org, account, actor, code=office.code)
        catalogue.bump(org)
    return office


def withdraw_office(
    inherited: Office,
    *,
    account: Account | None = None,
    actor: Any = None,
    organisation: Organisation | None = None,
) -> Office:
    """Hide an inherited office in the organisation's catalogue (本级不显示)."""
    org = _organisation_of(account, organisation)
    if inherited.organisation_id not in catalogue.lineage(org)[1:]:
        raise ValidationError("这不是上级组织的办事网点 / not an office inherited from above")
    own = Office.objects.filter(organisation=org, code=inherited.code).first()
    if own is not None:
        return update_office(
            own, replace(OfficeInput.of(own), withdrawn=True), account=account, actor=actor
        )
    data = replace(OfficeInput.of(inherited), withdrawn=True)
    return create_office(data, organisation=org, account=account, actor=actor)


def delete_office(office: Office, *, account: Account | None = None, actor: Any = None) -> None:
    org = office.organisation
    _allowed(actor, account, org)
    with transaction.atomic():
        lock_catalogue(org)
        code = office.code
        office.delete()
        _audit("office.deleted", org, account, actor, code=code)
        catalogue.bump(org)
