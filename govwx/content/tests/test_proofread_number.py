"""The number family (GB/T 15835-2011): mixed numerals, years, full-width figures,
percentages and ranges, the style of dates, counting in Chinese numerals."""

from __future__ import annotations

import pytest

from govwx.content.proofread import ERROR, WARNING
from govwx.content.proofread.numbers import cn_to_int, int_to_cn, year_to_cn

from .proofread_texts import CLEAN_PARAGRAPHS, run, spans


def numbers(text: str) -> list[tuple[str, str, str]]:
    return spans(run("number", text))


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("投资3千元", "3千", "3000"),
        ("投资3千万元", "3千万", "3000万"),
        ("共5百万人", "5百万", "500万"),
        ("共1.5千人", "1.5千", "1500"),
        ("编号一百08号", "一百08", "108"),
        ("共1百零8人", "1百零8", "108"),
        ("二0二六年", "二0二六", "2026"),
        ("20二六年", "20二六", "2026"),
        ("七十2人", "七十2", "72"),
    ],
)
def test_a_number_mixing_arabic_and_chinese_numerals_is_an_error(
    text: str, wrong: str, right: str
) -> None:
    found = run("number", text)
    assert spans(found) == [(wrong, right, ERROR)]
    assert found[0].rule == "number.mixed"
    assert found[0].message == (
        "同一个数不能同时用阿拉伯数字和汉字数字（「万」「亿」除外）（GB/T 15835-2011）"
    )


@pytest.mark.parametrize(
    "text",
    [
        "我国1982年人口普查人数为10亿零817万5288人。",
        "建设道路4千米，新增装机10万千瓦，产量3千克。",
        "高三1班统一3项标准。",
        "共3.5亿元、12万人、1万2000册。",
        "1.一是加强领导；2.二是完善制度。",
    ],
)
def test_wan_and_yi_after_figures_units_and_neighbouring_words_pass(text: str) -> None:
    assert numbers(text) == []


FIXED_EXPRESSIONS = (
    "一律",
    "十三五规划",
    "十四五时期",
    "第一",
    "党的十九届三中全会",
    "一带一路",
    "星期一",
    "二万五千里长征",
    "三百六十行",
    "百分之百",
    "十四亿多人民",
    "两个一百年",
    "九三学社",
    "五四运动",
    "一国两制",
    "四书五经",
    "千方百计",
    "一百八十度大转弯",
    "万一",
    "七上八下",
    "十万八千里",
    "一二·九运动",
    "第二十届",
    "三五天",
    "三四千人",
    "一千多人",
    "上千万人",
    "二〇二六年",
    "五一劳动节",
)


def test_fixed_expressions_with_chinese_numerals_are_left_alone() -> None:
    for expression in FIXED_EXPRESSIONS:
        assert numbers(f"这是{expression}。") == [], expression
    assert numbers("，".join(FIXED_EXPRESSIONS) + "。") == []


def test_zero_in_a_year_of_chinese_numerals_is_ling_not_ling() -> None:
    found = run("number", "二零二六年")
    assert spans(found) == [("二零二六", "二〇二六", ERROR)]
    assert found[0].rule == "number.year_zero"


def test_full_width_figures_are_errors() -> None:
    assert numbers("增长５％，共１２３人，约３．５亿") == [
        ("５％", "5%", ERROR),
        ("１２３", "123", ERROR),
        ("３．５", "3.5", ERROR),
    ]


def test_percent_forms() -> None:
    found = run("number", "增长百分之5，下降5 %，占5％。")
    assert spans(found) == [
        ("百分之5", "5%", ERROR),
        ("5 %", "5%", WARNING),
        ("％", "%", WARNING),
    ]
    assert found[0].message == "「百分之」后不用阿拉伯数字：写作「5%」（GB/T 15835-2011）"


def test_ranges_keep_the_unit_on_both_numbers_and_take_the_wave_dash() -> None:
    found = run("number", "比例为5%—10%、5%-10%、5%~10%、5~10%、15%～30%、9～16亿、13-17万元。")
    assert spans(found) == [
        ("5%—10%", "5%～10%", WARNING),
        ("5%-10%", "5%～10%", ERROR),
        ("5%~10%", "5%～10%", WARNING),
        ("5~10%", "5%～10%", ERROR),
        ("9～16亿", "9亿～16亿", ERROR),
        ("13-17万", "13万～17万", ERROR),
    ]
    assert found[3].message == "表示范围时，前一个数的「%」不能省略（GB/T 15835-2011）"


def test_dates_in_a_minority_style_are_warnings_in_the_main_style() -> None:
    text = "会议于2026年12月5日召开，12月6日结束，2026-12-07公布名单，十二月八日起施行。"
    found = run("number", text)
    assert spans(found) == [
        ("2026-12-07", "2026年12月7日", WARNING),
        ("十二月八日", "12月8日", WARNING),
    ]
    assert found[0].message == (
        "同一篇文字中日期写法应一致：本文多用「2026年12月5日」式（GB/T 15835-2011）"
    )


def test_the_main_date_style_can_be_the_chinese_one() -> None:
    text = "二〇二六年十二月五日通过，十二月六日公布，2026年12月7日施行。"
    assert numbers(text) == [("2026年12月7日", "二〇二六年十二月七日", WARNING)]


def test_dates_of_one_style_pass() -> None:
    assert numbers("2026年12月5日召开，12月6日结束，12月7日公布。") == []
    assert numbers("2026-12-05召开，2026-12-06结束。") == []


def test_a_date_mixing_numerals_is_an_error() -> None:
    assert numbers("12月五日召开。") == [("12月五日", "12月5日", ERROR)]


def test_large_amounts_in_chinese_numerals_are_warnings() -> None:
    found = run("number", "共有三千五百人参加，覆盖九百六十万平方公里。")
    assert spans(found) == [
        ("三千五百", "3500", WARNING),
        ("九百六十万", "960万", WARNING),
    ]
    assert found[0].rule == "number.counting"


def test_numeral_conversions() -> None:
    assert cn_to_int("三千零五十二") == 3052
    assert cn_to_int("十二") == 12
    assert cn_to_int("二〇二六") == 2026
    assert cn_to_int("一亿二千万") == 120_000_000
    assert cn_to_int("1百零8") == 108
    assert int_to_cn(10) == "十"
    assert int_to_cn(31) == "三十一"
    assert year_to_cn(2006) == "二〇〇六"


def test_clean_government_paragraphs_have_no_number_finding() -> None:
    for paragraph in CLEAN_PARAGRAPHS:
        assert run("number", paragraph) == []
    assert run("number", "\n".join(CLEAN_PARAGRAPHS)) == []
