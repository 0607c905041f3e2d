"""Reading a year's holiday arrangement as people paste it: the State Council's notice
(国务院办公厅关于X年部分节假日安排的通知), or lines typed by hand.

Pure: text in, an `Arrangement` out — the holiday periods (name, first and last day) and
the make-up working days (调休上班), each with the line it came from, and the problems
found, each naming its line. Nothing here touches the database; `services.enter_year`
stores an arrangement after `check` finds nothing wrong with it.

The notice's form, as published since 2008::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    2月14日（周六）、2月28日（周六）上班。
    三、清明节：4月5日放假，与周末连休。

Items may run together on one line or wrap onto the next; the preamble, the closing
paragraph and the signature are ignored. A weekday in brackets is checked against the
date, so a notice pasted into the wrong year is caught. The hand-typed form, one entry a
line::

    2027-01-01 至 2027-01-03 元旦 放假
    2027-02-20 上班
    5月1日至5日 劳动节 放假
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

# The longest holiday period ever announced is 9 days (春节); more is a typing error.
LONGEST_PERIOD = 15
WEEKDAYS = "一二三四五六日"

# After NFKC: full-width brackets, colons, commas and digits are ASCII.
_ITEM = re.compile(r"(?:^|(?<=[。;\s]))[一二三四五六七八九十]+、\s*(?P<name>[^:,。;\n]{1,30}?)\s*:")
_DATE = r"(?:(?P<{p}y>\d{{4}})\s*年\s*)?(?:(?P<{p}m>\d{{1,2}})\s*月\s*)?(?P<{p}d>\d{{1,2}})\s*日"
_NOTE = r"(?:\s*\((?P<{p}note>[^)]*)\))?"
_HOLIDAY = re.compile(
    r"^(?:(?P<name>[^\d:]{1,30}?)\s*:?\s*)?"
    + _DATE.format(p="a")
    + _NOTE.format(p="a")
    + r"(?:\s*(?:至|到|~|-|—|–)\s*"
    + _DATE.format(p="b")
    + _NOTE.format(p="b")
    + r")?\s*(?P<name2>[^\d\s放()]{1,20}?)?\s*放假(?P<rest>.*)$"
)
_WORK_HEAD = re.compile(r"^(?:(?P<name>[^\d:]{1,30}?)\s*:\s*)?(?P<list>.*?)\s*(?:调休)?上班$")
_WORK_ONE = re.compile(_DATE.format(p="a") + _NOTE.format(p="a"))
_WORK_SEP = re.compile(r"^\s*(?:、|,|和|及)?\s*$")
_ANY_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_TYPED = re.compile(
    r"^(?P<a>\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
    r"(?:\s*(?:至|到|~|—|–|-)\s*(?P<b>\d{4}[-/.]\d{1,2}[-/.]\d{1,2}))?"
    r"\s*(?P<name>.*?)\s*(?P<kind>放假|休息|调休上班|补班|上班)$"
)
_WEEKDAY_NOTE = re.compile(r"(?:周|星期|礼拜)(?P<w>[一二三四五六日天])")
_COUNT = re.compile(r"共\s*(?P<n>\d+)\s*天|^\s*(?P<m>\d+)\s*天")
_TITLE_YEAR = re.compile(r"关于\s*(?P<y>\d{4})\s*年.{0,6}节假日|现将\s*(?P<z>\d{4})\s*年")


@dataclass(frozen=True)
class Period:
    """Days off in a row: a holiday with the weekend days around it (放假调休)."""

    name: str
    first: date
    last: date
    line: int = 0
    source: str = ""

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class WorkDay:
    """A weekend day worked to make up for a holiday (调休上班)."""

    day: date
    name: str = ""
    line: int = 0
    source: str = ""


@dataclass(frozen=True)
class Problem:
    line: int  # 0: the whole text
    source: str
    message: str  # 中文 / English

    def __str__(self) -> str:
        if not self.line:
            return self.message
        return f"第 {self.line} 行「{_short(self.source)}」：{self.message}"


@dataclass(frozen=True)
class Arrangement:
    year: int
    periods: tuple[Period, ...] = ()
    workdays: tuple[WorkDay, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    @property
    def holidays(self) -> dict[date, str]:
        return {day: p.name for p in self.periods for day in p.days}

    @property
    def workday_names(self) -> dict[date, str]:
        return {w.day: w.name for w in self.workdays}


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Refused(Exception):
    """A sentence that looks like an arrangement and cannot be read as one."""


def parse(text: str, year: int) -> Arrangement:
    """The arrangement the text describes for `year`, with every problem found (reading
    it, and `check`ing what was read)."""
    periods: list[Period] = []
    workdays: list[WorkDay] = []
    problems: list[Problem] = []
    lines = [unicodedata.normalize("NFKC", raw) for raw in text.splitlines()]
    if not any(line.strip() for line in lines):
        return Arrangement(year, problems=(Problem(0, "", _EMPTY),))
    raw_lines = text.splitlines()
    notice = any(_ITEM.search(line) for line in lines)
    name = ""  # the item being read (a notice's items may wrap onto the next line)
    seen_item = False
    for number, (line, raw) in enumerate(zip(lines, raw_lines, strict=True), 1):
        line = line.strip()
        if not line:
            continue
        title = _TITLE_YEAR.search(line)
        if title and int(title.group("y") or title.group("z")) != year:
            problems.append(Problem(number, raw, _wrong_title(int(title["y"] or title["z"]), year)))
            continue
        typed = _TYPED.match(line)
        if typed:
            try:
                _read_typed(typed, year, number, raw, periods, workdays)
            except _Refused as exc:
                problems.append(Problem(number, raw, str(exc)))
            continue
        if notice:
            chunks = _items(line)
            if chunks and chunks[0][0] is None and not seen_item:
                chunks = chunks[1:]  # the preamble, before the first item
            for item, body in chunks:
                if item is not None:
                    name, seen_item = item, True
                for sentence in _sentences(body):
                    try:
                        _read_sentence(sentence, name, year, number, raw, periods, workdays)
                    except _Refused as exc:
                        problems.append(Problem(number, raw, str(exc)))
            continue
        read = False
        for sentence in _sentences(line):
            try:
                read = _read_sentence(sentence, "", year, number, raw, periods, workdays) or read
            except _Refused as exc:
                problems.append(Problem(number, raw, str(exc)))
                read = True
        if not read and _ANY_DATE.search(line):  # a heading states nothing: ignored
            problems.append(Problem(number, raw, _UNREADABLE))
    if not periods and not workdays and not problems:
        problems.append(Problem(0, "", _NOTHING))
    problems.extend(check(year, periods, workdays))
    return Arrangement(year, tuple(periods), tuple(workdays), tuple(problems))


def _items(line: str) -> list[tuple[str | None, str]]:
    """The line cut at each item marker (一、元旦：): (name or None, body)."""
    marks = list(_ITEM.finditer(line))
    if not marks:
        return [(None, line)]
    chunks: list[tuple[str | None, str]] = []
    if line[: marks[0].start()].strip():
        chunks.append((None, line[: marks[0].start()]))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(line)
        chunks.append((m.group("name").strip(), line[m.end() : end]))
    return chunks


def _sentences(body: str) -> list[str]:
    return [s.strip() for s in re.split(r"[。;]", body) if s.strip()]


def _day(year: int, y: str | None, m: str | None, d: str, month: int | None) -> date:
    the_year = int(y) if y else year
    the_month = int(m) if m else month
    if the_month is None:
        raise _Refused(f"{d}日 缺少月份 / day {d} has no month")
    try:
        return date(the_year, the_month, int(d))
    except ValueError:
        raise _Refused(
            f"{the_year}年{the_month}月{d}日 不是有效日期 / not a date: {the_year}-{the_month}-{d}"
        ) from None


def _weekday_ok(day: date, note: str | None) -> None:
    """A weekday in brackets (周四, 星期六) must be the date's: else the text is for
    another year, or mistyped."""
    if not note:
        return
    m = _WEEKDAY_NOTE.search(note)
    if not m:
        return
    said = "日" if m.group("w") == "天" else m.group("w")
    actual = WEEKDAYS[day.weekday()]
    if said != actual:
        raise _Refused(
            f"{day.month}月{day.day}日 在 {day.year} 年是周{actual}，文中写的是周{said}："
            f"是不是另一年的通知？ / {day.isoformat()} is a {_EN_DAYS[day.weekday()]}, "
            f"the text says {_EN_DAYS[WEEKDAYS.index(said)]}: is this another year's notice?"
        )


_EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _read_sentence(
    sentence: str,
    name: str,
    year: int,
    number: int,
    raw: str,
    periods: list[Period],
    workdays: list[WorkDay],
) -> bool:
    """Read one sentence of an item; False when it states no arrangement (no date, or
    neither 放假 nor 上班), _Refused when it seems to and cannot be read."""
    if not _ANY_DATE.search(sentence) or not ("放假" in sentence or "上班" in sentence):
        return False
    holiday = _HOLIDAY.match(sentence)
    if holiday and "上班" not in sentence.split("放假", 1)[0]:
        g = holiday.groupdict()
        first = _day(year, g["ay"], g["am"], g["ad"], None)
        _weekday_ok(first, g["anote"])
        last = first
        if g["bd"]:
            month = first.month if g["bm"] is None else None
            last = _day(int(g["ay"] or year), g["by"], g["bm"], g["bd"], month)
            if g["bm"] is None and not g["by"] and last < first:
                raise _Refused(_backwards(first, last))
            _weekday_ok(last, g["bnote"])
        label = (g["name"] or g["name2"] or name or "").strip(" ,、") or "节假日"
        rest = g["rest"] or ""
        if "与周末连休" in rest or "与周末连放" in rest:
            while (first - timedelta(days=1)).weekday() >= 5:
                first -= timedelta(days=1)
            while (last + timedelta(days=1)).weekday() >= 5:
                last += timedelta(days=1)
        count = _COUNT.search(rest)
        if count:
            said = int(count.group("n") or count.group("m"))
            actual = (last - first).days + 1
            if said != actual and last >= first:
                raise _Refused(
                    f"{first.month}月{first.day}日至{last.month}月{last.day}日是 {actual} 天，"
                    f"文中写的是共 {said} 天 / {first.isoformat()} to {last.isoformat()} is "
                    f"{actual} days, the text says {said}"
                )
        periods.append(Period(label, first, last, number, raw))
        tail = _ANY_DATE.search(rest)  # 「…放假，共3天，1月4日上班」: one sentence, both
        if tail and not _read_sentence(
            rest[tail.start() :], name, year, number, raw, periods, workdays
        ):
            raise _Refused(_UNREADABLE)
        return True
    head = _WORK_HEAD.match(sentence)
    if head:
        label = (head.group("name") or name or "").strip()
        found = _work_list(head.group("list"), year)
        if found:
            workdays.extend(WorkDay(day, label, number, raw) for day in found)
            return True
    raise _Refused(_UNREADABLE)


def _work_list(text: str, year: int) -> list[date]:
    """`2月14日（周六）、2月28日（周六）`: every date, each checked against its weekday;
    anything else between them refuses the sentence."""
    found: list[date] = []
    pos = 0
    month: int | None = None
    for m in _WORK_ONE.finditer(text):
        if not _WORK_SEP.match(text[pos : m.start()]):
            return []
        g = m.groupdict()
        day = _day(year, g["ay"], g["am"], g["ad"], month)
        _weekday_ok(day, g["anote"])
        month = day.month
        found.append(day)
        pos = m.end()
    return found if text[pos:].strip() == "" else []


def _read_typed(
    m: re.Match[str],
    year: int,
    number: int,
    raw: str,
    periods: list[Period],
    workdays: list[WorkDay],
) -> None:
    first = _iso(m.group("a"))
    last = _iso(m.group("b")) if m.group("b") else first
    name = m.group("name").strip(" ,、:")
    if m.group("kind") in ("放假", "休息"):
        if last < first:
            raise _Refused(_backwards(first, last))
        periods.append(Period(name or "节假日", first, last, number, raw))
        return
    if m.group("b"):
        raise _Refused(
            "调休上班请逐日列出，不要写成时间段 / list make-up working days one by one, "
            "not as a range"
        )
    workdays.append(WorkDay(first, name, number, raw))


def _iso(text: str) -> date:
    y, m, d = (int(x) for x in re.split(r"[-/.]", text))
    try:
        return date(y, m, d)
    except ValueError:
        raise _Refused(f"{text} 不是有效日期 / not a date: {text}") from None


def _backwards(first: date, last: date) -> str:
    return (
        f"结束日 {last.isoformat()} 早于开始日 {first.isoformat()} / "
        f"the last day {last.isoformat()} is before the first {first.isoformat()}"
    )


def _wrong_title(said: int, year: int) -> str:
    return (
        f"这是 {said} 年的通知，正在录入的是 {year} 年 / this is the notice for {said}, "
        f"the year being entered is {year}"
    )


_EMPTY = "没有内容：请粘贴国务院办公厅的通知，或逐行输入 / empty: paste the notice or type the days"
_NOTHING = "没有找到任何放假或上班的安排 / no days off or make-up working days found in the text"
_UNREADABLE = (
    "无法识别：应为「1月1日至3日放假」「1月4日（周日）上班」或「2027-01-01 至 2027-01-03 元旦 放假」"
    " / cannot read this line: write e.g. 「1月1日至3日放假」 or 「2027-02-20 上班」"
)


def check(year: int, periods: Sequence[Period], workdays: Sequence[WorkDay]) -> list[Problem]:
    """What is wrong with an arrangement for `year`, whatever it was read from: days
    outside the year, make-up days on weekdays, overlaps, implausible periods."""
    problems: list[Problem] = []
    if not 2000 <= year <= 2100:
        return [Problem(0, "", f"年份不合理 / implausible year {year}")]
    if not periods:
        problems.append(
            Problem(0, "", "至少要有一个放假安排 / an arrangement has at least one holiday")
        )
    for p in periods:
        if p.last < p.first:
            problems.append(Problem(p.line, p.source, _backwards(p.first, p.last)))
            continue
        outside = [d for d in (p.first, p.last) if d.year != year]
        if outside:
            problems.append(Problem(p.line, p.source, _outside(outside[0], year)))
        if (p.last - p.first).days + 1 > LONGEST_PERIOD:
            problems.append(
                Problem(
                    p.line,
                    p.source,
                    f"连续放假 {(p.last - p.first).days + 1} 天，不合常理（最多 {LONGEST_PERIOD} 天）/ "
                    f"{(p.last - p.first).days + 1} days off in a row is implausible "
                    f"(at most {LONGEST_PERIOD})",
                )
            )
    for w in workdays:
        if w.day.year != year:
            problems.append(Problem(w.line, w.source, _outside(w.day, year)))
        if w.day.weekday() < 5:
            problems.append(
                Problem(
                    w.line,
                    w.source,
                    f"{w.day.isoformat()} 是周{WEEKDAYS[w.day.weekday()]}，本来就上班：调休上班"
                    f"只能在周末 / {w.day.isoformat()} is a weekday already: a make-up working "
                    f"day falls on a weekend",
                )
            )
    ordered = sorted((p for p in periods if p.first <= p.last), key=lambda p: (p.first, p.line))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.first <= before.last:
            problems.append(
                Problem(
                    after.line,
                    after.source,
                    f"与第 {before.line} 行的{before.name}（{before.first.isoformat()} 至 "
                    f"{before.last.isoformat()}）重叠 / overlaps {before.name} "
                    f"({before.first.isoformat()} to {before.last.isoformat()}, line {before.line})",
                )
            )
    off = {day: p for p in periods for day in p.days if p.first <= p.last}
    seen: dict[date, WorkDay] = {}
    for w in workdays:
        if w.day in off:
            p = off[w.day]
            problems.append(
                Problem(
                    w.line,
                    w.source,
                    f"{w.day.isoformat()} 既是{p.name}假期（第 {p.line} 行）又是上班日 / "
                    f"{w.day.isoformat()} is both a holiday ({p.name}, line {p.line}) and a "
                    f"working day",
                )
            )
        if w.day in seen:
            problems.append(
                Problem(
                    w.line,
                    w.source,
                    f"{w.day.isoformat()} 已在第 {seen[w.day].line} 行列为上班日 / "
                    f"{w.day.isoformat()} is listed twice (line {seen[w.day].line})",
                )
            )
        seen[w.day] = w
    return problems


def _outside(day: date, year: int) -> str:
    return (
        f"{day.isoformat()} 不在 {year} 年：每年的安排只录入当年的日期 / {day.isoformat()} "
        f"is not in {year}: enter only that year's days"
    )


def lines_of(periods: Iterable[Period], workdays: Iterable[WorkDay]) -> str:
    """The hand-typed form of an arrangement (the stored year shown for editing)."""
    out = [
        f"{p.first.isoformat()} 至 {p.last.isoformat()} {p.name} 放假"
        if p.last != p.first
        else f"{p.first.isoformat()} {p.name} 放假"
        for p in periods
    ]
    out += [f"{w.day.isoformat()} {w.name} 上班".replace("  ", " ") for w in workdays]
    return "\n".join(out)
