"""What citizens write about: words, topic counts, summaries and surges (舆情异动)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from govwx.accounts.models import Account
from govwx.desk import topics
from govwx.desk.models import Case, CaseMessage, TopicCount
from govwx.team.models import Alert
from govwx.wechat.models import InboundMessage

# Saturday 5 December 2026, 18:35 in Shanghai: the window is 09:40–10:35 UTC
NOW = datetime(2026, 12, 5, 10, 35, tzinfo=UTC)
START = datetime(2026, 12, 5, 9, 40, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_usual_rates() -> Iterator[None]:
    topics.forget()
    yield
    topics.forget()


# ------------------------------------------------------------------ words


def test_it_keeps_the_content_words_in_order() -> None:
    assert topics.words("你好，请问我们小区从早上开始停水了，什么时候能恢复供水？") == [
        "小区",
        "早上",
        "停水",
        "恢复",
        "供水",
    ]
    assert topics.words("我想咨询一下公积金提取需要哪些手续") == ["公积金", "提取", "手续"]


def test_it_drops_stop_words_noise_and_repeats() -> None:
    assert topics.words("你好 谢谢 请问 我们 这个 什么 怎么 一下 可以 已经 现在 没有") == []
    # punctuation, digits, Latin letters, single characters, WeChat's placeholders, links
    assert topics.words("[图片][捂脸] 123456 WiFi abc！！ 水 https://x.example/停电") == []
    assert topics.words("停水停水，又停水了") == ["停水"]
    assert topics.words("[语音]暴雨积水") == ["暴雨", "积水"]


def test_it_keeps_at_most_eight_words() -> None:
    text = "暴雨过后人民路积水严重，车辆通行困难，地下车库漏水，小区停电停水，电梯停运"
    found = topics.words(text)
    assert found == ["暴雨", "人民", "积水", "严重", "车辆通行", "困难", "地下", "车库"]


def test_a_word_longer_than_sixteen_characters_is_left_out(monkeypatch: Any) -> None:
    class Tokenizer:
        def cut(self, text: str, HMM: bool = True) -> Iterator[str]:
            yield from ["一" * 17, "二" * 16, "停水"]

    topics._load()
    monkeypatch.setitem(topics._state, "tokenizer", Tokenizer())
    assert topics.words("whatever") == ["二" * 16, "停水"]


def test_the_stop_words_come_from_the_shipped_file() -> None:
    _, stop = topics._load()
    assert {"你好", "请问", "谢谢", "我们", "这个", "什么", "怎么", "一下", "可以"} <= stop
    assert {"已经", "现在", "没有", "图片"} <= stop
    assert "停水" not in stop and not any(w.startswith("#") for w in stop)


# ------------------------------------------------------------------ counts


def test_two_batches_add_up_in_one_statement_each(
    account: Account, django_assert_num_queries: Any
) -> None:
    at = datetime(2026, 12, 5, 10, 3, tzinfo=UTC)
    first = [
        (account.pk, at, "小区停水了"),
        (account.pk, at + timedelta(minutes=6), "小区又停水了！"),
        (account.pk, at + timedelta(minutes=7), "[图片]"),
    ]
    with django_assert_num_queries(1):
        assert topics.count(first) == 2  # (停水, 10:00), (小区, 10:00)
    second = [
        (account.pk, at + timedelta(minutes=1), "停水"),
        (account.pk, at + timedelta(minutes=7, seconds=59), "停水"),  # 10:10:59: next bucket
    ]
    with django_assert_num_queries(1):
        topics.count(second)
    assert topics.count([]) == 0
    rows = sorted(
        (r.word, r.bucket.astimezone(UTC).strftime("%H:%M"), r.count)
        for r in TopicCount.objects.filter(account=account)
    )
    assert rows == [("停水", "10:00", 3), ("停水", "10:10", 1), ("小区", "10:00", 2)]
    # the ORM finds the rows the raw statement wrote, by their bucket
    assert TopicCount.objects.get(
        account=account, word="停水", bucket=datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    ).count == (3)


def test_buckets_are_ten_minutes_of_utc() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 12, 5, 18, 29, 59, 999, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert topics.bucket_of(local) == datetime(2026, 12, 5, 10, 20, tzinfo=UTC)


# ------------------------------------------------------------------ summary


def test_the_summary_counts_messages_and_picks_short_examples() -> None:
    texts = [
        "幸福小区停水了，停水一天",
        "停水",
        "幸福小区停水，请尽快恢复供水，电话13812345678，我们全家都等着用水做饭洗澡呢，谢谢",
        "停电了",
        "幸福小区停水",
        "幸福小区停水",
    ]
    found = topics.summary(texts, top=3, examples=3)
    # 停水 in five messages (counted once in the first), then 小区 and 幸福 in four: by word
    assert found.words == [("停水", 5), ("小区", 4), ("幸福", 4)]
    assert found.examples == [
        "幸福小区停水",  # the most of the top words, shortest, once though sent twice
        "幸福小区停水了，停水一天",
        "幸福小区停水，请尽快恢复供水，电话138****5678，我们全家都等着用水做…",
    ]
    assert len(found.examples[2]) == topics.EXAMPLE_CHARS
    assert topics.summary(texts, top=3, examples=3) == found  # deterministic
    assert topics.summary([]) == topics.Summary([], [])


# ------------------------------------------------------------------ surges


def _message(account: Account, case: Case, text: str, at: datetime, n: int) -> None:
    msg = InboundMessage.objects.create(
        account=account,
        openid=case.openid,
        dedup_key=f"m:{case.pk}:{n}",
        msg_type="text",
        content=text,
        sent_at=at,
        received_at=at,
        handled_by="desk",
    )
    CaseMessage.objects.create(case=case, direction="in", inbound=msg, text=text, created_at=at)


def arrive(account: Account, per_bucket: list[int], texts: list[str]) -> None:
    """Messages in the buckets of the window (09:40, 09:50, … 10:30 UTC), each its own
    case as the desk takes them in, counted as the batch counts them."""
    rows = []
    n = Case.objects.filter(account=account).count()
    for i, k in enumerate(per_bucket):
        for j in range(k):
            at = START + timedelta(minutes=10 * i, seconds=7 * j)
            text = texts[n % len(texts)]
            case = Case.objects.create(
                account=account,
                openid=f"o-{account.pk}-{n}",
                case_type="complaint",
                subject=text[:40],
                opened_at=at,
                first_response_due=at + timedelta(days=1),
                resolve_due=at + timedelta(days=5),
            )
            _message(account, case, text, at, n)
            rows.append((account.pk, at, text))
            n += 1
    topics.count(rows)


def usual_week(account: Account, word: str, per_hour: int) -> None:
    """A week before the window with `per_hour` mentions of the word in every hour."""
    TopicCount.objects.bulk_create(
        TopicCount(account=account, word=word, bucket=START - timedelta(hours=h), count=per_hour)
        for h in range(1, 169)
    )


WATER = [
    "幸福小区停水了，什么时候来水",
    "停水",
    "幸福小区又停水，家里老人等着做饭，电话13812345678",
    "请问人民路停水要停多久",
]


def test_a_surge_against_a_quiet_week_is_alerted_once_a_day(
    account: Account, django_assert_num_queries: Any
) -> None:
    usual_week(account, "停水", 2)
    arrive(account, [3, 5, 6, 8, 8, 10], WATER)
    with time_machine.travel(NOW, tick=False):
        assert topics.detect_surges() == 1
        alert = Alert.objects.get(account=account, kind=Alert.Kind.SURGE)
        assert alert.subject == "surge:停水:2026-12-05"
        assert alert.text == "舆情异动：“停水” 1 小时内 40 条（常态每小时约 2 条）"
        lines = alert.detail.splitlines()
        assert lines[0] == "10 分钟走势：3 → 5 → 6 → 8 → 8 → 10"
        assert lines[1] == "同时提到：小区（20）、幸福（20）、人民（10）、做饭（10）、家里（10）"
        # the examples mentioning most of the words first, phone numbers masked
        assert lines[2] == (
            "例：“幸福小区又停水，家里老人等着做饭，电话138****5678”；"
            "“幸福小区停水了，什么时候来水”；“请问人民路停水要停多久”"
        )
        assert lines[3] == "话题词：停水"  # 小区 and 幸福 are said without 停水 too
        assert len(lines) == 4
        assert alert.link == "/desk/cases/?topic=%E5%81%9C%E6%B0%B4&since=2026-12-05T09:40Z"
        # more messages the same day: no second alert, and no history read again
        arrive(account, [0, 0, 0, 0, 0, 5], WATER)
        with django_assert_num_queries(3):  # the window's counts, the alerts of today, of the hour
            assert topics.detect_surges() == 0
    assert Alert.objects.filter(account=account, kind=Alert.Kind.SURGE).count() == 1


def test_words_said_together_are_one_topic_and_one_alert(account: Account) -> None:
    arrive(account, [5, 5, 5, 5, 10, 10], ["幸福小区停水，什么时候来水", "幸福小区停水三天"])
    with time_machine.travel(NOW, tick=False):
        assert topics.detect_surges() == 1
        assert topics.detect_surges() == 0  # the topic's other words are spoken for
    alert = Alert.objects.get(account=account, kind=Alert.Kind.SURGE)
    topic = alert.detail.splitlines()[-1]
    assert topic.startswith("话题词：")
    assert set(topic.removeprefix("话题词：").split("、")) >= {"幸福", "小区", "停水"}


def test_words_that_surge_later_with_a_topic_join_its_alert(account: Account) -> None:
    arrive(account, [0, 0, 0, 0, 0, 35], ["停水了"])
    with time_machine.travel(NOW, tick=False):
        assert topics.detect_surges() == 1
        arrive(account, [0, 0, 0, 0, 0, 40], ["幸福小区又停水了", "幸福小区停水"])
        assert topics.detect_surges() == 0
    alert = Alert.objects.get(account=account, kind=Alert.Kind.SURGE)
    assert alert.subject == "surge:停水:2026-12-05"
    topic = alert.detail.splitlines()[-1].removeprefix("话题词：").split("、")
    assert topic[0] == "停水" and {"幸福", "小区"} <= set(topic)


def test_at_most_five_surge_alerts_an_hour_the_strongest_first(account: Account) -> None:
    # seven unrelated new topics at once, on an account with no history
    texts = ["停水", "停电", "燃气", "路灯", "噪音", "供暖", "垃圾"]
    per_word = {w: 31 + 5 * i for i, w in enumerate(texts)}
    for word, k in per_word.items():
        arrive(account, [0, 0, 0, 0, 0, k], [word])
    with time_machine.travel(NOW, tick=False):
        assert topics.detect_surges() == 5
        assert topics.detect_surges() == 0  # the hour's five are spent
    raised = Alert.objects.filter(account=account, kind=Alert.Kind.SURGE)
    assert {a.subject.split(":")[1] for a in raised} == {"垃圾", "供暖", "噪音", "路灯", "燃气"}


def test_no_surge_when_the_week_was_as_busy(
    account: Account, django_assert_num_queries: Any
) -> None:
    usual_week(account, "停水", 9)  # 40 < 5 × 9
    arrive(account, [3, 5, 6, 8, 8, 10], WATER)
    with time_machine.travel(NOW, tick=False):
        # the window's counts, today's alerts, the word's week
        with django_assert_num_queries(4):
            assert topics.detect_surges() == 0
        with django_assert_num_queries(3):  # the week's median is kept for this window
            assert topics.detect_surges() == 0
    assert topics.usual_rate(account.pk, "停水", START) == 9
    assert not Alert.objects.filter(kind=Alert.Kind.SURGE).exists()


def test_no_surge_below_thirty_messages(
    account: Account, other_account: Account, django_assert_num_queries: Any
) -> None:
    arrive(account, [4, 5, 5, 5, 5, 5], WATER)  # 29
    arrive(other_account, [0, 0, 0, 0, 0, 12], WATER)  # another account's do not add up
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(1):
            assert topics.detect_surges() == 0
    assert not Alert.objects.filter(kind=Alert.Kind.SURGE).exists()


def test_an_hour_ago_is_out_of_the_window(account: Account) -> None:
    usual_week(account, "停水", 0)
    arrive(account, [30, 0, 0, 0, 0, 0], WATER)  # all in 09:40–09:50
    with time_machine.travel(NOW, tick=False):
        assert topics.detect_surges() == 1
    topics.forget()
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):  # window from 09:50
        Alert.objects.all().delete()
        assert topics.detect_surges() == 0


def test_the_usual_rate_is_the_median_hour_of_the_week(account: Account) -> None:
    # 100 hours with 1 mention, 68 hours with none: the median hour has 1
    TopicCount.objects.bulk_create(
        TopicCount(account=account, word="停水", bucket=START - timedelta(hours=h), count=1)
        for h in range(1, 101)
    )
    # six buckets of one hour add up to that hour's count, the window itself is not history
    TopicCount.objects.bulk_create(
        TopicCount(account=account, word="供水", bucket=START - timedelta(minutes=m), count=3)
        for m in range(10, 61, 10)
    )
    TopicCount.objects.create(account=account, word="供水", bucket=START, count=500)
    assert topics.usual_rate(account.pk, "停水", START) == 1
    assert topics.usual_rate(account.pk, "供水", START) == 0  # 1 busy hour of 168


def test_the_next_day_may_alert_again(account: Account) -> None:
    arrive(account, [0, 0, 0, 0, 10, 30], WATER)
    with time_machine.travel(NOW, tick=False):
        assert topics.detect_surges() == 1
    # 18:35 the next day in Shanghai (a new local day), the same word surges again
    later = NOW + timedelta(days=1)
    rows = [(account.pk, later - timedelta(minutes=1), "停水") for _ in range(35)]
    topics.count(rows)
    with time_machine.travel(later, tick=False):
        assert topics.detect_surges() == 1
    assert sorted(
        Alert.objects.filter(kind=Alert.Kind.SURGE).values_list("subject", flat=True)
    ) == ["surge:停水:2026-12-05", "surge:停水:2026-12-06"]


def test_prune_keeps_eight_days(account: Account) -> None:
    TopicCount.objects.bulk_create(
        [
            TopicCount(account=account, word="旧", bucket=NOW - timedelta(days=8, minutes=40)),
            TopicCount(account=account, word="新", bucket=NOW - timedelta(days=7, hours=23)),
        ]
    )
    assert topics.prune(NOW) == 1
    assert list(TopicCount.objects.values_list("word", flat=True)) == ["新"]


def test_the_window_query_uses_the_account_index(account: Account) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the plan is checked on SQLite")
    sql, params = (
        TopicCount.objects.filter(
            account_id__in=Account.objects.values("pk"), bucket__gte=START, bucket__lte=NOW
        )
        .values("account_id", "word")
        .query.sql_with_params()
    )
    with connection.cursor() as cur:
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cur.fetchall())
    assert "topic_count_bucket" in plan, plan
