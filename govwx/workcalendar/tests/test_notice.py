"""Reading the State Council's notice (and lines typed by hand): the 2025 and 2026
notices as published must give exactly the days of the chinesecalendar package."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from govwx.workcalendar.notice import Period, WorkDay, check, lines_of, parse

from .notices import NOTICE_2025, NOTICE_2026, NOTICE_2027


def package(year: int) -> tuple[set[date], set[date]]:
    return (
        {d for d in chinese_calendar.holidays if d.year == year},
        {d for d in chinese_calendar.workdays if d.year == year},
    )


@pytest.mark.parametrize("year, text", [(2025, NOTICE_2025), (2026, NOTICE_2026)])
def test_it_reads_the_published_notice_as_the_package_has_it(year: int, text: str) -> None:
    got = parse(text, year)
    assert got.problems == ()
    holidays, workdays = package(year)
    assert set(got.holidays) == holidays
    assert set(got.workday_names) == workdays
    assert len(got.holidays) == sum(len(p.days) for p in got.periods)  # no day twice


def test_it_keeps_names_and_lines_of_the_2025_notice() -> None:
    got = parse(NOTICE_2025, 2025)
    assert [(p.name, p.first, p.last, p.line) for p in got.periods] == [
        ("元旦", date(2025, 1, 1), date(2025, 1, 1), 7),
        ("春节", date(2025, 1, 28), date(2025, 2, 4), 8),
        ("清明节", date(2025, 4, 4), date(2025, 4, 6), 9),
        ("劳动节", date(2025, 5, 1), date(2025, 5, 5), 10),
        ("端午节", date(2025, 5, 31), date(2025, 6, 2), 11),  # across months
        ("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8), 12),
    ]
    assert [(w.day, w.name) for w in got.workdays] == [
        (date(2025, 1, 26), "春节"),
        (date(2025, 2, 8), "春节"),
        (date(2025, 4, 27), "劳动节"),
        (date(2025, 9, 28), "国庆节、中秋节"),
        (date(2025, 10, 11), "国庆节、中秋节"),
    ]
    assert got.periods[1].source.strip().startswith("二、春节：1月28日（农历除夕、周二）")


def test_it_reads_an_item_that_wraps_onto_the_next_line() -> None:
    got = parse(NOTICE_2027, 2027)
    assert got.problems == ()
    assert [(w.day, w.name, w.line) for w in got.workdays][:1] == [(date(2027, 2, 20), "春节", 4)]
    assert [(p.name, p.first, p.last) for p in got.periods] == [
        ("元旦", date(2027, 1, 1), date(2027, 1, 3)),
        ("春节", date(2027, 2, 6), date(2027, 2, 14)),
        ("清明节", date(2027, 4, 3), date(2027, 4, 5)),
        ("劳动节", date(2027, 5, 1), date(2027, 5, 5)),
        ("端午节", date(2027, 6, 9), date(2027, 6, 9)),
        ("中秋节", date(2027, 9, 15), date(2027, 9, 15)),
        ("国庆节", date(2027, 10, 1), date(2027, 10, 7)),
    ]


def test_with_the_weekend_extends_over_it_as_in_2019() -> None:
    got = parse("三、清明节：4月5日放假，与周末连休。", 2019)
    assert got.problems == ()
    assert set(got.holidays) == {d for d in package(2019)[0] if d.month == 4}


def test_it_reads_single_days_ranges_across_months_and_typed_lines() -> None:
    text = "\n".join(
        [
            "劳动节：5月1日放假",
            "国庆节：9月30日至10月7日放假",
            "2027-01-01 至 2027-01-03 元旦 放假",
            "２０２７－０２－２０ 春节 上班",  # full-width, as some input methods type
            "国庆节：9月26日（周日）、10月9日（周六）上班",
        ]
    )
    got = parse(text, 2027)
    assert got.problems == ()
    assert [(p.name, p.first, p.last, p.line) for p in got.periods] == [
        ("劳动节", date(2027, 5, 1), date(2027, 5, 1), 1),
        ("国庆节", date(2027, 9, 30), date(2027, 10, 7), 2),
        ("元旦", date(2027, 1, 1), date(2027, 1, 3), 3),
    ]
    assert [(w.day, w.name, w.line) for w in got.workdays] == [
        (date(2027, 2, 20), "春节", 4),
        (date(2027, 9, 26), "国庆节", 5),
        (date(2027, 10, 9), "国庆节", 5),
    ]


def test_a_make_up_day_after_a_comma_is_not_lost() -> None:
    got = parse("一、元旦：1月1日（周五）至3日（周日）放假，共3天，2月20日（周六）上班。", 2027)
    assert got.problems == ()
    assert [(w.day, w.name) for w in got.workdays] == [(date(2027, 2, 20), "元旦")]
    bad = parse("一、元旦：1月1日至3日放假，共3天，另1月9日开会。", 2027)
    assert [p.line for p in bad.problems] == [1]


def test_last_years_notice_in_this_year_is_caught_by_its_title_and_weekdays() -> None:
    got = parse(NOTICE_2026, 2027)
    messages = [str(p) for p in got.problems]
    assert messages[0].startswith("第 1 行「国务院办公厅关于2026年部分节假日安排的通知")
    assert "这是 2026 年的通知，正在录入的是 2027 年" in messages[0]
    lines = parse(NOTICE_2026.replace("2026年", "2027年"), 2027)
    assert any("1月1日 在 2027 年是周五，文中写的是周四" in str(p) for p in lines.problems)


def test_errors_name_the_line() -> None:
    got = parse(
        "2027-01-01 至 2027-01-03 元旦 放假\n1月5日 开会\n元旦：1月1日至3日放假，共4天", 2027
    )
    assert [str(p) for p in got.problems] == [
        "第 2 行「1月5日 开会」：无法识别：应为「1月1日至3日放假」「1月4日（周日）上班」或"
        "「2027-01-01 至 2027-01-03 元旦 放假」 / cannot read this line: write e.g. "
        "「1月1日至3日放假」 or 「2027-02-20 上班」",
        "第 3 行「元旦：1月1日至3日放假，共4天」：1月1日至1月3日是 3 天，文中写的是共 4 天 / "
        "2027-01-01 to 2027-01-03 is 3 days, the text says 4",
    ]


def test_empty_text_and_text_without_days_are_problems() -> None:
    assert [str(p) for p in parse("  \n ", 2027).problems] == [
        "没有内容：请粘贴国务院办公厅的通知，或逐行输入 / empty: paste the notice or type the days"
    ]
    assert "没有找到任何放假或上班的安排" in str(parse("国务院办公厅", 2027).problems[0])


def test_a_make_up_day_must_be_a_weekend_day() -> None:
    got = parse("元旦：1月1日至3日放假\n1月6日（周三）上班", 2027)
    assert [str(p) for p in got.problems] == [
        "第 2 行「1月6日（周三）上班」：2027-01-06 是周三，本来就上班：调休上班只能在周末 / "
        "2027-01-06 is a weekday already: a make-up working day falls on a weekend"
    ]


def test_days_outside_the_year_are_refused() -> None:
    got = parse("元旦：2026年12月31日至2027年1月2日放假\n2026-12-27 上班", 2027)
    assert [p.line for p in got.problems] == [1, 2]
    assert "2026-12-31 不在 2027 年" in str(got.problems[0])
    assert "2026-12-27 不在 2027 年" in str(got.problems[1])


def test_overlaps_and_a_day_both_off_and_working_are_refused() -> None:
    periods = [
        Period("国庆节", date(2027, 10, 1), date(2027, 10, 7), 1, "a"),
        Period("中秋节", date(2027, 10, 6), date(2027, 10, 8), 2, "b"),
    ]
    workdays = [
        WorkDay(date(2027, 10, 2), "国庆节", 3, "c"),
        WorkDay(date(2027, 10, 9), "", 4, "d"),
    ]
    assert [(p.line, p.message.split(" / ")[0]) for p in check(2027, periods, workdays)] == [
        (2, "与第 1 行的国庆节（2027-10-01 至 2027-10-07）重叠"),
        (3, "2027-10-02 既是国庆节假期（第 1 行）又是上班日"),
    ]


@pytest.mark.parametrize("year", [1999, 2101])
def test_implausible_years_are_refused(year: int) -> None:
    assert [p.message for p in check(year, [], [])] == [f"年份不合理 / implausible year {year}"]


def test_an_implausibly_long_period_is_refused() -> None:
    got = parse("春节：1月1日至3月1日放假", 2027)
    assert "连续放假 60 天，不合常理" in str(got.problems[0])


def test_lines_of_reads_back_as_the_same_arrangement() -> None:
    got = parse(NOTICE_2027, 2027)
    again = parse(lines_of(got.periods, got.workdays), 2027)
    assert again.holidays == got.holidays
    assert again.workday_names == got.workday_names
