"""What citizens are writing about: the content words of their messages, counted per
account and 10-minute bucket (`TopicCount`), summed up for a burst of new cases, and
watched for a surge of concern (舆情异动) against each word's usual rate.

`words` runs for every message the desk takes in: jieba's precise mode, stopped after
the first few content words. `count` adds a batch's words in one upsert inside the
batch's transaction. `detect_surges` runs in the desk's loop every few seconds: one
grouped query over the last hour's counts; a word's history is read only when it has
enough messages to be a surge, and its usual rate is kept per process until the window
moves on."""

from __future__ import annotations

import functools
import logging
import re
import statistics
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jieba
from django.db import connections
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.lib.privacy import mask
from govwx.team.models import Alert
from govwx.team.services import raise_alert

from .models import CaseMessage, TopicCount

BUCKET = timedelta(minutes=10)
WINDOW_BUCKETS = 6  # the last hour: the current, partial bucket and the five before it
HISTORY = timedelta(days=7)  # the usual rate: the median hour of the week before
KEEP = HISTORY + timedelta(days=1)
MIN_SURGE = 30  # messages in the last hour, at least
FACTOR = 5  # times the usual hourly count, at least
# Surge alerts one account may raise in an hour: the strongest topics first. On the day
# something happens, or on an account with no history yet, many words jump at once; the
# duty team needs the few that matter, not one alert per word (the inbox's topic filter
# shows the rest).
MAX_SURGES_PER_HOUR = 5
MAX_WORDS = 8  # per message
MAX_LEN = 16  # TopicCount.word
EXAMPLE_CHARS = 40

# WeChat's placeholders ([图片], [语音], emoji names like [捂脸]) and links: not the
# citizen's words.
_NOISE = re.compile(r"\[[^\[\]\s]{1,6}\]|https?://\S+|www\.\S+")
# A content word is Chinese characters only: punctuation, digits, Latin letters and
# single characters are left out.
_WORD = re.compile(rf"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{{2,{MAX_LEN}}}")
STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")

_ready = threading.Lock()
_state: dict[str, Any] = {}


def _load() -> tuple[Any, frozenset[str]]:
    """jieba's dictionary (about half a second, once per process, without its chatter on
    stderr) and the stop words."""
    found = _state.get("tokenizer")
    if found is not None:
        return found, _state["stop"]
    with _ready:
        if "tokenizer" not in _state:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            stop = frozenset(
                w
                for line in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
                if not line.startswith("#")
                for w in line.split()
            )
            _state["stop"] = stop
            _state["tokenizer"] = jieba.dt
    return _state["tokenizer"], _state["stop"]


def warm_up() -> None:
    """Load jieba's dictionary now (about half a second), not on the first message."""
    _load()


def words(text: str) -> list[str]:
    """The distinct content words of one message, in order of appearance, at most
    MAX_WORDS: jieba's precise mode (with its HMM for words not in the dictionary, such
    as the names of places), less stop words, punctuation, digits, Latin letters, single
    characters and WeChat's placeholders. A burst repeats itself: the words of recent
    texts are kept (a copy is returned)."""
    return list(_words(text))


@functools.lru_cache(maxsize=50_000)
def _words(text: str) -> tuple[str, ...]:
    tokenizer, stop = _load()
    found: list[str] = []
    seen: set[str] = set()
    # jieba.cut is lazy, block by block: a long message costs no more than its start
    for token in tokenizer.cut(_NOISE.sub(" ", text), HMM=True):
        if token in seen or token in stop or not _WORD.fullmatch(token):
            continue
        seen.add(token)
        found.append(token)
        if len(found) == MAX_WORDS:
            break
    return tuple(found)


def bucket_of(when: datetime) -> datetime:
    """The start of the 10-minute bucket of a moment, in UTC."""
    when = when.astimezone(UTC)
    return when.replace(minute=when.minute - when.minute % 10, second=0, microsecond=0)


