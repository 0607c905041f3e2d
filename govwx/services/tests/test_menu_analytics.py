"""Menu analytics name items by the current menu: the version published last, not the
one with the highest number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govwx.accounts.models import Account
from govwx.services import analytics
from govwx.services.menu import current_version
from govwx.services.models import MenuVersion

pytestmark = pytest.mark.django_db


def version(account: Account, number: int, key: str, name: str, day: int | None) -> MenuVersion:
    return MenuVersion.objects.create(
        account=account,
        number=number,
        status=MenuVersion.Status.PUBLISHED if day else MenuVersion.Status.FAILED,
        compiled={"menu": {"button": [{"type": "click", "name": name, "key": key}]}},
        published_at=datetime(2026, 11, day, tzinfo=UTC) if day else None,
    )


def test_an_older_version_published_again_is_the_current_menu(account: Account) -> None:
    # Version 1 failed, version 2 was published on 2 November, then version 1 was
    # published after all on 3 November: followers see version 1.
    v1 = version(account, 1, "OLD", "旧通知", None)
    version(account, 2, "NEW", "新通知", 2)
    MenuVersion.objects.filter(pk=v1.pk).update(
        status=MenuVersion.Status.PUBLISHED, published_at=datetime(2026, 11, 3, tzinfo=UTC)
    )
    assert current_version(account) == v1
    names = analytics.menu_names(account)
    assert {key: (n.name, n.current) for key, n in names.items()} == {
        analytics.item_key("click", "OLD"): ("旧通知", True),
        analytics.item_key("click", "NEW"): ("新通知", False),
    }


def test_an_item_in_two_versions_is_named_by_the_one_published_later(account: Account) -> None:
    version(account, 1, "SAME", "后发布的名字", 5)
    version(account, 2, "SAME", "先发布的名字", 4)
    version(account, 3, "OTHER", "当前", 6)
    names = analytics.menu_names(account)
    assert names[analytics.item_key("click", "SAME")].name == "后发布的名字"
    assert names[analytics.item_key("click", "SAME")].current is False
    assert names[analytics.item_key("click", "OTHER")].current is True
