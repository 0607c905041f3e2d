"""The departments of an account's organisation, as its admin manages them: add, edit
(name, short name, parent, working hours), liaisons, merge, retire; the list as Excel.

Every write needs "settings.manage" on the account, runs in one transaction and is
audited (`department.*`). A department belongs to the account's organisation; its name is
unique there among the departments in use (the Excel list names parents by name), and
its parents never form a cycle. What the apps above keep of a department (the desk's open
cases and routing rules) is reached through `hooks.department_hooks`: accounts may not
import them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zipfile import BadZipFile

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from govwx.lib.cells import safe_row

from . import permissions
from .hooks import department_hooks
from .models import Account, Department, Invitation, Membership
from .services import record

MAX_NAME = 100
MAX_SHORT = 30
MAX_HOURS = 200
MAX_IMPORT_ROWS = 2000

# The Excel list's columns: Chinese headers (English accepted on import).
COLUMNS = ("名称", "简称", "上级部门", "办公时间说明")
ALIASES = {
    "名称": "name",
    "部门名称": "name",
    "name": "name",
    "简称": "short_name",
    "short_name": "short_name",
    "上级部门": "parent",
    "parent": "parent",
    "办公时间说明": "working_hours",
    "办公时间": "working_hours",
    "working_hours": "working_hours",
}
REQUIRED = ("name", "parent")

# What keeps a department from being retired, as the apps above count it.
USAGE_LABELS = {"open_cases": "件未办结的诉求", "routing_rules": "条分办规则"}


@dataclass(frozen=True)
class DepartmentInput:
    name: str
    short_name: str = ""
    parent_id: int | None = None
    working_hours: str = ""


@dataclass(frozen=True)
class TreeRow:
    department: Department
    depth: int
    liaisons: list[Membership]
    open_cases: int


# ------------------------------------------------------------------------ reads


def departments_of(account: Account) -> Any:
    """The departments in use of the account's organisation."""
    return Department.objects.of_account(account)


def get_department(account: Account, pk: int | str) -> Department:
    """A department of the account's organisation (retired ones too), or 404 — never
    another organisation's."""
    try:
        if account.organisation_id is None:
            raise Department.DoesNotExist
        return Department.objects.get(pk=int(pk), organisation_id=account.organisation_id)
    except (Department.DoesNotExist, ValueError) as exc:
        raise Http404("no such department") from exc


def usages(depts: Sequence[Department]) -> dict[int, dict[str, int]]:
    """What the apps above still keep in each department: {id: {"open_cases": n,
    "routing_rules": m}}, in a few grouped queries."""
    found: dict[int, dict[str, int]] = {d.pk: {"open_cases": 0, "routing_rules": 0} for d in depts}
    for hook in department_hooks.usage:
        for pk, counts in hook(depts).items():
            for key, n in counts.items():
                found[pk][key] = found[pk].get(key, 0) + n
    return found


def usage(department: Department) -> dict[str, int]:
    return usages([department])[department.pk]


