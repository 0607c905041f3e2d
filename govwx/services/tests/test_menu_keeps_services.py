"""A service a published menu opens cannot be withdrawn or deleted from under it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from govwx.accounts.models import Account, Organisation
from govwx.services.catalogue_writes import (
    ServiceInput,
    create_service,
    delete_service,
    override_service,
    withdraw_service,
)
from govwx.services.models import MenuVersion, Service

pytestmark = pytest.mark.django_db

MENU = {
    "button": [
        {"name": "办事", "sub_button": [{"name": "公积金", "kind": "service", "service": "GJJ01"}]},
        {"name": "公积金提取", "kind": "service", "service": "GJJ01"},
    ]
}


def publish(account: Account, tree: dict[str, object]) -> None:
    MenuVersion.objects.create(
        account=account, number=1, tree=tree, status=MenuVersion.Status.PUBLISHED
    )


@pytest.fixture
def gjj(city: Organisation) -> Service:
    return create_service(
        ServiceInput(code="GJJ01", name="住房公积金提取", category="housing"), organisation=city
    )


def test_a_county_cannot_withdraw_what_its_menu_opens(
    gjj: Service, county: Organisation, county_account: Account
) -> None:
    publish(county_account, MENU)
    with pytest.raises(ValidationError) as refused:
        withdraw_service(gjj, organisation=county)
    assert refused.value.messages == [
        "自定义菜单正链接到这个事项，先修改菜单再操作（示例县发布：办事 › 公积金；"
        "示例县发布：公积金提取） / a published menu opens service GJJ01: change the menu first"
    ]
    assert not Service.objects.filter(organisation=county).exists()


def test_the_city_cannot_delete_what_a_county_menu_opens_unless_the_county_has_its_own(
    gjj: Service, county: Organisation, county_account: Account
) -> None:
    publish(county_account, MENU)
    with pytest.raises(ValidationError):
        delete_service(gjj)
    assert Service.objects.filter(pk=gjj.pk).exists()
    override_service(
        gjj,
        ServiceInput(code="GJJ01", name="县公积金提取", category="housing"),
        organisation=county,
    )
    delete_service(gjj)  # the county's own version stays behind its button
    assert list(Service.objects.values_list("name", flat=True)) == ["县公积金提取"]


def test_without_the_service_in_a_published_menu_it_may_go(
    gjj: Service, county: Organisation, county_account: Account
) -> None:
    publish(county_account, {"button": [{"name": "服务大厅", "kind": "hub"}]})
    MenuVersion.objects.create(account=county_account, number=2, tree=MENU)  # a draft only
    withdraw_service(gjj, organisation=county)
    assert Service.objects.get(organisation=county).withdrawn
