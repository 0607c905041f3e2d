"""The personal data family: identity card, mobile, landline, bank card, e-mail and
licence plate numbers are vetoes, unless the account publishes them on purpose."""

from __future__ import annotations

import pytest

from govwx.content.proofread import VETO, Context
from govwx.content.proofread.personal import luhn, valid_id

from .proofread_texts import CLEAN_PARAGRAPHS, CONTEXT, run, spans

NOTHING_PUBLIC = Context()


def personal(text: str, context: Context = NOTHING_PUBLIC) -> list[tuple[str, str, str]]:
    return spans(run("personal_data", text, context))


def test_an_identity_card_number_with_a_valid_check_character_is_a_veto() -> None:
    found = run("personal_data", "申请人张三，身份证号610103198506123011，住址示例路1号。")
    assert spans(found) == [("610103198506123011", "610103********3011", VETO)]
    assert found[0].message == "含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）"
    assert found[0].rule == "personal_data.id_card"
    assert personal("证号11010519491231002X。") == [
        ("11010519491231002X", "110105********002X", VETO)
    ]
    assert personal("老证号610103850612301。") == [("610103850612301", "610103*****2301", VETO)]


@pytest.mark.parametrize(
    "number",
    [
        "610103198506123012",  # wrong check character
        "320502199913010015",  # month 13
        "990103198506123011",  # no such province code
        "610103850632301",  # old form, day 32
    ],
)
def test_numbers_that_are_no_identity_card_are_not_reported_as_one(number: str) -> None:
    assert not valid_id(number)
    assert [f.rule for f in run("personal_data", f"编号{number}。", Context())] != [
        "personal_data.id_card"
    ]


def test_mobile_numbers_are_vetoes_masked_in_the_middle() -> None:
    text = "联系人手机13812345678，备用+86 139-8765-4321，或158 0000 1111。"
    assert personal(text) == [
        ("13812345678", "138****5678", VETO),
        ("+86 139-8765-4321", "139****4321", VETO),
        ("158 0000 1111", "158****1111", VETO),
    ]


def test_a_mobile_number_inside_a_longer_run_of_digits_is_none() -> None:
    assert personal("订单号2138123456789。") == []
    assert personal("编号12812345678。") == []


def test_landlines_with_their_area_code_are_vetoes() -> None:
    found = run("personal_data", "家中电话0571-88123456，单位（010）62345678转分机。")
    assert spans(found) == [
        ("0571-88123456", "0571-****3456", VETO),
        ("（010）62345678", "010-****5678", VETO),
    ]
    assert found[0].rule == "personal_data.landline"


def test_bank_card_numbers_passing_luhn_are_vetoes() -> None:
    assert luhn("6222020200112233446")
    found = run("personal_data", "请汇入6222020200112233446或6217 0012 3456 7893。")
    assert spans(found) == [
        ("6222020200112233446", "***************3446", VETO),
        ("6217 0012 3456 7893", "************7893", VETO),
    ]
    assert found[0].message == "含有银行卡号，发布前应删除或遮盖（《个人信息保护法》）"
    # failing Luhn: a serial number, not a card
    assert personal("流水号6222020200112233447。") == []


def test_email_addresses_are_vetoes() -> None:
    assert personal("来信请寄zhang.san@example.com。") == [
        ("zhang.san@example.com", "z***@example.com", VETO)
    ]


def test_licence_plates_are_vetoes() -> None:
    found = run("personal_data", "车牌陕A12345的车辆，和新能源车陕AD12345、京N·8B123。")
    assert spans(found) == [
        ("陕A12345", "陕A***45", VETO),
        ("陕AD12345", "陕A****45", VETO),
        ("京N·8B123", "京N***23", VETO),
    ]
    assert found[0].message == "含有车牌号码，发布前应删除或遮盖（《个人信息保护法》）"


def test_words_that_look_like_plates_are_none() -> None:
    assert personal("在京A股上市，陕ABCDE路段，粤B1号。") == []


def test_public_numbers_of_the_account_are_left_alone() -> None:
    context = Context(
        public_numbers=("12345", "0571-88001234", "13800000000", "Office@Example.gov.cn")
    )
    text = "市民热线12345，办公电话0571-88001234或（0571）88001234，值班手机138 0000 0000，邮箱office@example.gov.cn。"
    assert personal(text, context) == []
    # the same number listed without its area code
    assert personal("办公电话0571-88001234。", Context(public_numbers=("88001234",))) == []
    # another office's number is still reported
    assert personal("办公电话0571-88001235。", context) == [
        ("0571-88001235", "0571-****1235", VETO)
    ]


def test_clean_government_paragraphs_have_no_personal_data() -> None:
    for paragraph in CLEAN_PARAGRAPHS:
        assert run("personal_data", paragraph, CONTEXT) == []