def ordered(depts: Iterable[Department]) -> list[tuple[Department, int]]:
    """Departments as a tree: each after its parent, children by name, with the depth.
    A department whose parent is not among them starts a tree of its own."""
    items = list(depts)
    ids = {d.pk for d in items}
    children: dict[int | None, list[Department]] = {}
    for d in items:
        key = d.parent_id if d.parent_id in ids else None
        children.setdefault(key, []).append(d)
    out: list[tuple[Department, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for d in sorted(children.get(parent, []), key=lambda x: (x.name, x.pk)):
            out.append((d, depth))
            walk(d.pk, depth + 1)

    walk(None, 0)
    return out


def tree(account: Account) -> list[TreeRow]:
    """The account's departments in use as a tree, with their liaisons on this account
    and their open cases."""
    depts = list(departments_of(account))
    liaisons: dict[int, list[Membership]] = {}
    for m in (
        Membership.objects.filter(account=account, role=Membership.Role.LIAISON)
        .select_related("user")
        .order_by("user__username")
    ):
        if m.department_id is not None:
            liaisons.setdefault(m.department_id, []).append(m)
    counts = usages(depts)
    return [
        TreeRow(d, depth, liaisons.get(d.pk, []), counts[d.pk]["open_cases"])
        for d, depth in ordered(depts)
    ]


def retired_of(account: Account) -> list[Department]:
    if account.organisation_id is None:
        return []
    return list(
        Department.objects.filter(
            organisation_id=account.organisation_id, retired_at__isnull=False
        ).select_related("merged_into")
    )


# ----------------------------------------------------------------------- checks


def _no_organisation() -> ValidationError:
    return ValidationError(
        "该公众号尚未设置主办组织，不能管理部门 / the account has no organisation"
    )


def _ancestors(start: int | None, parents: dict[int, int | None]) -> list[int]:
    """The chain of parents from `start` upwards (stops at a repeat)."""
    chain: list[int] = []
    node = start
    while node is not None and node not in chain:
        chain.append(node)
        node = parents.get(node)
    return chain


def clean_department(
    account: Account, data: DepartmentInput, *, instance: Department | None = None
) -> DepartmentInput:
    """The input as it will be stored, or ValidationError({field: [message]})."""
    if account.organisation_id is None:
        raise _no_organisation()
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    short = data.short_name.strip()
    hours = data.working_hours.strip()
    current = departments_of(account)
    if not name:
        errors["name"] = ["请填写部门名称 / name is required"]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"部门名称不能超过 {MAX_NAME} 个字 / name longer than {MAX_NAME}"]
    else:
        clash = current.filter(name=name)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors["name"] = [f"已有名为「{name}」的部门 / a department named {name} exists"]
    if len(short) > MAX_SHORT:
        errors["short_name"] = [f"简称不能超过 {MAX_SHORT} 个字 / short name too long"]
    if len(hours) > MAX_HOURS:
        errors["working_hours"] = [f"办公时间说明不能超过 {MAX_HOURS} 个字 / too long"]
    parent_id = data.parent_id
    if parent_id is not None:
        parents = dict(current.values_list("pk", "parent_id"))
        if parent_id not in parents:
            errors["parent"] = ["上级部门不是本组织在用的部门 / unknown parent department"]
        elif instance is not None and instance.pk in _ancestors(parent_id, parents):
            errors["parent"] = [
                "上级部门不能是本部门或它的下级部门（会形成循环） / the parent would make a cycle"
            ]
    if errors:
        raise ValidationError(errors)
    return DepartmentInput(name, short, parent_id, hours)


# ----------------------------------------------------------------------- writes


def create_department(account: Account, data: DepartmentInput, *, actor: Any) -> Department:
    permissions.require(actor, account, "settings.manage")
    data = clean_department(account, data)
    assert account.organisation is not None  # clean_department refuses an account without
    with transaction.atomic():
        dept = Department.objects.create(
            organisation=account.organisation,
            name=data.name,
            short_name=data.short_name,
            parent_id=data.parent_id,
            working_hours=data.working_hours,
        )
        record("department.created", account=account, actor=actor, department=dept.pk,
               name=dept.name, parent=dept.parent_id)  # fmt: skip
    return dept


def update_department(
    account: Account, dept: Department, data: DepartmentInput, *, actor: Any
) -> Department:
    """Rename, short name, parent, working hours; what changed is audited."""
    permissions.require(actor, account, "settings.manage")
    _require_current(account, dept)
    data = clean_department(account, data, instance=dept)
    changes = {
        field: [getattr(dept, field), getattr(data, field)]
        for field in ("name", "short_name", "parent_id", "working_hours")
        if getattr(dept, field) != getattr(data, field)
    }
    if not changes:
        return dept
    with transaction.atomic():
        Department.objects.filter(pk=dept.pk).update(
            name=data.name,
            short_name=data.short_name,
            parent_id=data.parent_id,
            working_hours=data.working_hours,
        )
        record("department.updated", account=account, actor=actor, department=dept.pk,
               changes=changes)  # fmt: skip
    dept.refresh_from_db()
    return dept


def _require_current(account: Account, dept: Department) -> None:
    if account.organisation_id is None or dept.organisation_id != account.organisation_id:
        raise ValidationError("部门不属于该公众号的主办组织 / not of the account's organisation")
    if dept.retired_at is not None:
        raise ValidationError(f"部门「{dept.name}」已撤销 / the department is retired")


def retire_department(account: Account, dept: Department, *, actor: Any) -> Department:
    """Retire (撤销) a department: refused while it has open cases (saying how many),
    routing rules, sub-departments or liaisons; its closed cases keep its name."""
    permissions.require(actor, account, "settings.manage")
    _require_current(account, dept)
    with transaction.atomic():
        dept = Department.objects.select_for_update().get(pk=dept.pk)
        problems = [f"还有 {n} {USAGE_LABELS.get(key, key)}" for key, n in usage(dept).items() if n]
        children = Department.objects.current().filter(parent=dept).count()
        if children:
            problems.append(f"还有 {children} 个下级部门")
        liaisons = Membership.objects.filter(department=dept, role=Membership.Role.LIAISON)
        if liaisons.exists():
            problems.append(f"还有 {liaisons.count()} 名联络员")
        if problems:
            raise ValidationError(
                f"部门「{dept.name}」不能撤销：{'，'.join(problems)}。"
                "请先转办或合并到其他部门 / the department is still in use"
            )
        Invitation.objects.filter(
            department=dept, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        dept.retired_at = timezone.now()
        dept.save(update_fields=["retired_at"])
        record("department.retired", account=account, actor=actor, department=dept.pk,
               name=dept.name)  # fmt: skip
    return dept


def merge_departments(
    account: Account, source: Department, target: Department, *, actor: Any
) -> dict[str, int]:
    """Merge `source` into `target` (the survivor): its open cases and routing rules (the
    desk, through the hooks), its liaisons, pending invitations and sub-departments move
    to `target`, and `source` is retired as merged into it. One transaction, audited with
    what moved. Returns {what: how many}."""
    permissions.require(actor, account, "settings.manage")
    _require_current(account, source)
    _require_current(account, target)
    if source.pk == target.pk:
        raise ValidationError("不能把部门合并到它自己 / cannot merge a department into itself")
    moved: dict[str, int] = {}
    with transaction.atomic():
        locked = {
            d.pk: d
            for d in Department.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
        }
        source, target = locked[source.pk], locked[target.pk]
        for hook in department_hooks.merge:
            for key, n in hook(source, target, actor).items():
                moved[key] = moved.get(key, 0) + n
        moved["liaisons"] = Membership.objects.filter(department=source).update(department=target)
        moved["invitations"] = Invitation.objects.filter(
            department=source, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(department=target)
        if target.parent_id == source.pk:
            # the survivor was below the merged department: it takes its place
            target.parent_id = source.parent_id
            target.save(update_fields=["parent"])
        moved["children"] = (
            Department.objects.current()
            .filter(parent=source)
            .exclude(pk=target.pk)
            .update(parent=target)
        )
        source.retired_at = timezone.now()
        source.merged_into = target
        source.save(update_fields=["retired_at", "merged_into"])
        record("department.merged", account=account, actor=actor, department=source.pk,
               name=source.name, into=target.pk, into_name=target.name, moved=moved)  # fmt: skip
    return moved


# ---------------------------------------------------------------------- Excel


def export_xlsx(account: Account) -> bytes:
    """The departments in use as an Excel sheet (Chinese headers, tree order); every
    cell neutralised against formulas. Imported back, it changes nothing."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "部门"
    ws.append(list(COLUMNS))
    depts = list(departments_of(account))
    names = {d.pk: d.name for d in depts}
    for d, _depth in ordered(depts):
        ws.append(
            safe_row([d.name, d.short_name, names.get(d.parent_id or 0, ""), d.working_hours])
        )
    for col, width in zip("ABCD", (28, 14, 28, 36), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class ImportRow:
    line: int  # the row number in the sheet
    name: str
    short_name: str | None  # None: the column is absent, keep what is stored
    parent: str
    working_hours: str | None


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: int


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # what our own export neutralised comes back as text
    if text.startswith("'") and len(text) > 1 and text[1] in "=+-@\t\r":
        text = text[1:]
    return text


def read_sheet(content: bytes) -> list[ImportRow]:
    """The rows of an uploaded sheet, or ValidationError naming what is wrong with the
    file itself (not Excel, a column missing)."""
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError("不是有效的 Excel 文件（.xlsx） / not an .xlsx file") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = ALIASES.get(_text(cell).lower()) or ALIASES.get(_text(cell))
        if key and key not in cols:
            cols[key] = i
    missing = [c for c, key in zip(COLUMNS, ("name", "short_name", "parent", "working_hours"), strict=True)
               if key in REQUIRED and key not in cols]  # fmt: skip
    if missing:
        raise ValidationError(
            f"缺少列：{'、'.join(missing)}（第 1 行应为表头：{'、'.join(COLUMNS)}） / "
            f"missing column: {', '.join(missing)}"
        )
    out: list[ImportRow] = []
    for n, row in enumerate(rows, start=2):

        def get(key: str, row: tuple[Any, ...] = row) -> str | None:
            if key not in cols:
                return None
            i = cols[key]
            return _text(row[i]) if i < len(row) else ""

        if all(_text(v) == "" for v in row):
            continue
        if len(out) >= MAX_IMPORT_ROWS:
            raise ValidationError(f"一次最多导入 {MAX_IMPORT_ROWS} 行 / too many rows")
        out.append(ImportRow(n, get("name") or "", get("short_name"), get("parent") or "",
                             get("working_hours")))  # fmt: skip
    wb.close()
    return out


def check_import(account: Account, rows: Sequence[ImportRow]) -> list[str]:
    """Every problem of the rows, each naming its rows; empty when all are right."""
    problems: list[str] = []
    if not rows:
        return ["表中没有部门 / the sheet has no rows"]
    by_name: dict[str, list[int]] = {}
    for r in rows:
        if not r.name:
            problems.append(f"第 {r.line} 行：部门名称为空")
        elif len(r.name) > MAX_NAME:
            problems.append(f"第 {r.line} 行：部门名称超过 {MAX_NAME} 个字")
        else:
            by_name.setdefault(r.name, []).append(r.line)
        if r.short_name is not None and len(r.short_name) > MAX_SHORT:
            problems.append(f"第 {r.line} 行：简称超过 {MAX_SHORT} 个字")
        if r.working_hours is not None and len(r.working_hours) > MAX_HOURS:
            problems.append(f"第 {r.line} 行：办公时间说明超过 {MAX_HOURS} 个字")
        if r.name and r.parent == r.name:
            problems.append(f"第 {r.line} 行：「{r.name}」的上级部门不能是它自己")
    for name, lines in by_name.items():
        if len(lines) > 1:
            problems.append(f"第 {'、'.join(map(str, lines))} 行：部门「{name}」重复")
    existing = {d.name: d for d in departments_of(account).select_related("parent")}
    # the parents after the import: the file's rows over what is stored
    parent_of: dict[str, str | None] = {
        name: (d.parent.name if d.parent is not None and d.parent.retired_at is None else None)
        for name, d in existing.items()
    }
    line_of = {r.name: r.line for r in rows if r.name}
    for r in rows:
        if not r.name:
            continue
        if r.parent and r.parent not in line_of and r.parent not in existing:
            problems.append(
                f"第 {r.line} 行：上级部门「{r.parent}」不存在（不在表中，也不是本组织在用的部门）"
            )
        parent_of[r.name] = r.parent or None
    reported: set[str] = set()
    for start in line_of:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node not in chain:
            chain.append(node)
            node = parent_of.get(node)
        if node is None:
            continue
        cycle = chain[chain.index(node) :]  # came back to a department of the chain
        if len(cycle) > 1 and start in cycle and not set(cycle) & reported:
            reported.update(cycle)
            lines = sorted(line_of[n] for n in cycle if n in line_of)
            path = " → ".join([*cycle, cycle[0]])
            problems.append(f"第 {'、'.join(map(str, lines))} 行：上级部门形成循环（{path}）")
    return problems


def import_departments(account: Account, content: bytes, *, actor: Any) -> ImportResult:
    """Import the Excel list: a row whose name is a department in use updates it (short
    name, parent, working hours), any other row adds one; departments not in the file are
    left as they are. Any problem refuses the whole import, naming the rows
    (ValidationError with every message), and nothing is written."""
    permissions.require(actor, account, "settings.manage")
    if account.organisation_id is None:
        raise _no_organisation()
    rows = read_sheet(content)
    problems = check_import(account, rows)
    if problems:
        raise ValidationError(problems)
    created: list[str] = []
    updated: list[str] = []
    unchanged = 0
    with transaction.atomic():
        existing = {d.name: d for d in departments_of(account).select_for_update()}
        for r in rows:  # first every department, then their parents (any order in the file)
            if r.name not in existing:
                existing[r.name] = Department.objects.create(
                    organisation_id=account.organisation_id,
                    name=r.name,
                    short_name=r.short_name or "",
                    working_hours=r.working_hours or "",
                )
                created.append(r.name)
        for r in rows:
            d = existing[r.name]
            want = {
                "parent_id": existing[r.parent].pk if r.parent else None,
                "short_name": d.short_name if r.short_name is None else r.short_name,
                "working_hours": d.working_hours if r.working_hours is None else r.working_hours,
            }
            changed = {k: v for k, v in want.items() if getattr(d, k) != v}
            if changed:
                Department.objects.filter(pk=d.pk).update(**changed)
                for k, v in changed.items():
                    setattr(d, k, v)
                if r.name not in created:
                    updated.append(r.name)
            elif r.name not in created:
                unchanged += 1
        record("department.imported", account=account, actor=actor, rows=len(rows),
               created=created, updated=updated)  # fmt: skip
    return ImportResult(created, updated, unchanged)
