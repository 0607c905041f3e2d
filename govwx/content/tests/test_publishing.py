"""Publishing an approved article to WeChat (the sandbox, over HTTP, its events pushed to
govwx's real callback URL): pictures pushed, draft added, job submitted, finished by
PUBLISHJOBFINISH or by polling; once, whatever the number of workers; WeChat's refusal
at each step in words with nothing marked published, and a retry that updates the draft;
a worker killed between the submit and storing its publish_id found and recorded,
never submitted twice."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from govwx.accounts.models import Account, AuditEvent
from govwx.content import articles, materials, publishing
from govwx.content.models import Article, Material, Step
from govwx.wechat.client import (
    WeChatClient,
    clear_local_tokens,
    urllib_raw_transport,
    urllib_transport,
)
from govwx.wechat.models import InboundMessage
from govwx.wechat.tests.test_client import Sandbox

from .test_materials import still

pytestmark = pytest.mark.django_db(transaction=True)

S = Article.Status
NOW = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CALLBACK_DEADLINE = 30.0  # seconds the platform waits for govwx's callback (WeChat: 5)


# ------------------------------------------------------------------ the platform


def register(box: Sandbox, account: Account, *, callback: str, kind: str = "subscription") -> None:
    """The account on the platform, its server configured (服务器配置) at `callback`."""
    box.call(
        "POST",
        "/api/accounts",
        {
            "name": account.name, "appid": account.appid, "secret": account.app_secret,
            "token": account.token, "aes_key": account.aes_key, "mode": account.mode,
            "callback_url": callback, "original_id": account.original_id, "type": kind,
            "verified": True,
        },
    )  # fmt: skip


@pytest.fixture
def wx(live_server: Any, settings: Any, cache_table: None, account: Account) -> Iterator[Sandbox]:
    """The sandbox, with the account registered and its events sent to govwx's callback
    on the live server. The platform waits for govwx's answer longer than govwx can take
    (SQLite's busy timeout is 20 s), so that when jobs/run returns, govwx has recorded
    the job's event: under WeChat's 5 s a slow first delivery is retried, the retry is
    answered at once as a duplicate, and jobs/run returned while the first was still
    recording it."""
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    settings.GOVWX_SANDBOX_CALLBACK_TIMEOUT = CALLBACK_DEADLINE
    cache.clear()
    clear_local_tokens()
    box = Sandbox(live_server.url + "/sandbox", timeout=CALLBACK_DEADLINE * 2)
    box.callback = live_server.url + f"/wx/{account.appid}/callback"  # type: ignore[attr-defined]
    register(box, account, callback=box.callback)  # type: ignore[attr-defined]
    yield box
    cache.clear()
    clear_local_tokens()


def run_jobs(box: Sandbox, account: Account) -> list[dict[str, Any]]:
    """The platform ends every pending publish job and mass send now (and pushes their
    events to govwx)."""
    return list(
        box.call("POST", f"/api/accounts/{account.appid}/jobs/run", {"all": True})["finished"]
    )


def history(box: Sandbox, account: Account) -> list[dict[str, Any]]:
    """What the phone shows in the account's history (published and mass-sent)."""
    return list(box.call("GET", f"/api/accounts/{account.appid}/articles")["articles"])


def drafts(account: Account) -> int:
    return int(WeChatClient(account).get("/cgi-bin/draft/count")["total_count"])


def published(account: Account) -> list[dict[str, Any]]:
    return WeChatClient(account).published_articles(no_content=True)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read()).decode()