def count(rows: Iterable[tuple[int, datetime, str]], conn_alias: str = "default") -> int:
    """Add one batch of messages (account id, received at, text) to the topic counts, in
    one statement: INSERT … ON CONFLICT DO UPDATE adding to the stored count (SQLite and
    PostgreSQL alike). Called inside the batch's transaction. Returns the rows written."""
    found = ((a, at, words(text or "")) for a, at, text in rows)
    return write(tally(found, conn_alias), conn_alias)


Tally = list[tuple[int, str, Any, int]]  # (account, word, bucket as stored, count), sorted


def tally(
    rows: Iterable[tuple[int, datetime, Sequence[str]]], conn_alias: str = "default"
) -> Tally:
    """The counts to add for messages (account, received at, words), ready to write: the
    desk makes them before it takes the database's write lock."""
    counts: Counter[tuple[int, str, datetime]] = Counter()
    for account_id, received_at, found in rows:
        bucket = bucket_of(received_at)
        for word in found:
            counts[(account_id, word, bucket)] += 1
    adapt = connections[conn_alias].ops.adapt_datetimefield_value
    # sorted: two batches at once on PostgreSQL take their row locks in the same order;
    # stored as the ORM stores it, so that the unique index sees one bucket
    return [(a, w, adapt(b), counts[(a, w, b)]) for a, w, b in sorted(counts)]


def write(rows: Tally, conn_alias: str = "default") -> int:
    """Add a tally to the stored counts: INSERT … ON CONFLICT DO UPDATE adding to the
    count (SQLite and PostgreSQL alike), one statement for any batch the desk takes in.
    Returns the rows written."""
    if not rows:
        return 0
    connection = connections[conn_alias]
    q = connection.ops.quote_name
    table = q(TopicCount._meta.db_table)
    # a statement's parameters are limited (SQLite: 32766): more statements only past that
    per_statement = (connection.features.max_query_params or 65535) // 4
    with connection.cursor() as cur:
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cur.execute(
                f"INSERT INTO {table} ({q('account_id')}, {q('word')}, {q('bucket')}, "
                f"{q('count')}) VALUES {values} "
                f"ON CONFLICT ({q('account_id')}, {q('word')}, {q('bucket')}) "
                f"DO UPDATE SET {q('count')} = {table}.{q('count')} + excluded.{q('count')}",
                [value for row in chunk for value in row],
            )
    return len(rows)


@dataclass(frozen=True)
class Summary:
    words: list[tuple[str, int]] = field(default_factory=list)  # (word, messages), top first
    examples: list[str] = field(default_factory=list)  # masked, cut to EXAMPLE_CHARS


def _example(text: str) -> str:
    one_line = mask(" ".join(text.split()))
    return one_line if len(one_line) <= EXAMPLE_CHARS else one_line[: EXAMPLE_CHARS - 1] + "…"


def summary(texts: Sequence[str], top: int = 5, examples: int = 3) -> Summary:
    """What a set of messages is about: the `top` words by the number of messages that
    mention them (ties by the word), and `examples` short, distinct messages that
    mention the most frequent word, those mentioning more of the top words first
    (phone and ID numbers masked)."""
    per_text = [words(t) for t in texts]
    tally: Counter[str] = Counter(w for found in per_text for w in found)
    ranked = sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:top]
    leaders = {w for w, _ in ranked}
    candidates = []
    for i, (text, found) in enumerate(zip(texts, per_text, strict=True)):
        if ranked and ranked[0][0] not in found:
            continue
        candidates.append((-len(leaders.intersection(found)), len(text), i, text))
    chosen: list[str] = []
    said: set[frozenset[str]] = set()  # one example of each way of saying it
    for *_, i, text in sorted(candidates):
        example = _example(text)
        if example and example not in chosen and frozenset(per_text[i]) not in said:
            chosen.append(example)
            said.add(frozenset(per_text[i]))
        if len(chosen) == examples:
            break
    return Summary(words=ranked, examples=chosen)


