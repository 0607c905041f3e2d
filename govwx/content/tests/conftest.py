"""Fixtures of the content app: people in each role on the account, a department and a
picture in the material library."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.content.models import Material
from govwx.wechat.models import media_storage


def member(django_user_model: Any, account: Account, name: str, role: str, **kw: Any) -> Any:
    user = django_user_model.objects.create_user(name, password="pw-" + name)
    Membership.objects.create(user=user, account=account, role=role, **kw)
    return user


@pytest.fixture
def organisation(account: Account) -> Organisation:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    return org


@pytest.fixture
def department(organisation: Organisation) -> Department:
    return Department.objects.create(organisation=organisation, name="市水务局")


@pytest.fixture
def other_department(organisation: Organisation) -> Department:
    return Department.objects.create(organisation=organisation, name="市人社局")


@pytest.fixture
def editor(account: Account, django_user_model: Any) -> Any:
    return member(django_user_model, account, "editor", "editor")


@pytest.fixture
def editor2(account: Account, django_user_model: Any) -> Any:
    return member(django_user_model, account, "editor2", "editor")


@pytest.fixture
def reviewer(account: Account, django_user_model: Any) -> Any:
    return member(django_user_model, account, "reviewer", "reviewer")


@pytest.fixture
def leader(account: Account, django_user_model: Any) -> Any:
    return member(django_user_model, account, "leader", "supervisor")


@pytest.fixture
def liaison(account: Account, django_user_model: Any, department: Department) -> Any:
    return member(django_user_model, account, "liaison", "liaison", department=department)


@pytest.fixture
def other_liaison(account: Account, django_user_model: Any, other_department: Department) -> Any:
    return member(django_user_model, account, "liaison2", "liaison", department=other_department)


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "#36c") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def picture(account: Account) -> Material:
    data = png_bytes()
    m = Material(
        account=account, kind=Material.Kind.IMAGE, title="水厂", caption="新建的水厂",
        content_type="image/png", size=len(data), width=64, height=48,
        sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    # through the media store the test set up (a FileField keeps the store it was
    # loaded with; the app reads and writes through media_storage())
    m.file.name = media_storage().save(f"content/{account.pk}/water.png", ContentFile(data))
    m.save()
    return m
