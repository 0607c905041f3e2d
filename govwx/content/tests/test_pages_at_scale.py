"""The publishing pages read what they show, whatever the number of articles, steps and
revisions (bench/content_bench.py measures them at 100,000 articles and 1,000,000
revisions on PostgreSQL): the article list counts once and reads its page newest first
by an index, 待我处理 finds the returned drafts from the returns, the comparison reads
two revisions and offers the newest — each in a number of queries that does not grow."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govwx.accounts.models import Account, Department
from govwx.content import articles, articles_views, workflow, workflow_views
from govwx.content import workflow_queries as queries
from govwx.content.articles import ArticleInput
from govwx.content.models import Article, Step

from .test_workflow import draft

pytestmark = pytest.mark.django_db

S = Article.Status


def client_of(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def get(c: Client, url: str, **params: Any) -> tuple[Any, list[str]]:
    """The page and the SQL it took."""
    with CaptureQueriesContext(connection) as ctx:
        r = c.get(url, params)
    assert r.status_code == 200, r.status_code
    return r, [q["sql"] for q in ctx.captured_queries]


def many(account: Account, n: int, *, start: int = 0, **fields: Any) -> None:
    """n articles of the account in the statuses of the list's tabs, in bulk."""
    statuses = [S.DRAFT, S.PROOFREADING, S.SCHEDULED, S.PUBLISHED, S.PUBLISHED, S.FAILED]
    Article.objects.bulk_create(
        Article(
            account=account, title=f"稿件{start + i}", status=statuses[i % len(statuses)],
            token=f"t{start + i}", **fields,
        )
        for i in range(n)
    )  # fmt: skip