# ------------------------------------------------------------------ surges

# The usual hourly count of (account, word) for the window that starts at a bucket: it
# does not change until the window moves on, so a word that stays busy costs no query.
_usual: dict[tuple[int, str], float] = {}
_usual_for: list[datetime] = []


def forget() -> None:
    """Drop this process's usual rates (tests)."""
    _usual.clear()
    _usual_for.clear()


def _history(account_id: int, word: str, start: datetime, end: datetime) -> dict[datetime, int]:
    rows = TopicCount.objects.filter(
        account_id=account_id, word=word, bucket__gte=start, bucket__lt=end
    ).values_list("bucket", "count")
    return {bucket.astimezone(UTC): n for bucket, n in rows}


def usual_rate(account_id: int, word: str, window_start: datetime) -> float:
    """The median of the word's hourly counts over the 7 days before the window (168
    hours on the window's 10-minute grid; an hour without a row counts as 0)."""
    if _usual_for != [window_start]:
        forget()
        _usual_for.append(window_start)
    key = (account_id, word)
    if key not in _usual:
        first = window_start - HISTORY
        hours = [0] * int(HISTORY / timedelta(hours=1))
        for bucket, n in _history(account_id, word, first, window_start).items():
            hours[int((bucket - first) / timedelta(hours=1))] += n
        _usual[key] = float(statistics.median(hours))
    return _usual[key]


def _subject(word: str, day: Any) -> str:
    return f"surge:{word}:{day.isoformat()}"


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


# A word said mostly together with a surging word (in at least this share of its own
# messages) is the same topic: it joins that word's alert instead of raising its own.
SAME_TOPIC = 0.6
TOPIC_LINE = "话题词："


def _today(account_id: int, day: Any) -> dict[str, tuple[int, list[str]]]:
    """Today's surge alerts of the account: their word → (alert, the topic's words)."""
    found: dict[str, tuple[int, list[str]]] = {}
    for pk, subject, detail in Alert.objects.filter(
        account_id=account_id, kind=Alert.Kind.SURGE, subject__endswith=f":{day.isoformat()}"
    ).values_list("pk", "subject", "detail"):
        word = subject.split(":")[1]
        topic = [word]
        for line in detail.splitlines():
            if line.startswith(TOPIC_LINE):
                topic = line.removeprefix(TOPIC_LINE).split("、")
        found[word] = (pk, topic)
    return found


def detect_surges(now: datetime | None = None) -> int:
    """Raise a surge alert (舆情异动) for each account and topic with at least MIN_SURGE
    messages in the last hour and at least FACTOR times its usual hourly count: once per
    account, word and local day. The words said mostly together with a surging word join
    its alert (「话题词」) instead of raising their own, also when they surge later.
    Returns the alerts raised."""
    now = now or timezone.now()
    current = bucket_of(now)
    start = current - (WINDOW_BUCKETS - 1) * BUCKET
    # the (account, bucket) index, account by account
    candidates = list(
        TopicCount.objects.filter(
            account_id__in=Account.objects.values("pk"), bucket__gte=start, bucket__lte=current
        )
        .values("account_id", "word")
        .annotate(n=Sum("count"))
        .filter(n__gte=MIN_SURGE)
        .order_by("account_id", "-n", "word")
        .values_list("account_id", "word", "n")
    )
    if not candidates:
        return 0
    day = timezone.localdate(now)
    raised = 0
    for account_id in dict.fromkeys(a for a, _, _ in candidates):
        counts = {w: n for a, w, n in candidates if a == account_id}
        today = _today(account_id, day)
        covered = {w for _, topic in today.values() for w in topic}
        room = (
            MAX_SURGES_PER_HOUR
            - Alert.objects.filter(
                account_id=account_id,
                kind=Alert.Kind.SURGE,
                created_at__gt=now - timedelta(hours=1),
            ).count()
        )
        # the strongest first: the most messages against the usual rate
        surging = sorted(
            (
                (n / max(usual, 1.0), n, word, usual)
                for word, n in counts.items()
                if word not in covered
                for usual in [usual_rate(account_id, word, start)]
                if n >= max(MIN_SURGE, FACTOR * usual)
            ),
            key=lambda item: (-item[0], -item[1], item[2]),
        )
        for _, n, word, usual in surging:
            if word in covered:
                continue
            if room <= 0 and not today:
                break
            topic = _raise_surge(
                account_id, word, n, usual, start, current, now, counts, today, new=room > 0
            )
            if topic is not None and topic[0] == word:
                raised += 1
                room -= 1
            covered.update(topic or ())
    return raised


