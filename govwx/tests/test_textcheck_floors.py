"""What the floors use of the text checker (`govwx.lib.textcheck`): a save refused with
every finding named, 「忽略并保存」 dismissing only the errors the page showed, a reply
stopped by a veto and by an error its sender has not seen, personal data masked in what
no one can fix, and dismissals recorded by the app that registered the checker."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from govwx.content.proofread.services import dismiss_finding
from govwx.lib import textcheck
from govwx.lib.textcheck import Dismiss, Flag, Found, TextRefused

ID = "11010519491231002X"


def flag(text: str, start: int, found: str, severity: str, **kw: Any) -> Flag:
    s = text.index(found, start)
    return Flag(s, s + len(found), found, kw.pop("family", "x"), severity, kw.pop("message", "m"),
                key=f"k:{found}", **kw)  # fmt: skip


def fake(text: str, dismissed: frozenset[str] = frozenset()) -> list[Flag]:
    """A checker: 「身份证」 numbers are vetoes, a half-width comma an error, 「—」 a
    warning; `dismissed` the keys dismissed in every text."""
    found = []
    if ID in text:
        found.append(flag(text, 0, ID, "veto", family="personal_data", message="含有身份证号码",
                          suggestion="110105********002X", rule="personal_data.id_card"))  # fmt: skip
    if "," in text:
        f = flag(text, 0, ",", "error", message="半角逗号", suggestion="，", rule="comma")
        found.append(Flag(**{**f.__dict__, "dismissed": f.key in dismissed}))
    if "—" in text:
        found.append(flag(text, 0, "—", "warning", message="破折号", rule="dash"))
    return found


@pytest.fixture
def checker() -> Any:
    """The fake checker and a dismisser that remembers what it was asked."""
    dismissed: set[str] = set()
    asked: list[tuple[Any, str, str, str, Any]] = []

    def check(account: Any, text: str, where: str) -> list[Flag]:
        return fake(text, frozenset(dismissed))

    def dismisser(account: Any, finding: Any, text: str, reason: str, /, *, actor: Any) -> None:
        if actor == "operator":
            raise PermissionDenied("没有权限")
        asked.append((account, finding.key, text, reason, actor))
        dismissed.add(finding.key)

    before = textcheck.register(check), textcheck.register_dismisser(dismisser)
    yield asked
    textcheck.register(before[0])
    textcheck.register_dismisser(before[1])


def test_a_save_is_refused_with_every_finding_named(checker: Any) -> None:
    texts = [("回复 1", f"身份证{ID}"), ("回复 2", "您好,请留言"), ("回复 3", "政务服务—户籍")]
    with pytest.raises(TextRefused) as exc:
        textcheck.require_clean("acct", texts, "reply_rule")
    assert exc.value.messages == [
        f"【否决】回复 1：含有身份证号码：「{ID}」，建议：110105********002X",
        "【错误】回复 2：半角逗号：「,」，建议：，",
    ]
    assert (exc.value.vetoed, exc.value.dismissable, exc.value.keys) == (True, False, ["k:,"])
    assert isinstance(exc.value, ValidationError)


def test_warnings_do_not_block_and_are_returned(checker: Any) -> None:
    (warning,) = textcheck.require_clean("acct", [("回复", "政务服务—户籍")], "reply_rule")
    assert str(warning) == "【提示】回复：破折号：「—」"


def test_dismissing_the_errors_shown_lets_the_save_through(checker: Any) -> None:
    texts = [("回复", "您好,请留言")]
    with pytest.raises(TextRefused) as exc:
        textcheck.require_clean("acct", texts, "reply_rule")
    assert exc.value.dismissable
    shown = Dismiss(frozenset(exc.value.keys), "引用原文")
    assert textcheck.require_clean("acct", texts, "reply_rule", dismissing=shown, actor="rev") == []
    assert checker == [("acct", "k:,", "您好,请留言", "引用原文", "rev")]
    assert textcheck.require_clean("acct", texts, "reply_rule") == []  # dismissed now


def test_a_dismissal_never_reaches_a_veto_or_an_error_not_shown(checker: Any) -> None:
    with_veto = [("回复", f"您好,身份证{ID}")]
    with pytest.raises(TextRefused) as exc:
        textcheck.require_clean("acct", with_veto, "reply_rule",
                                dismissing=Dismiss(frozenset({"k:,"}), "理由"), actor="rev")  # fmt: skip
    assert exc.value.vetoed
    with pytest.raises(TextRefused):
        textcheck.require_clean("acct", [("回复", "您好,请留言")], "reply_rule",
                                dismissing=Dismiss(frozenset({"k:other"}), "理由"), actor="rev")  # fmt: skip
    assert checker == []


def test_a_dismissal_without_a_reason_or_the_permission_is_refused_on_the_panel(
    checker: Any,
) -> None:
    texts = [("回复", "您好,请留言")]
    with pytest.raises(TextRefused) as exc:
        textcheck.require_clean("acct", texts, "reply_rule",
                                dismissing=Dismiss(frozenset({"k:,"}), ""), actor="rev")  # fmt: skip
    assert exc.value.extra == ["请填写忽略的理由"]
    with pytest.raises(TextRefused) as exc:
        textcheck.require_clean("acct", texts, "reply_rule",
                                dismissing=Dismiss(frozenset({"k:,"}), "理由"), actor="operator")  # fmt: skip
    assert exc.value.extra == ["您没有忽略校对提示的权限（proofread.dismiss）"]
    assert checker == []


def test_a_reply_is_stopped_by_a_veto_whatever_was_confirmed(checker: Any) -> None:
    with pytest.raises(TextRefused) as exc:
        textcheck.unconfirmed("acct", [("答复", f"您好,身份证{ID}")], "case_reply", {"k:,"})
    assert [f.flag.severity for f in exc.value.blocking] == ["veto"]


def test_a_reply_with_an_error_goes_once_its_sender_has_seen_it(checker: Any) -> None:
    texts = [("答复", "您好,已处理")]
    with pytest.raises(TextRefused) as exc:
        textcheck.unconfirmed("acct", texts, "case_reply", ())
    (sent,) = textcheck.unconfirmed("acct", texts, "case_reply", set(exc.value.keys))
    assert sent.key == "k:,"
    assert textcheck.unconfirmed("acct", [("答复", "已处理")], "case_reply", ()) == []


def test_masked_replaces_each_veto_by_its_suggestion(checker: Any) -> None:
    assert textcheck.masked("acct", f"我的身份证{ID}丢了,—", "case_reply") == (
        "我的身份证110105********002X丢了,—"
    )


def test_a_text_given_twice_is_checked_once(checker: Any) -> None:
    calls: list[str] = []

    def counting(account: Any, text: str, where: str) -> list[Flag]:
        calls.append(text)
        return fake(text)

    textcheck.register(counting)
    blocking, _warnings = textcheck.review("acct", [("a", "您好,"), ("b", "您好,")], "menu")
    assert ([f.label for f in blocking], calls) == (["a", "b"], ["您好,"])


def test_dismiss_refuses_a_veto_and_a_failed_check_before_asking_anyone(checker: Any) -> None:
    veto = fake(f"身份证{ID}")[0]
    failed = Flag(0, 0, "", "", "error", "m", rule=textcheck.FAILED_RULE)
    with pytest.raises(ValidationError):
        textcheck.dismiss("acct", veto, f"身份证{ID}", "理由", actor="rev")
    with pytest.raises(ValidationError):
        textcheck.dismiss("acct", failed, "x", "理由", actor="rev")
    assert not Found("l", "x", failed).dismissable
    assert checker == []


def test_nothing_records_dismissals_when_nothing_registered(checker: Any) -> None:
    textcheck.register_dismisser(None)
    with pytest.raises(ValidationError):
        textcheck.dismiss("acct", fake("a,b")[0], "a,b", "理由", actor="rev")


def test_the_content_app_registers_its_dismissals() -> None:
    assert textcheck.registered_dismisser() is dismiss_finding
