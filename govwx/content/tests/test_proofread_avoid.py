"""The avoid family: words to avoid, the shipped advertising superlatives and the
account's own words, each reported with its reason."""

from __future__ import annotations

from govwx.content.proofread import ERROR, AvoidWord, Context
from govwx.content.proofread.formulation import shipped_avoid

from .proofread_texts import CLEAN_PARAGRAPHS, CONTEXT, run, spans

AD_LAW = "绝对化用语：《广告法》第九条第（三）项禁止广告使用“国家级”“最高级”“最佳”等用语"


def test_shipped_superlatives_are_errors_with_the_reason() -> None:
    found = run("avoid", "本产品是史上最好的茶叶，顶级品质，最佳选择。")
    assert spans(found) == [
        ("史上最", "", ERROR),
        ("顶级", "高端", ERROR),
        ("最佳", "较好", ERROR),
    ]
    assert {f.message for f in found} == {AD_LAW}
    assert found[0].rule == "avoid.word"


def test_official_designations_with_guojiaji_pass() -> None:
    text = "示例经济技术开发区是国家级开发区，示例剪纸是国家级非物质文化遗产。"
    assert run("avoid", text) == []
    assert spans(run("avoid", "国家级产品，值得信赖。")) == [("国家级产品", "", ERROR)]


def test_the_account_words_add_to_the_shipped_ones_and_replace_the_same_word() -> None:
    context = Context(
        avoid=(
            AvoidWord("亲", "政务账号不用网络昵称称呼读者", "市民朋友"),
            AvoidWord("最佳", "本单位要求：改用具体说法"),
        )
    )
    found = run("avoid", "亲，这是最佳时机，顶级服务。", context)
    assert [(f.text, f.message, f.suggestion) for f in found] == [
        ("亲", "政务账号不用网络昵称称呼读者", "市民朋友"),
        ("最佳", "本单位要求：改用具体说法", ""),
        ("顶级", AD_LAW, "高端"),
    ]


def test_a_word_without_a_reason_still_says_why() -> None:
    found = run("avoid", "点击领取。", Context(avoid=(AvoidWord("点击领取", ""),)))
    assert [f.message for f in found] == ["「点击领取」在禁用词表中"]


def test_the_shipped_list_has_a_reason_for_every_word() -> None:
    words = shipped_avoid()
    assert len(words) >= 10
    assert all(w.word and w.reason for w in words)


def test_clean_government_paragraphs_have_no_word_to_avoid() -> None:
    for paragraph in CLEAN_PARAGRAPHS:
        assert run("avoid", paragraph, CONTEXT) == []
