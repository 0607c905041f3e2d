"""Auto-reply texts are proofread when saved (`lib.textcheck`), never per message: a
veto refuses the save with the finding named and changes nothing, a warning is shown
after the save, an error an admin dismisses with a reason saves; an imported rule set
with personal data is refused naming the rule, its errors only reported."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from govwx.accounts.models import Account, AuditEvent
from govwx.content.models import Dismissal, ProofEntry
from govwx.content.proofread import context as proofread_context
from govwx.content.proofread.services import EntryInput, add_entry
from govwx.lib import textcheck
from govwx.replies.models import Reply, Rule
from govwx.replies.services import (
    KeywordInput,
    ReplyInput,
    RuleInput,
    create_rule,
    import_ruleset,
    save_trigger_replies,
    update_rule,
)

pytestmark = pytest.mark.django_db

ID = "11010519491231002X"
VETO_TEXT = f"请携带身份证{ID}办理。"
ERROR_TEXT = "您好,请到窗口办理。"  # a half-width comma: an error
WARNING_TEXT = "材料清单见“政务服务—户籍”。"  # a single dash: a warning


@pytest.fixture(autouse=True)
def fresh_context() -> Any:
    proofread_context.forget()
    yield
    proofread_context.forget()


def rule_input(reply: str, name: str = "户籍") -> RuleInput:
    return RuleInput(name, [KeywordInput(name)], [ReplyInput(Reply.Kind.TEXT, {"content": reply})])


def state() -> tuple[Any, ...]:
    return (
        list(Rule.objects.values_list("name", flat=True)),
        list(Reply.objects.values_list("payload", flat=True)),
        list(Account.objects.values_list("rules_version", flat=True)),
        AuditEvent.objects.filter(name__startswith="rule").count(),
    )


def form_data(reply: str, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "户籍", "keywords": "户籍", "reply_mode": "random",
                            "priority": "5", "enabled": "on", "reply_1_kind": "text",
                            "reply_1": reply}  # fmt: skip
    for n in range(2, 6):
        data[f"reply_{n}_kind"] = "text"
    return {**data, **over}


# ------------------------------------------------------------------ services


def test_a_rule_with_an_id_number_is_refused_naming_it_and_nothing_changes(
    account: Account,
) -> None:
    before = state()
    with pytest.raises(textcheck.TextRefused) as exc:
        create_rule(account, rule_input(VETO_TEXT))
    assert exc.value.messages == [
        "【否决】回复：含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）："
        f"「{ID}」，建议：110105********002X"
    ]
    assert state() == before


def test_an_edit_that_adds_an_error_is_refused_and_the_rule_kept(account: Account) -> None:
    rule = create_rule(account, rule_input("请到窗口办理。"))
    before = state()
    with pytest.raises(textcheck.TextRefused) as exc:
        update_rule(rule, rule_input(ERROR_TEXT, name="户籍办理"))
    assert [f.flag.rule for f in exc.value.blocking] == ["punctuation.halfwidth"]
    assert exc.value.dismissable
    assert state() == before


def test_a_warning_does_not_stop_a_save(account: Account) -> None:
    rule = create_rule(account, rule_input(WARNING_TEXT))
    assert rule.replies.get().payload == {"content": WARNING_TEXT}


def test_follow_and_menu_click_replies_are_checked_together(account: Account) -> None:
    changes = [
        textcheck_change("follow", "欢迎关注。"),
        textcheck_change("click", "请拨打 13812345678。", "MENU_HOTLINE"),
    ]
    with pytest.raises(textcheck.TextRefused) as exc:
        save_trigger_replies(account, changes)
    assert [(f.label, f.flag.text) for f in exc.value.blocking] == [
        ("菜单「MENU_HOTLINE」的回复", "13812345678")
    ]
    assert Reply.objects.count() == 0


def textcheck_change(trigger: str, text: str, key: str = "") -> Any:
    from govwx.replies.services import TriggerChange

    return TriggerChange(trigger, [ReplyInput(Reply.Kind.TEXT, {"content": text})], key)


def test_a_public_number_of_the_account_is_allowed(account: Account, account_admin: Any) -> None:
    add_entry(account, EntryInput(ProofEntry.Kind.PUBLIC_NUMBER, "0571-87654321", "服务热线"),
              actor=account_admin)  # fmt: skip
    rule = create_rule(account, rule_input("咨询电话 0571-87654321。"))
    assert rule.replies.get().payload == {"content": "咨询电话 0571-87654321。"}


# ------------------------------------------------------------------ pages


def test_the_page_names_the_veto_and_offers_no_dismissal(
    client: Client, account: Account, account_admin: Any
) -> None:
    client.force_login(account_admin)
    before = state()
    r = client.post("/rules/new/", form_data(VETO_TEXT))
    assert r.status_code == 200
    page = r.content.decode()
    assert f"含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）：「{ID}」" in page
    assert 'id="textcheck-veto"' in page and 'id="textcheck-dismiss"' not in page
    assert state() == before


def test_an_operator_sees_the_error_and_no_dismissal(
    client: Client, account: Account, operator: Any
) -> None:
    client.force_login(operator)
    r = client.post("/rules/new/", form_data(ERROR_TEXT))
    page = r.content.decode()
    assert (
        "【错误】回复：中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）：「,」，建议：，"
        in page
    )
    assert 'id="textcheck-ask"' in page and 'id="textcheck-dismiss"' not in page
    assert Rule.objects.count() == 0


def test_an_admin_dismisses_the_error_with_a_reason_and_the_rule_is_saved(
    client: Client, account: Account, account_admin: Any
) -> None:
    client.force_login(account_admin)
    r = client.post("/rules/new/", form_data(ERROR_TEXT))
    assert 'id="textcheck-dismiss"' in r.content.decode()
    key = r.context["refused"].keys
    # without a reason: refused again, nothing dismissed or saved
    r = client.post("/rules/new/", form_data(ERROR_TEXT, textcheck_dismiss="1", textcheck_key=key))
    assert "请填写忽略的理由" in r.content.decode()
    assert (Rule.objects.count(), Dismissal.objects.count()) == (0, 0)
    r = client.post(
        "/rules/new/",
        form_data(ERROR_TEXT, textcheck_dismiss="1", textcheck_key=key,
                  textcheck_reason="窗口名称按原文"),
    )  # fmt: skip
    assert r.status_code == 302
    assert Rule.objects.get().replies.get().payload == {"content": ERROR_TEXT}
    d = Dismissal.objects.get()
    assert (d.found, d.reason, d.by) == (",", "窗口名称按原文", account_admin)
    assert AuditEvent.objects.filter(name="proofread.dismissed").count() == 1


def test_a_dismissal_posted_for_another_text_does_not_save_this_one(
    client: Client, account: Account, account_admin: Any
) -> None:
    client.force_login(account_admin)
    r = client.post(
        "/rules/new/",
        form_data(VETO_TEXT + ERROR_TEXT, textcheck_dismiss="1",
                  textcheck_key=["punctuation:punctuation.halfwidth:,"], textcheck_reason="理由"),
    )  # fmt: skip
    assert r.status_code == 200 and 'id="textcheck-veto"' in r.content.decode()
    assert (Rule.objects.count(), Dismissal.objects.count()) == (0, 0)


def test_a_warning_is_shown_after_the_save(
    client: Client, account: Account, account_admin: Any
) -> None:
    client.force_login(account_admin)
    r = client.post("/rules/new/", form_data(WARNING_TEXT), follow=True)
    assert [str(m) for m in r.context["messages"]] == [
        "已创建规则“户籍”",
        "已保存，校对提示：【提示】回复：作破折号时应为「——」（两个「—」）；作连接号（如北京—上海）"
        "可保留（GB/T 15834-2011）：「—」，建议：——",
    ]
    assert Rule.objects.count() == 1


def test_each_save_checks_its_texts_once(
    client: Client, account: Account, account_admin: Any, checker_calls: list[tuple[str, str]]
) -> None:
    client.force_login(account_admin)
    r = client.post("/rules/new/", form_data(WARNING_TEXT), follow=True)
    assert checker_calls == [("reply_rule", WARNING_TEXT)]
    assert [str(m).split("：")[0] for m in r.context["messages"]] == [
        "已创建规则“户籍”",
        "已保存，校对提示",
    ]
    checker_calls.clear()
    rule = Rule.objects.get()
    r = client.post(
        f"/rules/{rule.pk}/edit/", form_data(WARNING_TEXT + "请按时办理。"), follow=True
    )
    assert checker_calls == [("reply_rule", WARNING_TEXT + "请按时办理。")]
    assert [str(m).split("：")[0] for m in r.context["messages"]] == [
        "已保存规则“户籍”",
        "已保存，校对提示",
    ]
    checker_calls.clear()
    r = client.post("/rules/replies/", {"follow": WARNING_TEXT, "default": "", "click_rows": "1",
                                         "click_key_0": "MENU_HOTLINE",
                                         "click_text_0": "请拨打 12345。"}, follow=True)  # fmt: skip
    assert sorted(checker_calls) == [("reply_rule", WARNING_TEXT), ("reply_rule", "请拨打 12345。")]
    assert "已保存，校对提示" in [str(m).split("：")[0] for m in r.context["messages"]]


def test_the_trigger_page_refuses_a_phone_number_in_a_menu_reply(
    client: Client, account: Account, account_admin: Any
) -> None:
    client.force_login(account_admin)
    r = client.post("/rules/replies/", {"follow": "欢迎关注。", "default": "", "click_rows": "1",
                                         "click_key_0": "MENU_HOTLINE",
                                         "click_text_0": "请拨打 13812345678。"})  # fmt: skip
    assert "【否决】菜单「MENU_HOTLINE」的回复：含有手机号码" in r.content.decode()
    assert Reply.objects.count() == 0


# ------------------------------------------------------------------ imports


def ruleset(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "welcome": "欢迎关注。",
        "rules": [
            {"id": 1, "name": "问候", "keywords": ["你好"], "reply": "您好。"},
            {"id": 2, "name": "户籍", "keywords": ["户籍"], "reply": VETO_TEXT},
        ],
    }
    return {**doc, **over}


def test_an_import_with_personal_data_is_refused_naming_the_rule(account: Account) -> None:
    create_rule(account, rule_input("请到窗口办理。"))
    before = state()
    with pytest.raises(textcheck.TextRefused) as exc:
        import_ruleset(account, ruleset())
    assert exc.value.messages == [
        "规则文件含有不能发布的内容，没有导入 / refused:",
        "【否决】第 2 条规则「户籍」· 回复：含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）："
        f"「{ID}」，建议：110105********002X",
    ]
    assert state() == before


def test_an_import_reports_errors_and_warnings_and_imports(account: Account) -> None:
    doc = ruleset(rules=[{"id": 1, "name": "户籍", "keywords": ["户籍"], "reply": ERROR_TEXT},
                         {"id": 2, "name": "材料", "keywords": ["材料"], "reply": WARNING_TEXT}])  # fmt: skip
    notes: list[str] = []
    assert import_ruleset(account, doc, notes=notes) == 2
    assert [n.split("：")[0] for n in notes] == [
        "【错误】第 1 条规则「户籍」· 回复",
        "【提示】第 2 条规则「材料」· 回复",
    ]
    assert AuditEvent.objects.get(name="rules.imported").data["notes"] == 2


def test_the_command_refuses_a_veto_and_prints_the_notes(account: Account, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(ruleset(), ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="第 2 条规则「户籍」· 回复：含有身份证号码"):
        call_command("rules", "import", "--account", account.appid, str(bad))
    assert Rule.objects.count() == 0
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(ruleset(rules=[{"id": 1, "name": "户籍", "keywords": ["户籍"],
                                             "reply": ERROR_TEXT}]), ensure_ascii=False),
                  encoding="utf-8")  # fmt: skip
    out, err = StringIO(), StringIO()
    call_command("rules", "import", "--account", account.appid, str(ok), stdout=out, stderr=err)
    assert out.getvalue().startswith("已导入 1 条规则")
    assert "【错误】第 1 条规则「户籍」· 回复：" in err.getvalue()
