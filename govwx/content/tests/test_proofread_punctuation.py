"""The punctuation family (GB/T 15834-2011): half-width marks in Chinese text, paired
marks, doubled marks, ellipses, dashes, marks around quotes and spaces."""

from __future__ import annotations

import pytest

from govwx.content.proofread import ERROR, WARNING

from .proofread_texts import CLEAN_PARAGRAPHS, run, spans


def punct(text: str) -> list[tuple[str, str, str]]:
    return spans(run("punctuation", text))


def rules(text: str) -> list[str]:
    return [f.rule for f in run("punctuation", text)]


def test_half_width_marks_in_chinese_text_are_errors_with_the_full_width_mark() -> None:
    text = "我们今天开会,讨论三件事;一是安全:二是环保?三是民生!完毕."
    found = run("punctuation", text)
    assert [(f.start, f.text, f.suggestion) for f in found] == [
        (6, ",", "，"),
        (12, ";", "；"),
        (17, ":", "："),
        (22, "?", "？"),
        (27, "!", "！"),
        (30, ".", "。"),
    ]
    assert {f.severity for f in found} == {ERROR}
    assert found[0].message == "中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）"
    assert found[0].rule == "punctuation.halfwidth"


def test_half_width_parentheses_and_quotes_are_replaced_in_pairs() -> None:
    assert punct('(一)加强领导。他说"你好"。') == [
        ("(", "（", ERROR),
        (")", "）", ERROR),
        ('"', "“", ERROR),
        ('"', "”", ERROR),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "会议10:30开始，地点在3.5号楼，投资1,000万元。",
        "详见https://www.gov.cn/zhengce/a.html?id=1&x=2,b;c查询。",
        "来信请寄office.zhang@example.gov.cn，谢谢。",
        'He said: (really?) "yes", fine. 这是英文。',
        "1.加强培训；2.完善制度。",
        "Python 3.11 版本已经发布。",
    ],
)
def test_numbers_times_urls_addresses_and_english_keep_their_marks(text: str) -> None:
    assert punct(text) == []


def test_a_quotation_mark_that_never_closes_is_an_error() -> None:
    found = run("punctuation", "他说：“我们明天出发。")
    assert [(f.start, f.text, f.rule, f.message) for f in found] == [
        (3, "“", "punctuation.unbalanced", "「“」没有对应的「”」（GB/T 15834-2011）")
    ]


def test_a_closing_mark_without_its_opening_one_is_an_error() -> None:
    found = run("punctuation", "见附件1）和《通知》》。")
    assert [(f.start, f.text, f.message) for f in found] == [
        (4, "）", "「）」前面没有对应的「（」（GB/T 15834-2011）"),
        (10, "》", "「》」前面没有对应的「《」（GB/T 15834-2011）"),
    ]


def test_crossed_pairs_are_an_error_on_the_mark_left_open() -> None:
    found = run("punctuation", "（见《通知）》")
    assert [(f.start, f.text, f.rule) for f in found] == [
        (2, "《", "punctuation.nesting"),
        (6, "》", "punctuation.unbalanced"),
    ]


def test_double_quotes_inside_double_quotes_and_titles_inside_titles_are_errors() -> None:
    assert rules("他说：“老师，“紊”是什么意思？”") == ["punctuation.nesting"]
    found = run("punctuation", "《关于《条例》的说明》")
    assert [(f.start, f.suggestion) for f in found] == [(3, "〈")]


@pytest.mark.parametrize(
    "text",
    [
        "他说：“老师，‘有条不紊’的‘紊’是什么意思？”",
        "《关于〈示例市条例〉的说明》【通知】「引文」（注：见〔2026〕1号）",
        "China’s economy grew（增长）。",
        # a quotation over two paragraphs: the first opens and does not close
        "他说：“第一段话。\n“第二段话。”",
    ],
)
def test_balanced_and_well_nested_pairs_pass(text: str) -> None:
    assert punct(text) == []


def test_repeated_pause_marks_are_errors() -> None:
    assert punct("好。。真的，，以及、、还有；；如下：：完毕，。") == [
        ("。。", "。", ERROR),
        ("，，", "，", ERROR),
        ("、、", "、", ERROR),
        ("；；", "；", ERROR),
        ("：：", "：", ERROR),
        ("，。", "", ERROR),
    ]


def test_question_and_exclamation_marks_stack_as_the_standard_allows() -> None:
    assert punct("这是你的做法吗？？你怎么敢这样？？？我要控诉！！！这能吓倒我们吗？！") == []
    assert punct("真的吗？？？？好！！！！") == [
        ("？？？？", "？？？", ERROR),
        ("！！！！", "！！！", ERROR),
    ]
    assert punct("真的吗！？") == [("！？", "？！", WARNING)]


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("还有很多。。。", "。。。"),
        ("还有很多...", "..."),
        ("还有很多…", "…"),
        ("还有很多………", "………"),
        ("还有很多⋯⋯", "⋯⋯"),
        ("还有很多．．．", "．．．"),
    ],
)
def test_wrong_ellipses_are_errors_suggesting_the_standard_form(text: str, wrong: str) -> None:
    found = run("punctuation", text)
    assert spans(found) == [(wrong, "……", ERROR)]
    assert found[0].rule == "punctuation.ellipsis"


def test_the_standard_ellipsis_and_english_dots_pass() -> None:
    assert punct("还有很多……全文省略…………") == []
    assert punct("Wait... what? 这里是英文。") == []


def test_wrong_dashes() -> None:
    assert punct("他——我们的老同事——来了。") == []
    assert punct("2020—2025年，北京—上海高铁。") == [("—", "——", WARNING)]
    assert punct("他———我们的同事--来了，他－－走了，她――到了。") == [
        ("———", "——", ERROR),
        ("--", "——", ERROR),
        ("－－", "——", ERROR),
        ("――", "——", WARNING),
    ]


def test_a_pause_mark_before_a_closing_quote_belongs_after_it() -> None:
    found = run("punctuation", "他们提出“要加强监管，”要求立即整改；“一带一路、”“双循环”")
    assert spans(found) == [("，”", "”，", ERROR), ("、”", "”、", ERROR)]
    assert found[0].message == "引文作为句子的一部分时，句内点号放在后引号之外（GB/T 15834-2011）"


def test_a_quotation_interrupted_by_its_speaker_keeps_the_comma_inside() -> None:
    assert punct("“我们会把留言转到相关部门，”负责人表示，“并在5个工作日内答复。”") == []
    assert punct("“你看，”他说，“这就是新建的水厂。”") == []


def test_full_stops_around_closing_quotes() -> None:
    assert punct("他高喊：“冲啊！”。") == [("！”。", "！”", ERROR)]
    assert punct("他们提出“人民至上。”的要求。") == [("。”", "”", ERROR)]
    assert punct("他说：“我们明天出发。”大家都很高兴。") == []


def test_spaces_between_chinese_characters_are_warnings() -> None:
    found = run("punctuation", "通 知：全体 人员 ，请参会。使用 Python 编程。")
    assert spans(found) == [
        ("通 知", "通知", WARNING),
        ("体 人", "体人", WARNING),
        ("员 ，", "员，", WARNING),
    ]


def test_clean_government_paragraphs_have_no_punctuation_finding() -> None:
    for paragraph in CLEAN_PARAGRAPHS:
        assert run("punctuation", paragraph) == []
