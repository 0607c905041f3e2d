"""The tone family: the officialese score and its reasons, the share of local places,
and the warnings with their spans."""

from __future__ import annotations

from govwx.content.proofread import WARNING, Context
from govwx.content.proofread.tone import Tone, _sentences, tone

from .proofread_texts import CLEAN_PARAGRAPHS, CONTEXT, run

OFFICIALESE = (
    "12月5日，市委书记张三主持召开全市安全生产工作会议，会议强调，要高度重视安全生产工作，"
    "深入贯彻落实上级决策部署，切实加强组织领导，进一步提高全市安全生产工作水平，确保全市"
    "安全生产形势持续稳定向好。会议要求，各级各部门要认真落实安全生产责任制，对违规行为"
    "予以严肃处理，对存在的问题加以整改，被群众所诟病的问题要立即解决。"
)
PLAIN = (
    "市民朋友们，本周六起示例市地铁2号线延长运营时间。您可以在早上6点至晚上11点乘车，"
    "末班车从示例站发出。"
)


def test_an_officialese_article_scores_high_with_its_reasons() -> None:
    result = tone(OFFICIALESE)
    assert result == Tone(
        score=100,
        reasons=[
            ("长句偏多：2/2句超过60字", 30.0),
            ("公文套话5处", 30.0),
            ("以领导活动开头", 20.0),
            ("被动、书面句式3处", 10.0),
            ("没有对读者说话（您、大家、市民朋友……）", 10.0),
        ],
        local_share=None,
    )


def test_a_plain_article_scores_zero() -> None:
    assert tone(PLAIN) == Tone(score=0, reasons=[], local_share=None)


def test_the_score_adds_up_its_parts() -> None:
    # one stock phrase in 88 characters: 10 × 11.4 per 1,000, capped at 30; no reader: 10
    text = "全市高度重视垃圾分类工作。" + "今年新建分类收集点一百二十个，覆盖全部小区和学校。" * 3
    result = tone(text)
    assert result.reasons == [
        ("公文套话1处", 30.0),
        ("没有对读者说话（您、大家、市民朋友……）", 10.0),
    ]
    assert result.score == 40
    assert len(text) == 88
    assert all(f.rule != "tone.summary" for f in run("tone", text))
    # the same phrase in a text ten times as long weighs a tenth
    longer = text + "今年新建分类收集点一百二十个，覆盖全部小区和学校。您可以就近投放。" * 30
    assert tone(longer).reasons == [("公文套话1处", round(10 * 1000 / len(longer), 1))]


def test_each_phrase_sentence_and_construction_is_a_warning_with_its_span() -> None:
    found = run("tone", OFFICIALESE)
    assert {f.severity for f in found} == {WARNING}
    assert [(f.rule, f.text) for f in found if f.rule == "tone.stock_phrase"] == [
        ("tone.stock_phrase", "高度重视"),
        ("tone.stock_phrase", "深入贯彻"),
        ("tone.stock_phrase", "切实加强"),
        ("tone.stock_phrase", "进一步提高"),
        ("tone.stock_phrase", "认真落实"),
    ]
    assert [f.text for f in found if f.rule == "tone.passive"] == ["予以", "加以", "被群众所"]
    opening = [f for f in found if f.rule == "tone.leadership_opening"]
    assert [(f.start, f.text[:12]) for f in opening] == [(0, "12月5日，市委书记张三")]
    long = [f for f in found if f.rule == "tone.long_sentence"]
    assert [f.message for f in long] == [
        "句子较长（99字），宜拆成短句",
        "句子较长（61字），宜拆成短句",
    ]


def test_a_summary_warning_when_the_score_reaches_60() -> None:
    summary = [f for f in run("tone", OFFICIALESE) if f.rule == "tone.summary"]
    assert [(f.start, f.end, f.text) for f in summary] == [(0, 0, "")]
    assert summary[0].message.startswith("文风偏公文（100分）：长句偏多")
    assert [f for f in run("tone", PLAIN) if f.rule == "tone.summary"] == []


def test_leadership_openings_of_other_forms() -> None:
    assert tone("12月5日上午，市长李四率队调研城市更新项目。").reasons[0] == (
        "以领导活动开头",
        20.0,
    )
    assert tone("十二月五日，县委书记王五主持召开常委会。").reasons[0] == ("以领导活动开头", 20.0)
    assert all(r != "以领导活动开头" for r, _ in tone("12月5日，示例市新开3条公交线路。").reasons)


def test_the_share_of_local_places() -> None:
    context = Context(places=("示例市", "示例"), national_places=("北京", "上海"))
    assert tone(PLAIN + "北京和上海的经验值得示例借鉴。", context).local_share == 0.6
    assert tone("今天天气很好。", context).local_share is None
    assert tone(PLAIN).local_share is None


def test_clean_government_paragraphs_have_no_error_and_a_low_score() -> None:
    article = "\n".join(CLEAN_PARAGRAPHS)
    assert tone(article, CONTEXT).score < 60
    assert {f.severity for f in run("tone", article)} <= {WARNING}
    for paragraph in CLEAN_PARAGRAPHS:
        assert all(f.rule != "tone.summary" for f in run("tone", paragraph))


WITH_URL = (
    "市民朋友可登录示例市政府门户网站https://www.example.gov.cn/bsfw/search?keyword=shebao&page=2"
    "查询社保办理指南、下载申请表格并预约到窗口办理的时间。"
)


def test_a_web_address_does_not_end_its_sentence() -> None:
    text = WITH_URL + "您也可以拨打12345咨询。"
    assert _sentences(text) == [(0, len(WITH_URL)), (len(WITH_URL), len(text))]
    long = [f for f in run("tone", text) if f.rule == "tone.long_sentence"]
    assert [(f.start, f.end, f.text) for f in long] == [(0, len(WITH_URL), WITH_URL)]
    assert long[0].message == f"句子较长（{len(WITH_URL)}字），宜拆成短句"
    assert tone(text).reasons == [("长句偏多：1/2句超过60字", 15.0)]


def test_a_halfwidth_question_mark_ends_a_chinese_sentence() -> None:
    first = "您办好居住证了吗?"
    second = (
        "还没有办理的市民朋友请带上本人身份证、户口簿和近期一寸照片到所在社区的党群服务中心"
        "窗口提交申请材料，工作人员会当场审核并告诉您领证的时间?"
    )
    text = first + second
    assert _sentences(text) == [(0, len(first)), (len(first), len(text))]
    long = [f for f in run("tone", text) if f.rule == "tone.long_sentence"]
    assert [(f.start, f.end, f.text) for f in long] == [(len(first), len(text), second)]
    assert tone(text).reasons == [("长句偏多：1/2句超过60字", 15.0)]


def test_halfwidth_marks_between_ascii_letters_or_digits_end_no_sentence() -> None:
    for inner in ("a;b", "x?y", "3!2", "&amp;", "wang@example.gov.cn"):
        text = f"请参见{inner}的说明。"
        assert _sentences(text) == [(0, len(text))], inner


def test_a_text_that_is_only_a_web_address() -> None:
    url = "https://example.gov.cn/a?b=1&c=2;d=3"
    assert _sentences(url) == [(0, len(url))]
    assert tone(url) == Tone(score=0, reasons=[], local_share=None)
    assert run("tone", url) == []


def test_an_empty_text() -> None:
    assert _sentences("") == []
    assert tone("") == Tone(score=0, reasons=[], local_share=None)
    assert run("tone", "") == []
