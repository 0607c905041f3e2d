"""The permission table: its helpers, and docs/permissions.md kept equal to it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import translation

from govwx.accounts import permissions
from govwx.accounts.models import Account, Membership
from govwx.accounts.permissions import AREAS, PERMISSIONS, can, perms_for, require, role_has
from govwx.accounts.services import add_member

DOC = Path(settings.BASE_DIR).parent / "docs" / "permissions.md"
ROLES = list(Membership.Role.values)
CELL_PERM = re.compile(r"^`([a-z]+\.[a-z]+)`$")
CELL_AREA = re.compile(r"^\*\*(.+)\*\* `([a-z]+)`$")


def parse_doc() -> tuple[list[str], dict[str, tuple[str, str, frozenset[str]]], dict[str, str]]:
    """The document's table: its role columns, each permission's (area, text, roles) and
    each area's label."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| 权限 permission |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    columns = [re.search(r"`([a-z]+)`", c).group(1) for c in header[2:]]  # type: ignore[union-attr]
    assert re.fullmatch(r"\|---\|---\|(:-:\|)+", lines[start + 1]), lines[start + 1]
    rows: dict[str, tuple[str, str, frozenset[str]]] = {}
    areas: dict[str, str] = {}
    area = ""
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip()[1:-1].split("|")]
        assert len(cells) == len(header), line
        if m := CELL_AREA.match(cells[0]):
            area = m.group(2)
            assert area not in areas, f"area {area} twice"
            areas[area] = m.group(1)
            assert not any(cells[1:]), f"an area row has marks: {line}"
            continue
        m = CELL_PERM.match(cells[0])
        assert m, f"not a permission row: {line}"
        assert m.group(1) not in rows, f"{m.group(1)} twice"
        assert set(cells[2:]) <= {"", "✓"}, line
        granted = frozenset(role for role, mark in zip(columns, cells[2:], strict=True) if mark)
        rows[m.group(1)] = (area, cells[1], granted)
    return columns, rows, areas


def test_the_document_has_every_role_as_a_column() -> None:
    columns, _, _ = parse_doc()
    assert columns == ROLES
    text = DOC.read_text(encoding="utf-8")
    for role in ROLES:  # and says who each role is
        assert re.search(rf"^\| `{role}` \| ", text, re.M), role


def test_the_document_table_is_the_permission_table() -> None:
    _, rows, areas = parse_doc()
    assert list(rows) == list(PERMISSIONS)
    with translation.override(settings.LANGUAGE_CODE):
        for perm, (label, roles) in PERMISSIONS.items():
            area, text, granted = rows[perm]
            assert granted == roles, perm
            assert text == str(label), perm
            assert area == perm.split(".")[0], f"{perm} is under the area {area}"
        assert areas == {area: str(label) for area, label in AREAS.items()}


def test_every_permission_belongs_to_an_area() -> None:
    assert {perm.split(".")[0] for perm in PERMISSIONS} == set(AREAS)
    assert all(roles <= set(ROLES) for _, roles in PERMISSIONS.values())
    assert permissions.DEPARTMENT_SCOPED <= set(ROLES)


def test_a_role_has_exactly_its_permissions() -> None:
    assert perms_for(None) == frozenset()
    assert perms_for("nobody") == frozenset()
    for role in ROLES:
        assert perms_for(role) == {p for p, (_, rs) in PERMISSIONS.items() if role in rs}
        assert "home.view" in perms_for(role)
    # a department's own acts (accepting a case, verifying its information) and a
    # leader's (approving major information) are not the office's
    assert perms_for("admin") == set(PERMISSIONS) - {
        "cases.accept",
        "content.verify",
        "content.major",
    }
    assert perms_for("reviewer") == {
        "home.view",
        "alerts.view",
        "rules.view",
        "rota.view",
        "team.view",
        "projects.view",
        "services.view",
        "menu.view",
        "content.view",
        "content.proofread",
        "proofread.view",
        "proofread.manage",
        "proofread.dismiss",
        "materials.view",
    }


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        role_has("admin", "rules.edits")
    with pytest.raises(KeyError):
        permissions.console_view("no.such")


@pytest.mark.django_db
def test_can_and_require_go_by_the_role_on_that_account(
    account: Account, other_account: Account, django_user_model: Any
) -> None:
    editor = django_user_model.objects.create_user("editor")
    add_member(account, editor, Membership.Role.EDITOR)
    assert can(editor, account, "rules.edit")
    assert not can(editor, account, "cases.view")
    assert not can(editor, other_account, "rules.view")  # no role there
    require(editor, account, "rules.edit")
    with pytest.raises(PermissionDenied, match="not permitted: cases.route"):
        require(editor, account, "cases.route")
    root = django_user_model.objects.create_superuser("root", password="x")
    assert all(can(root, other_account, p) for p in perms_for("admin"))
    from django.contrib.auth.models import AnonymousUser

    assert not can(AnonymousUser(), account, "home.view")