class Counting:
    """The real transports, with the API paths they were asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def _path(self, url: str) -> str:
        return url.split("/cgi-bin/", 1)[-1].split("?", 1)[0]

    def json(self, method: str, url: str, body: bytes | None, timeout: float) -> bytes:
        self.paths.append(self._path(url))
        return urllib_transport(method, url, body, timeout)

    def raw(self, method: str, url: str, *args: Any) -> Any:
        self.paths.append(self._path(url))
        return urllib_raw_transport(method, url, *args)

    def client(self, account: Account) -> WeChatClient:
        return WeChatClient(account, transport=self.json, raw_transport=self.raw)

    def wechat_calls(self) -> list[str]:
        return [p for p in self.paths if p != "stable_token"]


# ------------------------------------------------------------------ an approved article


def picture(account: Account, actor: Any, name: str, color_size: tuple[int, int]) -> Material:
    data = still("PNG", color_size)
    upload = SimpleUploadedFile(name, data)
    return materials.upload(account, upload, title=name.split(".")[0], actor=actor).material


def approved(
    account: Account,
    editor: Any,
    *,
    title: str = "东湖水厂12月6日停水检修",
    cover: bool = True,
    at: datetime | None = None,
) -> Article:
    """An article with a cover and a picture in its body, approved for `at` (now): what
    the workflow's 签发 leaves (SCHEDULED with its time)."""
    cover_pic = picture(account, editor, "封面.png", (360, 200)) if cover else None
    body_pic = picture(account, editor, "水厂.png", (300, 220))
    body = [
        {"type": "text", "html": "<p>12月6日9时至17时，东湖水厂检修，东湖片区停水。</p>"},
        {"type": "image", "material": body_pic.pk, "caption": "东湖水厂"},
        {"type": "text", "html": "<p>请居民提前储水。</p>"},
    ]
    values = articles.ArticleInput(
        title, body, author="市水务局", digest="东湖片区停水8小时", cover=cover_pic
    )
    a = articles.create_article(account, values, actor=editor)
    Article.objects.filter(pk=a.pk).update(
        status=S.SCHEDULED, scheduled_for=at or timezone.now(), locked_by=None, locked_at=None
    )
    a.refresh_from_db()
    return a


def fresh(a: Article) -> Article:
    return Article.objects.get(pk=a.pk)


def schedule(a: Article) -> None:
    """What the approval does: schedule inside its transaction (the tests' task backend
    runs a due publish when it commits)."""
    with transaction.atomic():
        publishing.schedule(a)


# ------------------------------------------------------------------ published, once


def test_it_publishes_an_approved_article_once_through_the_real_callback(
    wx: Sandbox, account: Account, editor: Any
) -> None:
    a = approved(account, editor)
    schedule(a)
    a = fresh(a)
    assert a.status == S.PUBLISHING and a.publish_id and a.wechat_draft_id
    assert drafts(account) == 1
    body_pic = Material.objects.get(title="水厂")
    cover = Material.objects.get(title="封面")
    assert body_pic.article_url and cover.wechat_media_id  # pushed on the way
    assert body_pic.article_url in a.html  # the body points at WeChat's copy

    finished = run_jobs(wx, account)
    assert [(j["kind"], j["publish_status"], j["delivery"]["status"]) for j in finished] == [
        ("publish", 0, 200)
    ]
    a = fresh(a)
    assert a.status == S.PUBLISHED and a.publish_error == ""
    assert a.wechat_article_id == finished[0]["article_id"]
    assert a.wechat_url.startswith(wx.base + "/s/") and a.published_at is not None
    event = InboundMessage.objects.get(event="PUBLISHJOBFINISH")
    assert event.handled_by == "content"

    shown = history(wx, account)
    assert [(h["article_id"], h["origin"]) for h in shown] == [(a.wechat_article_id, "publish")]
    assert [(i["title"], i["url"]) for i in shown[0]["items"]] == [(a.title, a.wechat_url)]
    page = fetch(a.wechat_url + "/content")
    assert "东湖水厂检修" in page and body_pic.article_url.split(wx.base, 1)[1] in page
    assert drafts(account) == 0  # WeChat takes the draft out of the box once published

    step = Step.objects.get(article=a, kind=Step.Kind.PUBLISH)
    assert (step.outcome, step.comment, step.revision) == ("done", a.wechat_url, a.revision)
    names = list(
        AuditEvent.objects.filter(name__startswith="article.")
        .order_by("id")
        .values_list("name", flat=True)
    )
    assert names == ["article.created", "article.submitted_to_wechat", "article.published"]

    # the event again (WeChat retries), the task again, a check: nothing changes
    assert publishing.publish_due.call() == 0
    assert publishing.check_publishing.call(a.pk) == "settled"
    assert (
        publishing.on_publish_event(
            account.pk, {"publish_id": a.publish_id, "publish_status": "0", "article_id": "x"}
        )
        is False
    )
    assert fresh(a).wechat_article_id == a.wechat_article_id
    assert len(published(account)) == 1 and run_jobs(wx, account) == []


