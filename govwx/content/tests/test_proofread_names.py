"""The name family: near misses of the account's names, places and leaders, and leaders
named with a title that is not theirs."""

from __future__ import annotations

import pytest

from govwx.content.proofread import ERROR, NAME, TYPO, Context, Finding, Leader, check
from govwx.content.proofread.lexicon import NearMisses
from govwx.content.proofread.names import authority_for, check_names, in_person_name
from govwx.content.tests.proofread_texts import CLEAN_PARAGRAPHS

CONTEXT = Context(
    names=(
        "国务院办公厅",
        "示例市人民政府",
        "市生态环境局",
        "市公安局",
        "市政务服务管理局",
        "东城区人民政府",
        "12345政务服务便民热线",
    ),
    places=("示例市", "示例", "东城区", "李家湾村", "城关镇"),
    leaders=(
        Leader("张三", "市长"),
        Leader("王建国", "市委副书记、市长"),
        Leader("李四", "副市长"),
        Leader("赵晓明", "常务副市长"),
        Leader("周平", ""),
    ),
)


def names(text: str, context: Context = CONTEXT) -> list[Finding]:
    found = check_names(text, context)
    for f in found:
        assert text[f.start : f.end] == f.text, f
        assert f.family == NAME and f.severity == ERROR
    return sorted(found, key=lambda f: f.start)


def seen(text: str, context: Context = CONTEXT) -> list[tuple[str, str, str]]:
    return [(f.text, f.suggestion, f.rule) for f in names(text, context)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("国务园办公厅印发通知。", [("国务园办公厅", "国务院办公厅", "name.name")]),
        ("市生太环境局开展执法检查。", [("市生太环境局", "市生态环境局", "name.name")]),
        ("示例市人民政俯发布公告。", [("示例市人民政俯", "示例市人民政府", "name.name")]),
        (
            "请拨打12345政务服务便民热钱。",
            [("12345政务服务便民热钱", "12345政务服务便民热线", "name.name")],
        ),
        ("李家弯村召开村民大会。", [("李家弯村", "李家湾村", "name.place")]),
        ("城关真政府门前广场。", [("城关真", "城关镇", "name.place")]),
    ],
)
def test_it_reports_a_near_miss_of_a_name_or_place(text, expected):
    assert seen(text) == expected


def test_the_message_and_offsets_of_a_near_miss():
    text = "近日，国务园办公厅印发通知。"
    (f,) = names(text)
    assert (f.start, f.end) == (3, 9)
    assert f.message == "与本单位名称「国务院办公厅」只差一字（「园」应为「院」），请核对。"


@pytest.mark.parametrize(
    "text",
    [
        "国务院办公厅印发通知。",
        "市生态环境局开展执法检查，市公安局配合。",
        "东城区人民政府发布公告。",
        # 县 is not a slip for 市: another county's bureau
        "县公安局派员参加。",
        # the changed character belongs to the words around it
        "推动城区高质量发展。",
        "我们到东城去看看。",
        "全国庆祝大会隆重召开。",
    ],
)
def test_exact_names_and_other_words_give_no_finding(text):
    assert seen(text) == []


def test_clean_paragraphs_give_no_finding():
    for paragraph in CLEAN_PARAGRAPHS:
        assert seen(paragraph) == []
        assert seen(paragraph, Context()) == []


# ------------------------------------------------------------------ leaders


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # by sound, with or without a title
        ("市委副书记、市长汪建国主持会议。", [("汪建国", "王建国", "name.leader")]),
        ("汪建国同志讲话。", [("汪建国", "王建国", "name.leader")]),
        # any character, next to the leader's own title
        ("市长李三出席会议。", [("李三", "张三", "name.leader")]),
        # a two-character name, a title shared by several (副市长), a character not alike
        ("副市长李五出席会议。", []),
        ("王建国同志讲话。", []),
    ],
)
def test_it_reports_a_leaders_name_with_one_character_wrong(text, expected):
    assert seen(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("副市长张三出席会议。", [("副市长", "市长")]),
        ("张三副市长讲话。", [("副市长", "市长")]),
        ("市长赵晓明主持会议。", [("市长", "常务副市长")]),
        ("书记王建国讲话。", [("书记", "市委副书记")]),
        ("市长李四出席会议。", [("市长", "副市长")]),
        ("市长张三出席会议。", []),
        ("市长王建国主持会议。", []),
        ("副市长赵晓明主持会议。", []),  # 常务副市长, shortened
        ("原副市长张三参加活动。", []),  # a former title
        ("时任副市长张三参加活动。", []),
        ("局长周平讲话。", []),  # no title on record
    ],
)
def test_it_reports_a_leader_named_with_a_title_not_theirs(text, expected):
    found = names(text)
    assert [(f.text, f.suggestion) for f in found] == expected
    assert all(f.rule == "name.title" for f in found)


