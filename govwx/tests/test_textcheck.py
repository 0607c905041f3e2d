"""The text checker every floor reaches (`govwx.lib.textcheck`): nothing registered finds
nothing; what blocks is a veto or an error not dismissed; a checker that fails is an
error, never a pass; and the checker `content` registers reads the account's word lists
and the dismissals of the very text."""

from __future__ import annotations

from typing import Any

import pytest

from govwx.accounts.models import Account, Membership
from govwx.content.models import ProofEntry
from govwx.content.proofread import AVOID, ERROR, Context, Finding
from govwx.content.proofread import context as ctx
from govwx.content.proofread import families as _families  # noqa: F401  (registered before a test replaces them)
from govwx.content.proofread.services import EntryInput, add_entry, dismiss_finding, text_flags
from govwx.lib import textcheck
from govwx.lib.textcheck import Flag


@pytest.fixture
def restore() -> Any:
    """Each test may register its own checker: the app's comes back after."""
    before = textcheck.registered()
    yield
    textcheck.register(before)


def flag(severity: str, dismissed: bool = False, text: str = "x") -> Flag:
    return Flag(0, 1, text, "avoid", severity, "m", dismissed=dismissed)


def test_nothing_registered_finds_nothing(restore: Any) -> None:
    textcheck.register(None)
    assert textcheck.findings(None, "随便什么文字", "reply_rule") == []
    assert textcheck.blocking(None, "随便什么文字", "reply_rule") == []


def test_the_registered_checker_is_called_with_what_and_where(restore: Any) -> None:
    seen: list[tuple[Any, str, str]] = []

    def checker(account: Any, text: str, where: str) -> list[Flag]:
        seen.append((account, text, where))
        return [flag("warning")]

    textcheck.register(checker)
    assert textcheck.findings("acct", "正文", "menu") == [flag("warning")]
    assert textcheck.findings("acct", "", "menu") == []  # no text: not asked
    assert seen == [("acct", "正文", "menu")]


def test_a_veto_and_an_undismissed_error_block(restore: Any) -> None:
    found = [flag("veto", text="a"), flag("error", text="b"), flag("error", True, text="c"),
             flag("warning", text="d"), flag("veto", True, text="e")]  # fmt: skip
    textcheck.register(lambda account, text, where: found)
    assert [f.text for f in textcheck.blocking(None, "t", "guide")] == ["a", "b", "e"]


def test_a_checker_that_fails_is_an_error_that_blocks(restore: Any, caplog: Any) -> None:
    def broken(account: Any, text: str, where: str) -> list[Flag]:
        raise RuntimeError("词表读不出来")

    textcheck.register(broken)
    (found,) = textcheck.blocking(None, "t", "canned_reply")
    assert (found.severity, found.rule, found.message) == (
        "error", "textcheck.failed", "校对检查未能运行：RuntimeError / the text check failed")  # fmt: skip
    assert "text check failed (canned_reply)" in caplog.text


def test_register_returns_the_checker_it_replaces(restore: Any) -> None:
    def first(account: Any, text: str, where: str) -> list[Flag]:
        return []

    textcheck.register(first)
    assert textcheck.register(None) is first
    assert textcheck.registered() is None


def test_the_content_app_registers_its_checker() -> None:
    assert textcheck.registered() is text_flags


# ------------------------------------------------------------------ the real checker


def avoid_words(text: str, context: Context) -> list[Finding]:
    """A family reading the words to avoid from the context, as the real one does."""
    found = []
    for w in context.avoid:
        start = text.find(w.word)
        if start >= 0:
            found.append(Finding(start, start + len(w.word), w.word, AVOID, ERROR,
                                 f"禁用词：{w.reason}", w.suggestion, "avoid.word"))  # fmt: skip
    return found


@pytest.fixture
def reviewer(account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("reviewer")
    Membership.objects.create(user=user, account=account, role=Membership.Role.REVIEWER)
    return user


@pytest.mark.django_db
def test_the_content_checker_reads_the_word_lists_and_the_dismissals(
    account: Account, reviewer: Any, monkeypatch: Any
) -> None:
    ctx.forget()
    monkeypatch.setattr("govwx.content.proofread.FAMILIES", {AVOID: avoid_words})
    text = "这件事不能拍脑袋决定。"
    assert textcheck.findings(account, text, "reply_rule") == []
    add_entry(account, EntryInput(ProofEntry.Kind.AVOID, "拍脑袋", "科学决策", "口语"),
              actor=reviewer)  # fmt: skip
    (found,) = textcheck.blocking(account, text, "reply_rule")
    assert found == Flag(5, 8, "拍脑袋", "avoid", "error", "禁用词：口语", "科学决策",
                         "avoid.word", "avoid:avoid.word:拍脑袋", False)  # fmt: skip
    dismiss_finding(account, found, text, "引用群众原话", actor=reviewer)
    assert textcheck.findings(account, text, "reply_rule")[0].dismissed is True
    assert textcheck.blocking(account, text, "reply_rule") == []
    # the same finding in another text asks again
    assert len(textcheck.blocking(account, "又" + text, "reply_rule")) == 1
    # another account's lists are not this one's
    assert textcheck.findings(None, text, "reply_rule") == []
    ctx.forget()