def test_an_article_scheduled_for_later_is_published_at_its_time(
    wx: Sandbox, account: Account, editor: Any
) -> None:
    with time_machine.travel(NOW, tick=True):
        a = approved(account, editor, at=NOW + timedelta(hours=2))
        schedule(a)  # the worker would hold it until then; nothing happens now
        assert publishing.publish_due.call() == 0
        assert fresh(a).status == S.SCHEDULED and drafts(account) == 0
    with time_machine.travel(NOW + timedelta(hours=1, minutes=59), tick=True):
        assert publishing.publish_due.call() == 0
        assert fresh(a).status == S.SCHEDULED
    with time_machine.travel(NOW + timedelta(hours=2, seconds=1), tick=True):
        assert publishing.publish_due.call() == 1
        run_jobs(wx, account)
        a = fresh(a)
        assert a.status == S.PUBLISHED
        assert a.published_at is not None and a.published_at >= NOW + timedelta(hours=2)
        assert a.scheduled_for is None


def test_two_workers_at_once_publish_it_once(wx: Sandbox, account: Account, editor: Any) -> None:
    a = approved(account, editor)
    start = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            results.append(publishing.publish_due.call())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert drafts(account) == 1
    finished = run_jobs(wx, account)
    assert [j["kind"] for j in finished] == ["publish"]  # one job submitted
    assert fresh(a).status == S.PUBLISHED and len(published(account)) == 1
    assert publishing.publish(a.pk) is False  # nothing left to claim


# ------------------------------------------------------------------ WeChat refusing


def test_an_article_without_a_cover_fails_before_any_call(
    wx: Sandbox, account: Account, editor: Any, operator: Any
) -> None:
    a = approved(account, editor, cover=False)
    counting = Counting()
    assert publishing.publish(a.pk, client=counting.client(account)) is True
    a = fresh(a)
    assert a.status == S.FAILED
    assert a.publish_error == (
        "发布到微信需要封面图片：请在文章中选择封面后重试 / WeChat needs a cover picture"
    )
    assert counting.paths == []
    assert (a.wechat_draft_id, a.publish_id, a.wechat_article_id, a.published_at) == (
        "",
        "",
        "",
        None,
    )
    failed = AuditEvent.objects.get(name="article.publish_failed")
    assert failed.data["error"] == a.publish_error

    # the editor picks a cover; the retry publishes it
    cover = picture(account, editor, "封面.png", (360, 200))
    Article.objects.filter(pk=a.pk).update(cover=cover)
    publishing.retry(a, actor=operator)
    run_jobs(wx, account)
    assert fresh(a).status == S.PUBLISHED


def test_a_draft_wechat_refuses_fails_in_words_and_the_retry_adds_it(
    wx: Sandbox, account: Account, editor: Any, operator: Any
) -> None:
    a = approved(account, editor)
    long_title = "关于东湖水厂十二月六日九时至十七时停水检修期间东湖片区居民用水安排的通知"
    assert len(long_title) > 32
    Article.objects.filter(pk=a.pk).update(title=long_title)  # past WeChat's 32
    counting = Counting()
    publishing.publish(a.pk, client=counting.client(account))
    a = fresh(a)
    assert a.status == S.FAILED
    assert a.publish_error.startswith(
        "新建草稿失败：微信返回错误 45003：标题超过限制（图文标题最多 32 个字） / "
        "WeChat errcode 45003"
    )
    assert counting.wechat_calls()[-1] == "draft/add"
    assert "freepublish/submit" not in counting.paths
    assert (a.wechat_draft_id, a.publish_id, a.published_at) == ("", "", None)
    assert drafts(account) == 0 and published(account) == []
    assert AuditEvent.objects.get(name="article.publish_failed").data["errcode"] == 45003

    Article.objects.filter(pk=a.pk).update(title="东湖水厂12月6日停水检修")
    publishing.retry(a, actor=operator)
    a = fresh(a)
    assert a.status == S.PUBLISHING and a.wechat_draft_id and drafts(account) == 1
    run_jobs(wx, account)
    assert fresh(a).status == S.PUBLISHED and len(published(account)) == 1