def _raise_surge(
    account_id: int,
    word: str,
    n: int,
    usual: float,
    start: datetime,
    current: datetime,
    now: datetime,
    counts: dict[str, int] | None = None,
    today: dict[str, tuple[int, list[str]]] | None = None,
    *,
    new: bool = True,
) -> list[str] | None:
    """Raise the alert, or add the word to the topic of an alert raised today that it is
    mostly said with; the topic's words (None: raised already)."""
    history = _history(account_id, word, start, current + BUCKET)
    trend = [history.get(start + i * BUCKET, 0) for i in range(WINDOW_BUCKETS)]
    texts = list(
        CaseMessage.objects.filter(
            direction=CaseMessage.Direction.IN,
            inbound__account_id=account_id,
            inbound__received_at__gte=start,
            text__contains=word,
        )
        .order_by("-inbound__received_at")
        .values_list("text", flat=True)[:200]
    )
    about = summary(texts, top=6, examples=3)
    scale = n / len(texts) if texts else 0.0
    together = Counter(w for t in texts for w in set(words(t)) if w != word)
    for main, (pk, words_of_topic) in (today or {}).items():
        if together[main] * scale >= SAME_TOPIC * n:  # mostly said with an earlier topic
            joined = [*words_of_topic, word]
            detail = Alert.objects.filter(pk=pk).values_list("detail", flat=True).get()
            kept = [line for line in detail.splitlines() if not line.startswith(TOPIC_LINE)]
            Alert.objects.filter(pk=pk).update(
                detail="\n".join([*kept, TOPIC_LINE + "、".join(joined)])
            )
            (today or {})[main] = (pk, joined)
            return joined
    if not new:
        return None  # the hour's alerts are spent: only joining a topic was possible
    # the other surging words mostly said with this one: the same topic
    topic = [word]
    if texts and counts:
        topic += [
            w
            for w, k in together.most_common()
            if w in counts and k * scale >= SAME_TOPIC * counts[w]
        ]
    lines = ["10 分钟走势：" + " → ".join(map(str, trend))]
    others = [(w, k) for w, k in about.words if w != word][:5]
    if others:
        lines.append("同时提到：" + "、".join(f"{w}（{k}）" for w, k in others))
    if about.examples:
        lines.append("例：" + "；".join(f"“{e}”" for e in about.examples))
    lines.append(TOPIC_LINE + "、".join(topic))
    since = start.strftime("%Y-%m-%dT%H:%MZ")
    link = (
        reverse("desk:cases")
        + "?"
        + urlencode({"topic": word, "since": since}, quote_via=quote, safe=":")
    )
    alert = raise_alert(
        Account.objects.get(pk=account_id),
        Alert.Kind.SURGE,
        _subject(word, timezone.localdate(now)),
        f"舆情异动：“{word}” 1 小时内 {n} 条（常态每小时约 {_number(usual)} 条）",
        detail="\n".join(lines),
        link=link,
        at=now,
    )
    return topic if alert is not None else None


def prune(now: datetime | None = None) -> int:
    """Delete the counts older than the history a surge is measured against."""
    now = now or timezone.now()
    deleted, _ = TopicCount.objects.filter(
        account_id__in=Account.objects.values("pk"), bucket__lt=bucket_of(now) - KEEP
    ).delete()
    return deleted
