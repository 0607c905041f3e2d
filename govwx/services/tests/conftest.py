"""A matrix for the service hub's tests: a province, its city and a county, the city's
account (the shared `account` fixture) and a county account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from govwx.accounts.models import Account, Department, Organisation
from govwx.conftest import make_account


@pytest.fixture(autouse=True)
def default_language_afterwards() -> Iterator[None]:
    """A request in English leaves the language active in the thread: each test starts
    in the default language."""
    yield
    translation.deactivate()


@pytest.fixture
def province(db: Any) -> Organisation:
    return Organisation.objects.create(name="示例省", level=Organisation.Level.PROVINCE)


@pytest.fixture
def city(province: Organisation) -> Organisation:
    return Organisation.objects.create(
        name="示例市", level=Organisation.Level.CITY, parent=province
    )


@pytest.fixture
def county(city: Organisation) -> Organisation:
    return Organisation.objects.create(name="示例县", level=Organisation.Level.COUNTY, parent=city)


@pytest.fixture
def city_account(account: Account, city: Organisation) -> Account:
    Account.objects.filter(pk=account.pk).update(organisation=city)
    account.refresh_from_db()
    return account


@pytest.fixture
def county_account(county: Organisation) -> Account:
    a = make_account("wx0000000000000c01", name="示例县发布")
    Account.objects.filter(pk=a.pk).update(organisation=county)
    a.refresh_from_db()
    return a


@pytest.fixture
def hrss(city: Organisation) -> Department:
    return Department.objects.create(organisation=city, name="市人力资源和社会保障局")