def test_a_failed_publish_job_is_shown_and_the_retry_updates_the_same_draft(
    wx: Sandbox, account: Account, editor: Any, operator: Any
) -> None:
    wx.call("POST", f"/api/accounts/{account.appid}/publish-failures", {"status": 3, "count": 1})
    a = approved(account, editor)
    schedule(a)
    draft = fresh(a).wechat_draft_id
    finished = run_jobs(wx, account)
    assert [(j["publish_status"], j["article_id"]) for j in finished] == [(3, None)]
    a = fresh(a)
    assert a.status == S.FAILED
    assert a.publish_error == "微信发布失败：常规失败（状态 3）/ publishing failed"
    assert (a.wechat_article_id, a.wechat_url, a.published_at) == ("", "", None)
    assert published(account) == [] and history(wx, account) == []
    assert drafts(account) == 1  # WeChat keeps the draft of a failed job

    publishing.retry(a, actor=operator)  # scheduled now; the task backend runs it
    a = fresh(a)
    assert a.status == S.PUBLISHING and a.wechat_draft_id == draft  # updated, not added
    assert drafts(account) == 1
    run_jobs(wx, account)
    a = fresh(a)
    assert a.status == S.PUBLISHED and len(published(account)) == 1
    assert [e.data.get("publish_status") for e in AuditEvent.objects.filter(
        name="article.publish_failed")] == [3]  # fmt: skip
    assert AuditEvent.objects.filter(name="article.publish_retried").count() == 1


def test_the_retry_is_refused_unless_it_may_be(
    wx: Sandbox, account: Account, editor: Any, operator: Any, account_admin: Any
) -> None:
    a = approved(account, editor, cover=False)
    with pytest.raises(ValidationError, match="只有发布失败的文章可以重试"):
        publishing.retry(a, actor=operator)
    publishing.publish(a.pk)
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        publishing.retry(fresh(a), actor=editor)  # content.publish: admin and operator
    # changed after its approval: the approval is for another text
    Step.objects.create(
        article=a, kind=Step.Kind.APPROVE, outcome=Step.Outcome.DONE, actor=account_admin,
        revision=1, started_at=timezone.now(), finished_at=timezone.now(),
    )  # fmt: skip
    Article.objects.filter(pk=a.pk).update(revision=2)
    with pytest.raises(ValidationError, match="签发的是第 1 版，文章之后又修改过（第 2 版）"):
        publishing.retry(fresh(a), actor=operator)
    assert fresh(a).status == S.FAILED and AuditEvent.objects.count() == before


# ------------------------------------------------------------------ a worker killed


class Killed(BaseException):
    """The worker process dies (kill -9): nothing after it runs."""


class DiesAfterSubmit(WeChatClient):
    """WeChat takes the submit; the worker dies before it stores the publish_id."""

    def submit_publish(self, media_id: str) -> tuple[str, str]:
        super().submit_publish(media_id)
        raise Killed


def test_a_worker_killed_after_the_submit_is_found_and_never_submitted_again(
    wx: Sandbox, account: Account, editor: Any
) -> None:
    a = approved(account, editor)
    with pytest.raises(Killed):
        publishing.publish(a.pk, client=DiesAfterSubmit(account))
    a = fresh(a)
    assert (a.status, a.publish_id) == (S.PUBLISHING, "") and a.wechat_draft_id

    # the job has not ended yet: the check waits
    assert publishing.check_publishing.call(a.pk) == "waiting"
    # it ends; its event names a publish_id govwx never stored: kept, not applied
    finished = run_jobs(wx, account)
    assert [j["kind"] for j in finished] == ["publish"]
    assert InboundMessage.objects.filter(event="PUBLISHJOBFINISH").count() == 1
    assert fresh(a).status == S.PUBLISHING
    # the check finds the article among the published ones and records it
    assert publishing.check_publishing.call(a.pk) == "recovered"
    a = fresh(a)
    assert a.status == S.PUBLISHED and a.wechat_article_id == finished[0]["article_id"]
    assert a.wechat_url.startswith(wx.base + "/s/")
    # never submitted again: one job, one publication, nothing pending
    assert publishing.publish_due.call() == 0
    assert publishing.check_publishing.call(a.pk) == "settled"
    assert run_jobs(wx, account) == [] and len(published(account)) == 1
    assert len(history(wx, account)) == 1


