"""Positioning, measured: locality shares over the last 30 days against the statement,
and the articles whose pictures show only meetings; the panels on the home page and the
website embedding panel on the account's settings page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from govwx.accounts.models import Account
from govwx.content import positioning
from govwx.content.models import Article, Material

from .test_web import BASE, TEXT, make_picture, publish, write

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("caption", "meeting"),
    [
        ("市长主持召开防汛工作部署会", True),
        ("座谈会现场", True),
        ("副市长到东湖区调研", True),
        ("市领导出席签约仪式并讲话", True),
        ("全市安全生产推进会", True),
        ("新建的水厂", False),
        ("市民在政务服务中心办理社保", False),
        ("", False),
    ],
)
def test_a_caption_marks_a_meeting_picture(caption: str, meeting: bool) -> None:
    assert positioning.is_meeting(caption) is meeting


@pytest.fixture
def crafted(account: Account, editor: Any) -> dict[str, Article]:
    """Ten articles published in the window (6 本市, 3 本省, 1 全国), and three that do
    not count: published 31 days ago, a draft, a withdrawn one."""
    meeting = make_picture(account, "市长主持召开防汛工作部署会", "#111")
    water = make_picture(account, "新建的水厂", "#222")
    blank = make_picture(account, "", "#333")

    def img(m: Material, caption: str = "") -> dict[str, Any]:
        return {"type": "image", "material": m.pk, **({"caption": caption} if caption else {})}

    plan: list[tuple[str, str, list[dict[str, Any]], Material | None]] = [
        ("只有会议", "city", [TEXT, img(meeting)], None),
        ("会议和水厂", "city", [img(meeting), img(water)], None),
        ("没有图片", "city", [TEXT], None),
        ("图片说明是座谈", "city", [img(blank, "座谈会现场")], None),
        ("会议封面", "province", [TEXT], meeting),
        ("没有说明的图片", "province", [img(blank)], None),
        ("本市三", "city", [TEXT], None),
        ("本市四", "city", [TEXT], water),
        ("本省三", "province", [TEXT], None),
        ("全国一", "national", [img(meeting), img(meeting, "省长讲话")], None),
    ]
    made = {}
    for i, (title, locality, body, cover) in enumerate(plan):
        a = write(account, editor, title, body=body, locality=locality, cover=cover)
        made[title] = publish(a, NOW - timedelta(days=29, hours=23) + timedelta(days=i))
    publish(write(account, editor, "31 天前", locality="national"), NOW - timedelta(days=31))
    write(account, editor, "草稿", body=[img(meeting)], locality="national")
    w = publish(write(account, editor, "撤回", body=[img(meeting)], locality="national"), NOW)
    Article.objects.filter(pk=w.pk).update(status=Article.Status.WITHDRAWN)
    return made


def test_the_figures_of_a_crafted_month(
    account: Account, crafted: dict[str, Article], django_assert_num_queries: Any
) -> None:
    Account.objects.filter(pk=account.pk).update(positioning="本市政务信息发布和办事服务")
    account.refresh_from_db()
    with django_assert_num_queries(2):
        p = positioning.measure(account, now=NOW)
    assert p.statement == "本市政务信息发布和办事服务"
    assert p.published == 10
    assert [(s.value, s.label, s.count, s.percent) for s in p.locality] == [
        ("city", "本市", 6, 60),
        ("province", "本省", 3, 30),
        ("national", "全国", 1, 10),
    ]
    assert p.local_percent == 60
    # pictures: all but 没有图片, 本市三, 本省三
    assert p.with_pictures == 7
    assert [a.title for a in p.meeting_articles] == [
        "全国一",
        "会议封面",
        "图片说明是座谈",
        "只有会议",
    ]
    assert p.meeting_only == 4 and p.meeting_percent == 40
    assert p.since == NOW - timedelta(days=30) and p.until == NOW


def test_an_account_without_articles_measures_zero(account: Account) -> None:
    p = positioning.measure(account, now=NOW)
    assert p.published == 0 and p.meeting_percent == 0 and p.statement == ""
    assert [s.percent for s in p.locality] == [0, 0, 0]


def test_another_accounts_pictures_do_not_count(
    account: Account, other_account: Account, editor: Any
) -> None:
    foreign = make_picture(other_account, "召开会议")
    a = publish(write(account, editor), NOW - timedelta(days=1))
    Article.objects.filter(pk=a.pk).update(body=[{"type": "image", "material": foreign.pk}])
    p = positioning.measure(account, now=NOW)
    assert p.with_pictures == 0 and p.meeting_only == 0


def test_the_home_page_shows_the_positioning_panel(
    client: Client, account: Account, operator: Any, crafted: dict[str, Article]
) -> None:
    import time_machine

    Account.objects.filter(pk=account.pk).update(positioning="本市政务信息发布和办事服务")
    client.force_login(operator)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/").content.decode()
    assert '<span id="positioning-statement">本市政务信息发布和办事服务</span>' in html
    assert (
        '<tr data-locality="city"><td>本市</td><td class="num">6</td><td class="num">60%</td>'
        in html
    )
    assert "只有会议图片的文章：4 / 10 篇（40%），有图片的文章 7 篇。" in html
    assert "2026-05-31 至 2026-06-30 发布文章 10 篇" in html
    assert f'href="/a/{crafted["只有会议"].token}/"' in html


def test_the_home_page_says_when_there_is_no_statement(
    client: Client, account: Account, operator: Any
) -> None:
    client.force_login(operator)
    html = client.get("/").content.decode()
    assert "尚未填写定位（设置 › 公众号）" in html and 'id="positioning-empty"' in html


def test_the_account_settings_show_the_website_embedding(
    client: Client, account: Account, account_admin: Any, settings: Any
) -> None:
    settings.GOVWX_PUBLIC_URL = BASE
    client.force_login(account_admin)
    html = client.get("/settings/account/").content.decode()
    assert '<section class="card" id="web-embed">' in html
    iframe = (
        f"&lt;iframe src=&quot;{BASE}/embed/{account.appid}/&quot; title=&quot;示例市发布&quot; "
        "width=&quot;100%&quot; height=&quot;420&quot; style=&quot;border:0&quot; "
        "loading=&quot;lazy&quot;&gt;&lt;/iframe&gt;"
    )
    assert iframe in html
    for path in ("rss.xml", "atom.xml", "feed.json"):
        assert f'<code class="feed-url">{BASE}/feeds/{account.appid}/{path}</code>' in html
    assert f"{BASE}/embed/{account.appid}/list.html" in html