def test_the_message_of_a_wrong_title_names_the_right_one():
    (f,) = names("副市长张三出席会议。")
    assert (f.start, f.end) == (0, 3)
    assert f.message == "张三的职务是「市长」，不是「副市长」。"
    (g,) = names("书记王建国讲话。")
    assert g.message == "王建国的职务是「市委副书记、市长」，不是「书记」。"


def test_people_with_a_title_are_people():
    authority_context = Context()
    text = "副市长范伟出席活动，郑国栋作了讲话，黄文斌同志主持。"
    assert in_person_name(text, 3, 5, authority_context)
    assert in_person_name(text, 12, 14, authority_context)
    assert in_person_name(text, 18, 21, authority_context)
    assert not in_person_name("进一步优化营商环境。", 6, 8, authority_context)


# ------------------------------------------------------------------ many names


def test_a_few_thousand_names_over_a_long_text():
    units = ("市", "区", "县", "镇", "街道")
    bodies = (
        "发展和改革委员会 教育局 科学技术局 公安局 民政局 司法局 财政局 生态环境局 交通运输局 "
        "水利局 农业农村局 商务局 应急管理局 审计局 统计局 医疗保障局 城市管理局 信访局"
    ).split()
    towns = ("东湖", "西岭", "南山", "北河", "青石", "白沙", "红旗", "金桥")
    ends = ("", "办公室", "执法大队", "服务中心", "第一分局", "第二分局")
    many = tuple(f"{t}{u}{b}{e}" for t in towns for u in units for b in bodies for e in ends)
    assert len(many) == 4320
    context = Context(names=many)
    body = "\n".join(CLEAN_PARAGRAPHS * 60)
    text = body[:10_000] + "，南山区应急管理局、东湖县生太环境局执法大队联合检查，" + body[10_000:]
    assert len(text) > 20_000
    found = names(text, context)
    assert [(f.start - 10_000, f.text, f.suggestion) for f in found] == [
        (10, "东湖县生太环境局执法大队", "东湖县生态环境局执法大队")
    ]


def test_near_misses_index_halves_not_pairs():
    matcher = NearMisses(["国务院办公厅", "市生态环境局", "示例"], min_length=3)
    assert matcher.entries == frozenset({"国务院办公厅", "市生态环境局"})
    found = matcher.find("国务园办公厅与市生态环境局和市生太环境具")
    assert [(m.start, m.written, m.meant, m.position) for m in found] == [
        (0, "国务园办公厅", "国务院办公厅", 2)
    ]  # 市生太环境具 differs twice: not a near miss
    assert matcher.exact("市生态环境局") == [(0, 6, "市生态环境局")]


def test_the_authority_is_built_once_per_context():
    assert authority_for(CONTEXT) is authority_for(CONTEXT)
    assert authority_for(CONTEXT).kinds["王建国"] == "leader"
    assert authority_for(CONTEXT).leaders["王建国"] == ("市委副书记", "市长")


def test_check_runs_the_family_end_to_end():
    text = "国务园办公厅、副市长张三到李家弯村调研，强调做好防汛工做。"
    found = check(text, CONTEXT)
    assert [(f.start, f.end, f.text, f.suggestion) for f in found if f.family == NAME] == [
        (0, 6, "国务园办公厅", "国务院办公厅"),
        (7, 10, "副市长", "市长"),
        (13, 17, "李家弯村", "李家湾村"),
    ]
    typos = [f for f in found if f.family == TYPO]
    assert [(f.text, f.suggestion) for f in typos] == [("工做", "工作")]
    assert all(text[f.start : f.end] == f.text for f in found)