def test_an_article_already_recorded_is_not_taken_for_another(
    wx: Sandbox, account: Account, editor: Any
) -> None:
    """Two articles of the same title: the one cut off is not matched with the other's
    publication."""
    first = approved(account, editor, title="停水通知")
    schedule(first)
    run_jobs(wx, account)
    assert fresh(first).status == S.PUBLISHED
    second = approved(account, editor, title="停水通知")
    with pytest.raises(Killed):
        publishing.publish(second.pk, client=DiesAfterSubmit(account))
    assert publishing.check_publishing.call(second.pk) == "waiting"  # not the first's
    run_jobs(wx, account)
    assert publishing.check_publishing.call(second.pk) == "recovered"
    assert fresh(second).wechat_article_id != fresh(first).wechat_article_id


class DiesBeforeSubmit(WeChatClient):
    def submit_publish(self, media_id: str) -> tuple[str, str]:
        raise Killed


def test_an_unknown_outcome_fails_after_a_while_and_the_retry_publishes(
    wx: Sandbox, account: Account, editor: Any, operator: Any
) -> None:
    with time_machine.travel(NOW, tick=True):
        a = approved(account, editor)
        with pytest.raises(Killed):
            publishing.publish(a.pk, client=DiesBeforeSubmit(account))
        assert publishing.check_publishing.call(a.pk) == "waiting"
    with time_machine.travel(NOW + publishing.RECOVER_AFTER + timedelta(minutes=1), tick=True):
        assert publishing.publish_due.call() == 0  # its sweep checks the stuck article
        a = fresh(a)
        assert a.status == S.FAILED
        assert a.publish_error.startswith("发布状态不明：微信没有返回发布任务")
        publishing.retry(a, actor=operator)
        run_jobs(wx, account)
        assert fresh(a).status == S.PUBLISHED and len(published(account)) == 1


def test_without_an_event_polling_finishes_it(wx: Sandbox, account: Account, editor: Any) -> None:
    register(wx, account, callback="")  # the server URL not configured: no events
    a = approved(account, editor)
    schedule(a)
    assert publishing.check_publishing.call(a.pk) == "waiting"  # still publishing
    finished = run_jobs(wx, account)
    assert finished[0]["delivery"]["error"] == "no callback URL configured"
    assert fresh(a).status == S.PUBLISHING
    assert publishing.check_publishing.call(a.pk) == "finished"
    a = fresh(a)
    assert a.status == S.PUBLISHED and a.wechat_article_id == finished[0]["article_id"]
    assert a.wechat_url.startswith(wx.base + "/s/")


def test_a_failure_found_by_polling_is_recorded(wx: Sandbox, account: Account, editor: Any) -> None:
    register(wx, account, callback="")
    wx.call("POST", f"/api/accounts/{account.appid}/publish-failures", {"status": 4, "count": 1})
    a = approved(account, editor)
    schedule(a)
    run_jobs(wx, account)
    assert publishing.check_publishing.call(a.pk) == "finished"
    a = fresh(a)
    assert a.status == S.FAILED
    assert (
        a.publish_error
        == "微信发布失败：平台审核不通过（状态 4）/ refused by the platform's review"
    )


def test_an_event_that_came_before_the_publish_id_was_stored_is_applied(
    wx: Sandbox, account: Account, editor: Any
) -> None:
    """A slow worker: WeChat's event arrives between the submit's answer and the write
    of its publish_id. The stored event is applied when the publish_id is."""

    class Slow(WeChatClient):
        def submit_publish(self, media_id: str) -> tuple[str, str]:
            answer = super().submit_publish(media_id)
            run_jobs(wx, account)  # the job ends and its event comes meanwhile
            return answer

    a = approved(account, editor)
    publishing.publish(a.pk, client=Slow(account))
    a = fresh(a)
    assert a.status == S.PUBLISHED and a.wechat_url and a.publish_id


def test_events_of_unknown_jobs_and_malformed_ones_change_nothing(
    account: Account, editor: Any
) -> None:
    a = approved(account, editor)
    Article.objects.filter(pk=a.pk).update(status=S.PUBLISHING, publish_id="2247483650")
    for info in (
        {"publish_id": "999", "publish_status": "0"},
        {"publish_id": "2247483650"},
        {"publish_id": "", "publish_status": "0"},
        {"publish_id": "2247483650", "publish_status": "x"},
    ):
        assert publishing.on_publish_event(account.pk, info) is False
    assert fresh(a).status == S.PUBLISHING
