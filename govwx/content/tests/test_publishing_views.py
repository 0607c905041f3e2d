"""The publishing pages: an article's publishing state (scheduled, publishing, published
with its WeChat and H5 links, failed with the reason and 重试 for content.publish), and
群发 (compose with the quota shown before sending, preview, the list of sends with their
counts, one send's calls, delete). Each for success, anonymous, a role that may only read,
and an outsider (nothing changed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from govwx.accounts.models import Account, AuditEvent
from govwx.content import mass
from govwx.content.models import Article, MassCall, MassSend

from .test_publishing import approved

pytestmark = pytest.mark.django_db

S = Article.Status
NOW = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def client_of(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def page_of(user: Any, url: str) -> str:
    r = client_of(user).get(url)
    assert r.status_code == 200
    return r.content.decode()


def article_url(a: Article) -> str:
    return reverse("content:article", kwargs={"pk": a.pk})


def in_state(a: Article, **fields: Any) -> Article:
    Article.objects.filter(pk=a.pk).update(**fields)
    return Article.objects.get(pk=a.pk)


# ------------------------------------------------------------------ the article page


def test_the_article_page_shows_where_its_publishing_is(
    account: Account, editor: Any, operator: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        a = approved(account, editor, at=NOW + timedelta(hours=3))
    page = page_of(operator, article_url(a))
    assert 'data-status="scheduled"' in page
    assert '<dd id="publishing-due">2026-11-03 13:00</dd>' in page  # Asia/Shanghai

    a = in_state(a, status=S.PUBLISHING, publish_id="2247483650", wechat_draft_id="D1",
                 publish_started_at=NOW)  # fmt: skip
    page = page_of(operator, article_url(a))
    assert "已提交微信，等待发布结果" in page and "2247483650" in page

    a = in_state(a, status=S.PUBLISHED, published_at=NOW, wechat_article_id="A1",
                 wechat_url="https://mp.weixin.qq.com/s/abc")  # fmt: skip
    page = page_of(operator, article_url(a))
    assert '<dd id="published-at">2026-11-03 10:00</dd>' in page
    assert 'href="https://mp.weixin.qq.com/s/abc"' in page
    assert f'href="/a/{a.token}/"' in page and f"http://testserver/a/{a.token}/" in page
    assert f'href="/content/mass/?article={a.pk}"' in page  # 群发此文章
    assert 'id="mass-this"' not in page_of(editor, article_url(a))  # reads only

    a = in_state(a, status=S.FAILED, publish_error="新建草稿失败：微信返回错误 45003：标题超过限制")
    page = page_of(operator, article_url(a))
    assert (
        '<dd class="error" id="publishing-error">新建草稿失败：微信返回错误 45003：标题超过限制</dd>'
        in page
    )
    assert 'id="publish-retry"' in page
    assert 'id="publish-retry"' not in page_of(editor, article_url(a))

    a = in_state(a, status=S.DRAFT)
    assert 'id="publishing-state"' not in page_of(operator, article_url(a))


def test_retry_schedules_a_failed_article_again(
    account: Account, editor: Any, operator: Any, outsider: Any
) -> None:
    a = in_state(approved(account, editor), status=S.FAILED, publish_error="常规失败")
    url = reverse("content:publish_retry", kwargs={"pk": a.pk})
    r = Client().post(url)
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert client_of(editor).post(url).status_code == 403  # content.view only
    assert client_of(outsider).post(url).status_code == 404  # not theirs to see
    assert Article.objects.get(pk=a.pk).status == S.FAILED
    assert not AuditEvent.objects.filter(name="article.publish_retried").exists()

    r = client_of(operator).post(url, follow=True)
    assert r.redirect_chain == [(article_url(a), 302)]
    assert "已重新安排发布到微信" in r.content.decode()
    a = Article.objects.get(pk=a.pk)
    assert (a.status, a.publish_error) == (S.SCHEDULED, "")
    r = client_of(operator).post(url, follow=True)  # not failed any more
    assert "只有发布失败的文章可以重试 / only a failed publish can be retried" in r.content.decode()


# ------------------------------------------------------------------ 群发


MASS = "/content/mass/"


def test_the_mass_page_shows_the_quota_before_sending(
    account: Account, operator: Any, editor: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        page = page_of(operator, MASS)
        assert '<span class="ms-quota" id="quota">今天还可群发 1 次</span>' in page
        assert 'id="mass-form"' in page and 'id="do-preview"' in page
        assert 'id="mass-form"' not in page_of(editor, MASS)  # content.view: the list only
        MassSend.objects.create(account=account, kind="text", text="今晚停水", to_all=True,
                                due_at=NOW, status=MassSend.Status.SENT)  # fmt: skip
        page = page_of(operator, MASS)
        assert '<span class="ms-quota spent" id="quota">今天还可群发 0 次</span>' in page
    r = Client().get(MASS)
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_the_list_of_sends_shows_the_counts_in_a_fixed_number_of_queries(
    account: Account, operator: Any
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            send = MassSend.objects.create(
                account=account, kind="text", text=f"通知{i}", tag_id=100, tag_name="东湖片区",
                due_at=NOW - timedelta(days=i + 1), status=MassSend.Status.SENT,
            )  # fmt: skip
            MassCall.objects.create(
                mass_send=send, index=0, clientmsgid=f"c-{send.pk}", msg_id=str(1000 + send.pk),
                status=MassCall.Status.FINISHED, total=3, filtered=3, sent=3, errors=0,
            )  # fmt: skip

    c = client_of(operator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as q:
            assert c.get(MASS).status_code == 200
        return len(q)

    add(1)
    one = queries()
    add(5)
    assert queries() == one
    page = c.get(MASS).content.decode()
    assert page.count('<span class="sent-count">3 / 3 人</span>') == 6
    assert "标签：东湖片区" in page


def test_a_send_is_composed_through_the_form(
    account: Account, operator: Any, editor: Any, outsider: Any
) -> None:
    form = {"kind": "text", "text": "明日9时起东湖片区停水", "target": "all", "when": "later",
            "at": "2026-11-04T08:30"}  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        assert client_of(editor).post("/content/mass/send/", form).status_code == 403
        r = Client().post("/content/mass/send/", form)
        assert r.status_code == 302 and r["Location"].startswith("/login/")
        client_of(outsider).post("/content/mass/send/", form)  # their own account's
        assert not MassSend.objects.filter(account=account).exists()

        r = client_of(operator).post("/content/mass/send/", form, follow=True)
        assert r.redirect_chain == [(MASS, 302)]
        assert "已安排群发，定于 2026-11-04 08:30 发送" in r.content.decode()
        send = MassSend.objects.get(account=account)
        assert (send.kind, send.text, send.to_all, send.status) == (
            "text", "明日9时起东湖片区停水", True, MassSend.Status.SCHEDULED
        )  # fmt: skip
        assert send.due_at == datetime(2026, 11, 4, 0, 30, tzinfo=UTC)
        assert "明日9时起东湖片区停水" in r.content.decode()  # in the list


def test_a_refused_send_says_why_and_keeps_what_was_typed(account: Account, operator: Any) -> None:
    cache_tags(account)
    form = {"kind": "text", "text": "", "target": "tag", "tag": "100", "when": "now"}
    r = client_of(operator).post("/content/mass/send/", form, follow=True)
    page = r.content.decode()
    assert "群发文字不能为空 / the text is empty" in page
    assert '<option value="100" selected>东湖片区（3 人）</option>' in page
    assert not MassSend.objects.exists()
    # typed again, to the tag: its name is kept with the send
    form["text"] = "东湖片区明日停水"
    client_of(operator).post("/content/mass/send/", {**form, "when": "later",
                                                     "at": "2099-01-01T08:00"})  # fmt: skip
    assert MassSend.objects.get().tag_name == "东湖片区"


def cache_tags(account: Account) -> None:
    from django.core.cache import cache

    cache.set(
        mass.TAGS_KEY.format(account.pk),
        {"tags": [{"id": 100, "name": "东湖片区", "count": 3}], "read_at": NOW.isoformat(),
         "error": ""},
        None,
    )  # fmt: skip


def test_a_preview_to_a_mistyped_openid_is_refused_with_the_form_kept(
    account: Account, operator: Any, editor: Any
) -> None:
    form = {"kind": "text", "text": "预览一下", "target": "all", "to": "不是openid"}
    assert client_of(editor).post("/content/mass/preview/", form).status_code == 403
    r = client_of(operator).post("/content/mass/preview/", form, follow=True)
    page = r.content.decode()
    assert "请填写接收预览的微信号的 OpenID" in page
    assert ">预览一下</textarea>" in page
    assert not AuditEvent.objects.filter(name="mass.previewed").exists()


def test_reading_the_tags_is_queued(account: Account, operator: Any, editor: Any) -> None:
    assert client_of(editor).post("/content/mass/tags/").status_code == 403
    r = client_of(operator).post("/content/mass/tags/", follow=True)
    assert "正在从微信读取标签，请稍后刷新" in r.content.decode()


def test_a_send_page_shows_its_calls_and_delete_is_refused_in_words(
    account: Account, operator: Any, editor: Any, outsider: Any
) -> None:
    send = MassSend.objects.create(account=account, kind="text", text="今晚停水", to_all=True,
                                   due_at=timezone.now(), status=MassSend.Status.SENT)  # fmt: skip
    MassCall.objects.create(mass_send=send, index=0, clientmsgid=f"govwx-{send.pk}-0",
                            msg_id="3147483649", status=MassCall.Status.FINISHED, total=5,
                            filtered=4, sent=4, errors=0)  # fmt: skip
    url = reverse("content:mass_detail", kwargs={"pk": send.pk})
    page = page_of(editor, url)
    assert f"<code>govwx-{send.pk}-0</code>" in page and "3147483649" in page
    assert "目标 5 人，过滤后 4 人，成功 4 人，失败 0 人" in page
    assert 'id="do-delete"' not in page  # a text cannot be deleted; and editors read only
    assert client_of(outsider).get(url).status_code == 404
    delete = reverse("content:mass_delete", kwargs={"pk": send.pk})
    assert client_of(editor).post(delete).status_code == 403
    r = client_of(operator).post(delete, follow=True)
    assert "微信只能删除图文群发，文字和图片无法撤回" in r.content.decode()
    assert MassSend.objects.get(pk=send.pk).status == MassSend.Status.SENT
