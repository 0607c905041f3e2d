"""The formulation family: near misses of fixed formulations and official names, from
the shipped list and the account's own."""

from __future__ import annotations

import pytest

from govwx.content.proofread import ERROR, Context, Formulation
from govwx.content.proofread.formulation import distance, shipped_formulations

from .proofread_texts import CLEAN_PARAGRAPHS, CONTEXT, long_article, run, spans


def near(text: str, context: Context = CONTEXT) -> list[tuple[str, str, str]]:
    return spans(run("formulation", text, context))


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("坚持中国特色社会义道路", "中国特色社会义", "中国特色社会主义"),  # dropped
        ("召开中国人民政治协商会会议", "中国人民政治协商会会议", "中国人民政治协商会议"),  # added
        ("全面建设小康社会", "全面建设小康社会", "全面建成小康社会"),  # changed
        ("中国人民政协商会议", "中国人民政协商会议", "中国人民政治协商会议"),
        ("生态环保部发布", "生态环保部", "生态环境部"),
        ("坚持人民代表大会制制度", "人民代表大会制制度", "人民代表大会制度"),
    ],
)
def test_a_near_miss_is_an_error_with_the_standard_form(text: str, wrong: str, right: str) -> None:
    found = run("formulation", text)
    assert spans(found) == [(wrong, right, ERROR)]
    assert found[0].message == f"规范提法应为「{right}」"
    assert found[0].rule == "formulation.near_miss"


def test_the_same_characters_in_another_order_are_an_error() -> None:
    found = run("formulation", "推进一路一带建设，坚持中国特色主义社会。")
    assert spans(found) == [
        ("一路一带", "一带一路", ERROR),
        ("中国特色主义社会", "中国特色社会主义", ERROR),
    ]
    assert found[0].message == "规范提法应为「一带一路」（字序有误）"
    assert found[0].rule == "formulation.order"


@pytest.mark.parametrize(
    "text",
    [
        "习近平新时代中国特色社会主义思想",
        "坚持和完善人民代表大会制度。",
        "人民代表大会和政协，人民代表大会制定了条例。",  # part, then other words
        "全面建成了小康社会。",  # a particle inside
        "中华人民共和国的宪法",
        "国务院办公会议研究",  # another word sharing the start
        "中国人民政治协商会议全国委员会",
        "国家卫生健康委发布",  # the short name: a part of the full one
    ],
)
def test_exact_occurrences_parts_and_ordinary_sentences_pass(text: str) -> None:
    assert near(text) == []


def test_the_account_list_adds_to_the_shipped_one() -> None:
    context = Context(formulations=(Formulation("示例市数据资源管理局"),))
    assert near("示例市数据资源管局成立。", context) == [
        ("示例市数据资源管局", "示例市数据资源管理局", ERROR)
    ]
    assert near("坚持中国特色社会义。", context) == [("中国特色社会义", "中国特色社会主义", ERROR)]
    assert near("示例市数据资源管局成立。") == []


def test_a_text_spelling_another_formulation_exactly_is_no_near_miss() -> None:
    context = Context(formulations=(Formulation("全面建设小康社会"),))
    assert near("党的十六大提出全面建设小康社会。", context) == []


def test_a_long_list_and_a_long_text() -> None:
    places = ["北京市", "天津市", "河北省", "山西省", "浙江省", "杭州市", "陕西省", "西安市"]
    departments = ["人民政府办公厅", "发展和改革委员会", "教育厅", "公安厅", "财政厅", "水利厅"]
    departments += ["人力资源和社会保障厅", "卫生健康委员会", "市场监督管理局", "统计局"]
    listed = tuple(Formulation(p + d) for p in places for d in departments)
    context = Context(formulations=listed)
    slips = "浙江省教育厅和浙江省财政厅。陕西省人力资源和社保障厅发布通知，一路一带。"
    text = long_article(20_000, slips)
    assert len(text) > 20_000
    found = run("formulation", text, context)
    assert spans(found) == [
        ("陕西省人力资源和社保障厅", "陕西省人力资源和社会保障厅", ERROR),
        ("一路一带", "一带一路", ERROR),
    ]
    assert found[0].start == text.index("陕西省人力资源和社保障厅")


def test_distance() -> None:
    assert distance("中国特色社会主义", "中国特色社会义", 2) == 1
    assert distance("中国特色社会主义", "中国社会主义特色", 2) == 3
    assert distance("abc", "abcdef", 2) == 3


def test_the_shipped_list_is_short_and_clean() -> None:
    standards = [f.standard for f in shipped_formulations()]
    assert 40 <= len(standards) <= 80
    assert len(set(standards)) == len(standards)
    assert all(s == s.strip() and "#" not in s for s in standards)
    # the list is correct against itself: no entry is a near miss of another
    for s in standards:
        assert near(s, Context()) == [], s


def test_clean_government_paragraphs_have_no_formulation_finding() -> None:
    for paragraph in CLEAN_PARAGRAPHS:
        assert run("formulation", paragraph) == []