def plan(sql: str, params: Any) -> str:
    """How the database runs a query (PostgreSQL told to avoid scans and sorts when an
    index serves: on a test's few rows it would rather scan)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_sort = off")
            cur.execute("EXPLAIN " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())


# ------------------------------------------------------------------ the article list


def test_the_list_counts_once_and_reads_its_page_in_a_fixed_number_of_queries(
    account: Account, editor: Any
) -> None:
    c = client_of(editor)
    url = reverse("content:articles")
    many(account, 3)
    _, few = get(c, url)
    many(account, 120, start=3)
    r, sql = get(c, url)
    assert len(sql) == len(few)
    # the tabs' counts are one GROUP BY; the pages are counted from them, not again
    counted = [s for s in sql if "COUNT(" in s.upper() and 'FROM "content_article"' in s]
    assert len(counted) == 1 and "GROUP BY" in counted[0].upper()
    counts = {t["key"]: t["count"] for t in r.context["tabs"]}
    assert counts == {
        "all": 123, "draft": 21, "review": 21, "scheduled": 21, "published": 40, "failed": 20,
    }  # fmt: skip
    page = r.context["page"]
    assert (page.paginator.count, page.paginator.num_pages, len(page.object_list)) == (123, 3, 50)
    assert page.object_list[0].title == "稿件122"  # the newest first
    r, _ = get(c, url, tab="all", page=3)
    assert [a.title for a in r.context["page"].object_list][-1] == "稿件0"
    assert len(r.context["page"].object_list) == 23
    # a tab and a search: the pages are those of what is shown
    r, _ = get(c, url, tab="published", q="稿件1")
    page = r.context["page"]
    shown = Article.objects.filter(title__contains="稿件1", status=S.PUBLISHED).count()
    assert page.paginator.count == shown == len(page.object_list) == 12
    r, _ = get(c, url, tab="published", page=2)
    assert (r.context["page"].paginator.num_pages, len(r.context["page"].object_list)) == (1, 40)


def test_a_liaisons_list_is_their_departments_in_a_fixed_number_of_queries(
    account: Account, liaison: Any, department: Department, other_department: Department
) -> None:
    c = client_of(liaison)
    url = reverse("content:articles")
    many(account, 4, source_department=department)
    _, few = get(c, url)
    many(account, 60, start=4, source_department=department)
    many(account, 30, start=64, source_department=other_department)
    r, sql = get(c, url)
    assert len(sql) == len(few)
    page = r.context["page"]
    assert page.paginator.count == 64 and len(page.object_list) == 50
    assert {a.source_department_id for a in page.object_list} == {department.pk}


def test_the_list_reads_the_newest_first_by_an_index(
    account: Account, department: Department
) -> None:
    many(account, 30)
    newest = Article.objects.filter(account=account).order_by("-updated_at", "-id")[:50]
    sql, params = newest.query.sql_with_params()
    assert "article_list_idx" in plan(sql, params)
    mine = Article.objects.filter(account=account, source_department=department)
    sql, params = mine.order_by("-updated_at", "-id")[:50].query.sql_with_params()
    assert "article_department_idx" in plan(sql, params)


# ------------------------------------------------------------------ 待我处理


def returned(account: Account, writer: Any, reviewer: Any, title: str) -> Article:
    """A draft the writer submitted and the proofreader returned with a reason."""
    a = workflow.submit(draft(account, writer, title), revision=1, actor=writer)
    return workflow.return_article(a, f"{title}：请核对日期", revision=1, actor=reviewer)


def test_the_returned_drafts_are_found_from_the_returns_in_a_fixed_number_of_queries(
    account: Account, editor: Any, editor2: Any, reviewer: Any
) -> None:
    c = client_of(editor)
    url = reverse("content:workflow_inbox")
    returned(account, editor, reviewer, "第一稿")
    r, few = get(c, url)
    assert [a.title for a in r.context["returned"]] == ["第一稿"]
    second = returned(account, editor, reviewer, "第二稿")
    returned(account, editor, reviewer, "第三稿")
    returned(account, editor2, reviewer, "别人的稿")
    # returned, then submitted again: waits for the proofreader, not for its writer
    workflow.submit(second, revision=1, actor=editor)
    # written by another editor, submitted by this one
    theirs = draft(account, editor2, "代交的稿")
    workflow.submit(theirs, revision=1, actor=editor)
    workflow.return_article(theirs, "标题不准确", revision=1, actor=reviewer)
    r, sql = get(c, url)
    assert len(sql) == len(few)
    shown = [(a.title, a.returned_kind, a.returned_reason) for a in r.context["returned"]]
    assert shown == [
        ("代交的稿", "proofread", "标题不准确"),
        ("第三稿", "proofread", "第三稿：请核对日期"),
        ("第一稿", "proofread", "第一稿：请核对日期"),
    ]
    assert r.content.decode().count('<tr data-article="') == 3
    assert [a.title for a in queries.returned_to(editor, account, limit=2)] == [
        "代交的稿",
        "第三稿",
    ]
    # the writer sees what another submitted for them
    assert [a.title for a in queries.returned_to(editor2, account)] == ["代交的稿", "别人的稿"]
    assert list(queries.returned_to(reviewer, account)) == []


def test_the_returns_are_read_by_their_index(account: Account, editor: Any) -> None:
    sql, params = queries.returned_to(editor, account).query.sql_with_params()
    found = plan(sql, params)
    # never every step: PostgreSQL reads the returns by their index (SQLite, without
    # statistics, goes through each draft's steps by the article's)
    assert "SCAN" not in found.upper().replace("INDEX ONLY SCAN", "").replace("INDEX SCAN", "")
    if connection.vendor == "postgresql":
        assert "step_returned_idx" in found


def test_the_inbox_lists_the_oldest_waiting_and_says_more_wait(
    account: Account, editor: Any, reviewer: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(workflow_views, "WAITING_SHOWN", 3)
    c = client_of(reviewer)
    url = reverse("content:workflow_inbox")
    for i in range(3):
        workflow.submit(draft(account, editor, f"稿件{i}"), revision=1, actor=editor)
    r, few = get(c, url)
    assert r.context["more"] is False and 'id="waiting-more"' not in r.content.decode()
    for i in range(3, 7):
        workflow.submit(draft(account, editor, f"稿件{i}"), revision=1, actor=editor)
    r, sql = get(c, url)
    assert len(sql) == len(few)
    assert [row["article"].title for row in r.context["rows"]] == ["稿件0", "稿件1", "稿件2"]
    page = r.content.decode()
    assert page.count('data-step="proofread"') == 3
    assert 'id="waiting-more">这里只列出最早的 3 件（权威发布在前）' in page


def test_the_inbox_reads_titles_not_texts(
    account: Account, editor: Any, reviewer: Any, django_assert_num_queries: Any
) -> None:
    a = workflow.submit(draft(account, editor), revision=1, actor=editor)
    with CaptureQueriesContext(connection) as ctx:
        [step] = list(queries.waiting_for(reviewer, account))
    assert '"body"' not in ctx.captured_queries[0]["sql"]
    with django_assert_num_queries(0):
        assert (step.article.pk, step.article.title, step.article.major) == (a.pk, a.title, False)
    assert Step.objects.get(pk=step.pk).kind == step.kind == "proofread"


# ------------------------------------------------------------------ comparing revisions


def saved(account: Account, editor: Any, times: int) -> Article:
    a = draft(account, editor, "停水通知")
    for i in range(times):
        body = [{"type": "text", "html": f"<p>第 {i + 2} 稿：东湖区停水。</p>"}]
        a = articles.save_article(
            a, ArticleInput("停水通知", body), revision=a.revision, actor=editor
        )
    return a


def test_comparing_reads_two_revisions_and_offers_the_newest(
    account: Account, editor: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(articles_views, "COMPARE_CHOICES", 3)
    c = client_of(editor)
    few = saved(account, editor, 1)
    url = reverse("content:article_compare", args=[few.pk])
    r, before = get(c, url)
    assert r.context["numbers"] == [2, 1] and r.context["typed"] is False
    assert 'name="a"' in r.content.decode() and '<select id="a"' in r.content.decode()

    lots = saved(account, editor, 5)
    url = reverse("content:article_compare", args=[lots.pk])
    r, sql = get(c, url)
    assert len(sql) == len(before)
    assert (r.context["a"], r.context["b"]) == (5, 6)
    assert r.context["numbers"] == [6, 5, 4] and r.context["typed"] is True
    page = r.content.decode()
    assert 'type="number" id="a" name="a" value="5" min="1" max="6"' in page
    assert [str(ch["field"]) for ch in r.context["changes"]] == ["正文"]
    # an older one, typed: compared, and offered beside the newest
    r, sql = get(c, url, a=1, b=6)
    assert len(sql) == len(before) and r.context["numbers"] == [6, 5, 4, 1]
    assert "第 6 稿" in page and r.context["error"] == ""
    r = c.get(url, {"a": 9, "b": 6})
    assert r.status_code == 404 and r.context["numbers"] == [6, 5, 4]
