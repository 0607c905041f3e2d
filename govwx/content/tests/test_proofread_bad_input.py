"""Bad input and faults: the checker takes any text (empty, a megabyte, traditional
characters, English, emoji, control characters, HTML) without a crash, every finding
naming exactly the original text at its offsets (Python characters) and the planted
error found where it stands, by `check` and by `govwx proofread`; and a word list entry
that is empty, a duplicate or would match nearly everything is refused with a message
naming the rule, nothing written — by `add_entry`, by `import_entries` (the bad line
named, all or nothing) and on the console page."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, AuditEvent
from govwx.content.models import ProofEntry
from govwx.content.proofread import (
    ERROR,
    VETO,
    AvoidWord,
    Context,
    Finding,
    Formulation,
    Leader,
    check,
)
from govwx.content.proofread import context as ctx
from govwx.content.proofread import services as svc
from govwx.content.proofread.services import EntryInput

from .proofread_texts import CLEAN_PARAGRAPHS, PUBLIC_NUMBERS

Kind = ProofEntry.Kind
URL = reverse("proofread:word_lists")

RICH = Context(
    names=("示例市政务服务中心", "示例市人力资源和社会保障局", "示例发布"),
    places=("示例市", "示例", "示例县"),
    national_places=("北京", "上海", "杭州"),
    leaders=(Leader("张三", "市长"),),
    public_numbers=(*PUBLIC_NUMBERS, "office@example.gov.cn"),
    formulations=(Formulation("一窗通办"),),
    avoid=(AvoidWord("拍脑袋", "口语，不严肃", "科学决策"),),
    misused=(("按装", "安装", ""),),
)
CONTEXTS = [pytest.param(Context(), id="empty-context"), pytest.param(RICH, id="rich-context")]

COMMA = "请于12月5日前报名,逾期不候。"  # a half-width comma between Chinese characters
MISUSED = "各单位的工作布署已经完成。"  # 布署 for 部署
MOBILE = "如有疑问请联系13812345678。"  # a private mobile number: a veto


def positioned(text: str, found: list[Finding]) -> None:
    """Every finding names exactly the text at its offsets."""
    for f in found:
        assert 0 <= f.start <= f.end <= len(text), f
        assert text[f.start : f.end] == f.text, f


def grave(found: list[Finding]) -> list[tuple[int, str, str]]:
    """(start, text, rule) of the errors and vetoes, in order."""
    return [(f.start, f.text, f.rule) for f in found if f.severity in (ERROR, VETO)]


def at(text: str, part: str, after: int = 0) -> int:
    return text.index(part, after)


# ------------------------------------------------------------------ the checker


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("text", ["", " ", "\n", "\r\n\r\n", "\u3000\t"])
def test_an_empty_or_blank_text_has_no_findings(text: str, context: Context) -> None:
    assert check(text, context) == []


@pytest.fixture(scope="module")
def megabyte() -> tuple[str, list[tuple[int, str, str]]]:
    """A megabyte of clean paragraphs with an error planted at its start, in its middle
    and at its end, and where each stands."""
    body = "\n".join(CLEAN_PARAGRAPHS * (500_000 // len("".join(CLEAN_PARAGRAPHS)) + 1))
    text = "\n".join([COMMA, body, MISUSED, body, MOBILE])
    assert len(text) >= 1_000_000
    middle = len(COMMA) + 1 + len(body) + 1
    end = len(text) - len(MOBILE)
    planted = [
        (COMMA.index(","), ",", "punctuation.halfwidth"),
        (middle + MISUSED.index("布署"), "布署", "typo.misused"),
        (end + MOBILE.index("138"), "13812345678", "personal_data.mobile"),
    ]
    return text, planted


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_megabyte_of_text_is_checked_and_its_planted_errors_found_where_they_are(
    megabyte: tuple[str, list[tuple[int, str, str]]], context: Context
) -> None:
    text, planted = megabyte
    found = check(text, context)
    positioned(text, found)
    landline = "personal_data.landline"
    if context is not RICH:  # the paragraphs' office phone is public in the rich context only
        phones = {(t, r) for _s, t, r in grave(found) if r == landline}
        assert phones == {("0571-88001234", landline)}
    assert [g for g in grave(found) if g[2] != landline] == planted


@pytest.mark.parametrize("context", CONTEXTS)
def test_traditional_characters(context: Context) -> None:
    text = "這個政府網站的電話號碼是13812345678，請於12月5日前報名,逾期不候。"
    found = check(text, context)
    positioned(text, found)
    assert (at(text, "138"), "13812345678", "personal_data.mobile") in grave(found)
    assert (at(text, ","), ",", "punctuation.halfwidth") in grave(found)


@pytest.mark.parametrize("context", CONTEXTS)
def test_english_mixed_with_chinese(context: Context) -> None:
    text = (
        "请登录 Government Service Platform 办理业务,APP 下载地址 "
        "https://example.gov.cn/app?x=1&y=2 。各单位的工作布署已经完成。"
        "Write to office@example.gov.cn, or call 12345 (9:00-17:00)."
    )
    found = check(text, context)
    positioned(text, found)
    mailbox = (at(text, "office@"), "office@example.gov.cn", "personal_data.email")
    assert grave(found) == [
        (at(text, ",APP"), ",", "punctuation.halfwidth"),
        (at(text, "布署"), "布署", "typo.misused"),
        *([mailbox] if context is not RICH else []),  # the rich context publishes it
    ]


EMOJI = "😀👨‍👩‍👧❤️🇨🇳👍🏽"  # astral, a ZWJ family, a variation selector, a flag, a skin tone


@pytest.mark.parametrize("context", CONTEXTS)
def test_emoji_before_and_after_the_errors(context: Context) -> None:
    text = f"{EMOJI}各单位的工作布署已经完成{EMOJI}请于12月5日前报名,逾期不候。{EMOJI}拍脑袋{EMOJI}"
    found = check(text, context)
    positioned(text, found)
    expected = [
        (at(text, "布署"), "布署", "typo.misused"),
        (at(text, ","), ",", "punctuation.halfwidth"),
    ]
    if context is RICH:
        expected.append((at(text, "拍脑袋"), "拍脑袋", "avoid.word"))
    assert sorted(grave(found)) == sorted(expected)


CONTROL = (
    "\ufeff\x00请于12月5日前报名,\x07逾期不候。\u200b\r\n各单位的工作布署\x0b已经完成。"
    "\x85\u2028如有疑问请联系13812345678。\x1b[0m\x7f"
)


@pytest.mark.parametrize("context", CONTEXTS)
def test_control_characters(context: Context) -> None:
    found = check(CONTROL, context)
    positioned(CONTROL, found)
    assert grave(found) == [
        (at(CONTROL, ","), ",", "punctuation.halfwidth"),
        (at(CONTROL, "布署"), "布署", "typo.misused"),
        (at(CONTROL, "138"), "13812345678", "personal_data.mobile"),
    ]


HTML = (
    "<p>请于12月5日前报名,逾期不候。</p>"
    "<script>var a = 1, b = 2; if (a < b) { go('x'); }</script>"
    '<a href="https://example.gov.cn/?a=1&amp;b=2">链接</a>&nbsp;&amp;&#8220;'
    "<b>各单位的工作布署已经完成。</b>"
)


@pytest.mark.parametrize("context", CONTEXTS)
def test_html_markup(context: Context) -> None:
    found = check(HTML, context)
    positioned(HTML, found)
    # the semicolons of &nbsp; &amp; &#8220; are markup, not half-width marks
    assert grave(found) == [
        (at(HTML, ","), ",", "punctuation.halfwidth"),
        (at(HTML, "布署"), "布署", "typo.misused"),
    ]


def test_the_command_line_reads_the_same_texts_a_line_each(db: Any) -> None:
    emoji = f"{EMOJI}各单位的工作布署已经完成{EMOJI}"
    control = "\x00请于12月5日前报名,\x07逾期不候。\u200b\x0b\x85\u2028如有疑问请联系13812345678。"
    lines = [emoji, "", control, HTML, "這個網站的電話號碼是13812345678。"]
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
    out = io.StringIO()
    call_command("proofread", "--json", stdin=io.BytesIO(data), stdout=out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    for line, r in zip(lines, records, strict=True):
        for f in r["findings"]:
            assert line[f["start"] : f["end"]] == f["text"], f

    def errors(n: int) -> list[tuple[int, str]]:
        return [
            (f["start"], f["text"]) for f in records[n]["findings"] if f["severity"] != "warning"
        ]

    assert errors(0) == [(at(emoji, "布署"), "布署")]
    assert errors(1) == []
    assert errors(2) == [(at(control, ","), ","), (at(control, "138"), "13812345678")]
    assert errors(3) == [(at(HTML, ","), ","), (at(HTML, "布署"), "布署")]
    assert (at(lines[4], "138"), "13812345678") in errors(4)


# ------------------------------------------------------------------ the word lists


@pytest.fixture(autouse=True)
def _fresh_contexts() -> Any:
    ctx.forget()
    yield
    ctx.forget()


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", password=None)


def audits() -> list[str]:
    return list(
        AuditEvent.objects.filter(name__startswith="proofread.")
        .order_by("pk")
        .values_list("name", flat=True)
    )


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> Any:
    e = exc.value
    return e.message_dict if hasattr(e, "error_dict") else e.messages


SHORT = "至少 %d 个字：更短的词会在太多地方出现"
SYMBOLS = "没有汉字、字母或数字：只有符号的词条会在太多地方出现"
PATTERN = "：词表按原文逐字匹配，不支持通配符或正则表达式"
NOT_A_NUMBER = "不是电话号码或电子邮箱：号码只能有数字和连字符，至少 5 位"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (EntryInput(Kind.PLACE, "\u3000 \t"), "词语不能为空"),
        (EntryInput(Kind.LEADER, "", "市长"), "词语不能为空"),
        (EntryInput(Kind.FORMULATION, "人大"), "规范提法" + SHORT % 4),
        (EntryInput(Kind.FORMULATION, "一国 两"), "规范提法" + SHORT % 4),
        (EntryInput(Kind.AVOID, "拍", "", "口语"), "禁用词" + SHORT % 2),
        (EntryInput(Kind.AVOID, "的", "", "虚词"), "禁用词" + SHORT % 2),
        (EntryInput(Kind.MISUSED, "布", "部"), "易错词" + SHORT % 2),
        (EntryInput(Kind.PLACE, "杭"), "地名" + SHORT % 2),
        (EntryInput(Kind.LEADER, "张", "市长"), "领导姓名职务" + SHORT % 2),
        (EntryInput(Kind.AVOID, "我们", "", "代词"), "「我们」是常用虚词，几乎每段文字都有，不能作为禁用词"),
        (EntryInput(Kind.MISUSED, "的是", "是"), "「的是」是常用虚词，几乎每段文字都有，不能作为易错词"),
        (EntryInput(Kind.PLACE, "这里"), "「这里」是常用虚词，几乎每段文字都有，不能作为地名"),
        (EntryInput(Kind.LEADER, "我们", "市长"), "「我们」是常用虚词，几乎每段文字都有，不能作为领导姓名职务"),
        (EntryInput(Kind.FORMULATION, "这是我们的"), "「这是我们的」是常用虚词，几乎每段文字都有，不能作为规范提法"),
        (EntryInput(Kind.AVOID, "……", "", "省略"), "「……」" + SYMBOLS),
        (EntryInput(Kind.PLACE, "，。"), "「，。」" + SYMBOLS),
        (EntryInput(Kind.AVOID, "😀😀", "", "表情"), "「😀😀」" + SYMBOLS),
        (EntryInput(Kind.AVOID, "拍.*", "", "通配"), "「拍.*」含有「.*」" + PATTERN),
        (EntryInput(Kind.MISUSED, "[0-9]+号", "号"), "「[0-9]+号」含有「[」" + PATTERN),
        (EntryInput(Kind.FORMULATION, "^人民代表大会$"), "「^人民代表大会$」含有「^」" + PATTERN),
        (EntryInput(Kind.PLACE, "西湖区|拱墅区"), "「西湖区|拱墅区」含有「|」" + PATTERN),
        (EntryInput(Kind.PUBLIC_NUMBER, "110", "报警"), "「110」" + NOT_A_NUMBER),
        (EntryInput(Kind.PUBLIC_NUMBER, "1234", "热线"), "「1234」" + NOT_A_NUMBER),
        (EntryInput(Kind.PUBLIC_NUMBER, "office@", "邮箱"), "「office@」" + NOT_A_NUMBER),
        (EntryInput(Kind.PUBLIC_NUMBER, "--", "热线"), "「--」" + NOT_A_NUMBER),
    ],
)  # fmt: skip
def test_an_entry_that_would_match_everywhere_is_refused_naming_the_rule(
    account: Account, account_admin: Any, data: EntryInput, error: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.add_entry(account, data, actor=account_admin)
    assert messages(exc)["text"] == [error]
    with pytest.raises(ValidationError) as exc:
        svc.clean_entry(account, data)
    assert messages(exc)["text"] == [error]
    assert not ProofEntry.objects.exists() and audits() == []


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        (EntryInput(Kind.FORMULATION, "一国两制"), "一国两制"),
        (EntryInput(Kind.PLACE, "和平区"), "和平区"),  # 和 alone is a function word
        (EntryInput(Kind.LEADER, "于一", "局长"), "于一"),  # a name of two such characters
        (EntryInput(Kind.AVOID, "的确是最好", "", "绝对化"), "的确是最好"),
        (EntryInput(Kind.PUBLIC_NUMBER, "12345", "政务服务热线"), "12345"),
        (EntryInput(Kind.PUBLIC_NUMBER, "０５７１－８７６５ ４３２１", "总机"), "0571-87654321"),
        (EntryInput(Kind.PUBLIC_NUMBER, " Office@Example.gov.cn ", "邮箱"), "Office@Example.gov.cn"),
    ],
)  # fmt: skip
def test_an_entry_just_long_enough_is_kept(
    account: Account, account_admin: Any, data: EntryInput, stored: str
) -> None:
    assert svc.add_entry(account, data, actor=account_admin).text == stored


def test_a_duplicate_by_spaces_width_or_case_is_refused(
    account: Account, account_admin: Any, root: Any
) -> None:
    add = svc.add_entry
    add(account, EntryInput(Kind.AVOID, "拍脑袋", "", "口语"), actor=account_admin)
    add(account, EntryInput(Kind.LEADER, "张三", "市长"), actor=account_admin)
    add(account, EntryInput(Kind.FORMULATION, "ABC行动计划"), actor=account_admin)
    add(account, EntryInput(Kind.PUBLIC_NUMBER, "0571-87654321", "总机"), actor=account_admin)
    add(None, EntryInput(Kind.PLACE, "西湖区"), actor=root)
    refused = [
        (EntryInput(Kind.AVOID, "  拍脑袋\u3000", "", "又一次"), "禁用词「拍脑袋」已在词表中"),
        (EntryInput(Kind.LEADER, "张 三", "副市长"),
         "领导姓名职务「张三」已在词表中（与「张 三」只差空格、全角半角或大小写）"),
        (EntryInput(Kind.FORMULATION, "ＡＢＣ行动计划"),
         "规范提法「ABC行动计划」已在词表中（与「ＡＢＣ行动计划」只差空格、全角半角或大小写）"),
        (EntryInput(Kind.FORMULATION, "abc行动计划"),
         "规范提法「ABC行动计划」已在词表中（与「abc行动计划」只差空格、全角半角或大小写）"),
        (EntryInput(Kind.PUBLIC_NUMBER, "０５７１-８７６５４３２１", "总机"),
         "公开号码「0571-87654321」已在词表中"),
        (EntryInput(Kind.PLACE, " 西湖区 "), "全平台词表已有地名「西湖区」"),
    ]  # fmt: skip
    for data, error in refused:
        with pytest.raises(ValidationError) as exc:
            add(account, data, actor=account_admin)
        assert messages(exc) == {"text": [error]}, data
    assert ProofEntry.objects.count() == 5
    assert audits() == ["proofread.entry_added"] * 5
    # the same words as another kind are no duplicate
    add(account, EntryInput(Kind.PLACE, "ABC行动计划"), actor=account_admin)


def test_an_import_names_each_bad_line_and_adds_nothing(account: Account, reviewer: Any) -> None:
    svc.add_entry(account, EntryInput(Kind.AVOID, "拍脑袋", "", "口语"), actor=reviewer)
    pasted = "\n".join([
        "走过场||形式主义",  # 1: fine
        "的||虚词",  # 2: one character
        "我们||代词",  # 3: a function word
        "拍.*||通配",  # 4: a pattern
        "……||符号",  # 5: marks only
        " 走过场 ||又一次",  # 6: line 1 again
        "Ａpp推广||英文",  # 7: fine
        "app推广||又一次",  # 8: line 7 again, by width and case
        "拍 脑袋||已有",  # 9: in the list already
        "   ||",  # 10: an empty word
        "一刀切||简单化",  # 11: fine
    ])  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        svc.import_entries(account, Kind.AVOID, pasted, actor=reviewer)
    assert messages(exc) == [
        "第 2 行：禁用词" + SHORT % 2,
        "第 3 行：「我们」是常用虚词，几乎每段文字都有，不能作为禁用词",
        "第 4 行：「拍.*」含有「.*」" + PATTERN,
        "第 5 行：「……」" + SYMBOLS,
        "第 6 行：「走过场」与第 1 行重复",
        "第 8 行：「app推广」与第 7 行重复",
        "第 10 行：词语不能为空",
        "第 10 行：禁用词须说明理由",
        "第 9 行：禁用词「拍脑袋」已在词表中（与「拍 脑袋」只差空格、全角半角或大小写）",
    ]
    assert list(ProofEntry.objects.values_list("text", flat=True)) == ["拍脑袋"]
    assert audits() == ["proofread.entry_added"]


def test_an_import_of_numbers_refuses_short_ones_and_the_same_number_twice(
    account: Account, reviewer: Any
) -> None:
    pasted = "12345|热线\n110|报警\n０５７１－８７６５４３２１|总机\n0571-87654321|又一次"
    with pytest.raises(ValidationError) as exc:
        svc.import_entries(account, Kind.PUBLIC_NUMBER, pasted, actor=reviewer)
    assert messages(exc) == [
        "第 2 行：「110」" + NOT_A_NUMBER,
        "第 4 行：「0571-87654321」与第 3 行重复",
    ]
    assert not ProofEntry.objects.exists() and audits() == []
    made = svc.import_entries(
        account, Kind.PUBLIC_NUMBER, "12345|热线\n０５７１－８７６５４３２１|总机", actor=reviewer
    )
    assert [e.text for e in made] == ["12345", "0571-87654321"]


# ------------------------------------------------------------------ the console page


@pytest.fixture
def admin_client(client: Client, account_admin: Any) -> Client:
    client.force_login(account_admin)
    return client


def section(response: Any, kind: str) -> str:
    return response.content.decode().split(f'id="list-{kind}"')[1].split("</section>")[0]


def test_the_page_refuses_a_too_short_a_function_word_and_a_duplicate_entry(
    admin_client: Client, account: Account
) -> None:
    r = admin_client.post(URL, {"action": "add", "kind": "formulation", "text": "人大"})
    assert r.status_code == 400
    assert "规范提法至少 4 个字：更短的词会在太多地方出现" in section(r, "formulation")
    r = admin_client.post(URL, {"action": "add", "kind": "avoid", "text": "我们", "note": "代词"})
    assert r.status_code == 400
    assert "「我们」是常用虚词，几乎每段文字都有，不能作为禁用词" in section(r, "avoid")
    assert not ProofEntry.objects.exists()
    ProofEntry.objects.create(account=account, kind=Kind.LEADER, text="张三", extra="市长")
    r = admin_client.post(
        URL, {"action": "add", "kind": "leader", "text": "张 三", "extra": "市长"}
    )
    assert r.status_code == 400
    assert "领导姓名职务「张三」已在词表中（与「张 三」只差空格、全角半角或大小写）" in section(
        r, "leader"
    )
    assert ProofEntry.objects.count() == 1 and audits() == []


def test_the_page_names_the_bad_line_of_an_import_and_adds_nothing(admin_client: Client) -> None:
    r = admin_client.post(URL, {"action": "import", "kind": "misused",
                                "lines": "按装|安装\n的|地\n既使|即使"})  # fmt: skip
    assert r.status_code == 400
    assert "第 2 行：易错词至少 2 个字：更短的词会在太多地方出现" in section(r, "misused")
    assert not ProofEntry.objects.exists() and audits() == []
