"""The content plan (选题) page: a week's topics day by day, added, edited, moved and
dropped (refusals said in words, nothing changed), and beside them the words citizens
wrote most that week, from the desk's counts, linked to the inbox filtered by each word,
with 「加入选题」."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, AuditEvent, Department, Organisation
from govwx.accounts.services import add_member
from govwx.console.content_plan import citizens_words
from govwx.content.models import Article, Topic
from govwx.desk.models import TopicCount
from govwx.team.models import Project

from .staff import open_case

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 5, 10, 0, tzinfo=SH)  # a Thursday
MONDAY = date(2026, 11, 2)
PLAN = "/plan/"
ACT = "/plan/act/"


@pytest.fixture(autouse=True)
def _thursday() -> Any:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def people(account: Account, operator: Any, django_user_model: Any) -> dict[str, Any]:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    dept = Department.objects.create(organisation=org, name="市水务局")
    out = {"operator": operator, "dept": dept}
    for name, role in (("editor", "editor"), ("liaison", "liaison")):
        out[name] = django_user_model.objects.create_user(name)
        add_member(account, out[name], role, department=dept if role == "liaison" else None)
    out["project"] = Project.objects.create(
        account=account, name="防汛宣传", lead=operator, starts_on=MONDAY,
        due_on=MONDAY + timedelta(days=30),
    )  # fmt: skip
    return out


def as_user(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def count(account: Account, word: str, at: datetime, n: int) -> None:
    TopicCount.objects.create(account=account, word=word, bucket=at, count=n)


def seed_words(account: Account, other_account: Account) -> None:
    count(account, "停水", datetime(2026, 11, 2, 0, 10, tzinfo=SH), 20)  # Monday, just after 0:00
    count(account, "停水", datetime(2026, 11, 4, 15, 0, tzinfo=SH), 10)
    count(account, "水压", datetime(2026, 11, 3, 9, 0, tzinfo=SH), 12)
    count(account, "社保", datetime(2026, 11, 5, 9, 50, tzinfo=SH), 5)
    count(account, "暖气", datetime(2026, 11, 1, 23, 50, tzinfo=SH), 100)  # last week's Sunday
    count(other_account, "停水", datetime(2026, 11, 3, 9, 0, tzinfo=SH), 50)


def test_the_plan_shows_what_citizens_wrote_most_this_week_linked_to_the_inbox(
    account: Account, other_account: Account, people: dict[str, Any]
) -> None:
    seed_words(account, other_account)
    assert citizens_words(account, MONDAY) == [("停水", 30), ("水压", 12), ("社保", 5)]
    assert citizens_words(account, MONDAY - timedelta(days=7)) == [("暖气", 100)]
    # a citizen's message taken in by the desk is counted as it becomes a case
    case = open_case(account, "o-plan", "东湖区停水三天了，什么时候来水")
    assert citizens_words(account, MONDAY)[:3] == [("停水", 31), ("水压", 12), ("社保", 5)]
    page = as_user(people["operator"]).get(PLAN).content.decode()
    assert "2026-11-02 – 11-08" in page
    words = [chunk.split('"')[0] for chunk in page.split('<li data-word="')[1:]]
    assert words[:3] == ["停水", "水压", "社保"] and "东湖区" in words
    link = (
        reverse("desk:cases")
        + "?"
        + urlencode({"topic": "停水", "since": "2026-11-02T00:00:00+08:00"})
    )
    assert f'href="{link.replace("&", "&amp;")}"' in page
    inbox = as_user(people["operator"]).get(link)
    assert inbox.status_code == 200 and f"/desk/cases/{case.pk}/" in inbox.content.decode()
    # an editor plans but does not open cases: the words without links
    page = as_user(people["editor"]).get(PLAN).content.decode()
    assert 'class="word-link">停水</span>' in page and "/desk/cases/" not in page


def test_a_word_becomes_a_topic_of_the_week_once(
    account: Account, other_account: Account, people: dict[str, Any]
) -> None:
    seed_words(account, other_account)
    c = as_user(people["operator"])
    r = c.post(ACT, {"action": "word", "word": "停水", "count": "30", "week": "2026-11-02"})
    assert r.status_code == 302 and r["Location"] == "/plan/?week=2026-11-02"
    t = Topic.objects.get()
    assert (t.title, t.date, t.owner, t.notes, t.status) == (
        "群众关注：停水", date(2026, 11, 5), people["operator"], "本周群众留言中 30 条提到「停水」",
        "planned",
    )  # fmt: skip
    page = c.get(r["Location"]).content.decode()
    assert "已加入选题「群众关注：停水」" in page
    assert '<li data-word="停水">' in page
    planned = page.split('<li data-word="停水">')[1].split("</li>")[0]
    assert "已加入" in planned and "word-add" not in planned
    page = c.post(ACT, {"action": "word", "word": "停水", "week": "2026-11-02"}, follow=True)
    assert "「停水」已在本周选题中" in page.content.decode()
    page = c.post(ACT, {"action": "word", "word": "", "week": "2026-11-02"}, follow=True)
    assert "没有选择话题词" in page.content.decode()
    assert Topic.objects.count() == 1
    # a word of a week to come is planned on its Monday
    c.post(ACT, {"action": "word", "word": "停水", "week": "2026-11-09"})
    assert Topic.objects.filter(date=date(2026, 11, 9)).count() == 1


def test_topics_are_added_edited_moved_and_dropped(
    account: Account, other_account: Account, outsider: Any, people: dict[str, Any]
) -> None:
    c = as_user(people["operator"])
    other_project = Project.objects.create(
        account=other_account, name="别人的", lead=outsider, starts_on=MONDAY, due_on=MONDAY
    )
    other_dept = Department.objects.create(
        organisation=Organisation.objects.create(name="外市", level="city"), name="外市水务局"
    )
    good = {"action": "add", "title": "冬季供暖问答", "date": "2026-11-06", "week": "2026-11-02",
            "owner": people["editor"].pk, "department": people["dept"].pk,
            "project": people["project"].pk, "notes": "问答体"}  # fmt: skip
    bad = [
        ({"title": " "}, "请填写选题"),
        ({"title": "长" * 101}, "选题最多 100 字"),
        ({"date": ""}, "请填写计划日期"),
        ({"date": "2028-01-01"}, "计划日期应在一年之内"),
        ({"owner": outsider.pk}, "负责人不是本公众号的成员"),
        ({"department": other_dept.pk}, "部门不属于本公众号的主办组织"),
        ({"project": other_project.pk}, "专项工作组不属于本公众号"),
        ({"status": "lost"}, "未知的状态"),
    ]
    for change, message in bad:
        page = c.post(ACT, {**good, **change}, follow=True).content.decode()
        assert message in page, message
    assert not Topic.objects.exists()
    page = c.post(ACT, good, follow=True).content.decode()
    assert "已加入选题「冬季供暖问答」" in page
    t = Topic.objects.get()
    assert (t.date, t.owner, t.department, t.project, t.notes) == (
        date(2026, 11, 6), people["editor"], people["dept"], people["project"], "问答体"
    )  # fmt: skip
    row = page.split(f'<tr data-topic="{t.pk}"')[1].split("</tr>")[0]
    assert "周五" in row and "防汛宣传" in row and "市水务局" in row

    article = Article.objects.create(account=account, title="供暖问答")
    edit = {**good, "action": "edit", "topic": t.pk, "status": "writing", "article": article.pk}
    other_article = Article.objects.create(account=other_account, title="别人的")
    page = c.post(ACT, {**edit, "article": other_article.pk}, follow=True).content.decode()
    assert "文章不属于本公众号" in page
    page = c.post(ACT, {**edit, "status": "dropped"}, follow=True).content.decode()
    assert "放弃选题请说明理由" in page
    page = c.post(ACT, edit, follow=True).content.decode()
    t.refresh_from_db()
    assert (t.status, t.article) == ("writing", article)
    assert f"/content/articles/{article.pk}/workflow/" in page

    r = c.post(ACT, {"action": "move", "topic": t.pk, "date": "2026-11-10"})
    assert r["Location"] == "/plan/?week=2026-11-09"  # the week it went to
    t.refresh_from_db()
    assert t.date == date(2026, 11, 10)
    page = c.post(ACT, {"action": "move", "topic": t.pk, "date": "x"}, follow=True)
    assert "请选择日期" in page.content.decode()
    page = c.post(ACT, {"action": "drop", "topic": t.pk, "reason": ""}, follow=True)
    assert "请说明放弃的理由" in page.content.decode()
    c.post(ACT, {"action": "drop", "topic": t.pk, "reason": "与上周重复", "week": "2026-11-09"})
    t.refresh_from_db()
    assert (t.status, t.notes) == ("dropped", "问答体\n放弃：与上周重复")
    page = c.get(PLAN, {"week": "2026-11-12"}).content.decode()
    assert "本周选题（0）" in page and "<s>冬季供暖问答</s>" in page
    page = c.post(ACT, {"action": "move", "topic": t.pk, "date": "2026-11-11"}, follow=True)
    assert "已放弃的选题不能调整日期" in page.content.decode()
    page = c.post(ACT, {"action": "drop", "topic": 999999, "reason": "x"}, follow=True)
    assert "没有这个选题" in page.content.decode()
    page = c.post(ACT, {"action": "nonsense"}, follow=True)
    assert "未知操作" in page.content.decode()
    names = list(
        AuditEvent.objects.filter(name__startswith="topic.")
        .order_by("id")
        .values_list("name", flat=True)
    )
    assert names == ["topic.created", "topic.updated", "topic.moved", "topic.dropped"]


def test_who_may_open_and_change_the_plan(
    account: Account, other_account: Account, outsider: Any, people: dict[str, Any]
) -> None:
    t = Topic.objects.create(account=account, title="防汛知识", date=date(2026, 11, 3))
    r = Client().get(PLAN)
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    liaison = as_user(people["liaison"])
    assert liaison.get(PLAN).status_code == 403
    before = AuditEvent.objects.count()
    assert liaison.post(ACT, {"action": "drop", "topic": t.pk, "reason": "x"}).status_code == 403
    assert (Topic.objects.get().status, AuditEvent.objects.count()) == ("planned", before)
    # an outsider sees their own account's plan, never this one's topics
    page = as_user(outsider).get(PLAN).content.decode()
    assert "防汛知识" not in page
    as_user(outsider).post(ACT, {"action": "drop", "topic": t.pk, "reason": "x"})
    assert Topic.objects.get().status == "planned"
    # the week: any day of it, or this week for nonsense
    c = as_user(people["operator"])
    assert "2026-11-09 – 11-15" in c.get(PLAN, {"week": "2026-11-15"}).content.decode()
    page = c.get(PLAN, {"week": "nonsense"}).content.decode()
    assert "2026-11-02 – 11-08" in page and "防汛知识" in page
    assert '<span class="tag tag-ok">今天</span>' in page
