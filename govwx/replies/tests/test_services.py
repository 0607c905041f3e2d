"""Rule services: validation, writes and the rule-set JSON format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from govwx.accounts.models import Account, AuditEvent
from govwx.replies.models import Keyword, Reply, Rule
from govwx.replies.services import (
    KeywordInput,
    ReplyInput,
    RuleInput,
    create_rule,
    delete_rule,
    export_ruleset,
    import_ruleset,
    load_ruleset,
    set_trigger_replies,
    update_rule,
)

pytestmark = pytest.mark.django_db
BENCH_LIKE = {
    "k": 3,
    "token": "t",
    "aes_key": "k",
    "appid": "wx",
    "account": "gh",
    "welcome": "欢迎关注",
    "menu": {"MENU_GUIDE": "办事指南", "MENU_HOTLINE": "12345"},
    "rules": [
        {"id": 2, "mode": "contains", "keywords": ["社保", "社保卡"], "reply": "社保答复[R2]"},
        {"id": 1, "mode": "exact", "keywords": ["你好"], "reply": "你好答复[R1]"},
        {"id": 3, "mode": "contains", "keywords": ["江北区社保"], "reply": "江北答复[R3]"},
    ],
    "expected_rule": [],
    "expected_reply": [],
}


def text(s: str) -> list[ReplyInput]:
    return [ReplyInput("text", {"content": s})]


def test_create_update_delete_bump_the_version_and_audit(account: Account) -> None:
    v0 = account.rules_version
    rule = create_rule(
        account, RuleInput(" 社保 ", [KeywordInput("社保 "), KeywordInput("社保")], text("答复"))
    )
    assert rule.name == "社保" and list(rule.keywords.values_list("text", flat=True)) == ["社保"]
    update_rule(rule, RuleInput("社保卡", [KeywordInput("社保卡", "exact")], text("新答复")))
    assert Keyword.objects.get(rule=rule).match == "exact"
    delete_rule(rule)
    account.refresh_from_db()
    assert account.rules_version == v0 + 3
    assert list(
        AuditEvent.objects.filter(account=account).values_list("name", flat=True).order_by("id")
    )[-3:] == ["rule.created", "rule.updated", "rule.deleted"]
    assert not Rule.objects.exists() and not Reply.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (RuleInput("", [KeywordInput("a")], text("x")), "name"),
        (RuleInput("n", [], text("x")), "keywords"),
        (RuleInput("n", [KeywordInput("  ")], text("x")), "keywords"),
        (RuleInput("n", [KeywordInput("(", "regex")], text("x")), "keywords"),
        (RuleInput("n", [KeywordInput("a", "fuzzy")], text("x")), "keywords"),
        (RuleInput("n", [KeywordInput(str(i)) for i in range(11)], text("x")), "keywords"),
        (RuleInput("n", [KeywordInput("a")], []), "replies"),
        (RuleInput("n", [KeywordInput("a")], text("")), "replies"),
        (RuleInput("n", [KeywordInput("a")], text("长" * 700)), "replies"),
        (RuleInput("n", [KeywordInput("a")], text("x") * 6), "replies"),
        (RuleInput("n", [KeywordInput("a")], [ReplyInput("news", {"articles": []})]), "replies"),
        (
            RuleInput(
                "n",
                [KeywordInput("a")],
                [ReplyInput("news", {"articles": [{"title": "t", "url": "javascript:x"}]})],
            ),
            "replies",
        ),
        (RuleInput("n", [KeywordInput("a")], [ReplyInput("image", {})]), "replies"),
        (RuleInput("n", [KeywordInput("a")], [ReplyInput("sticker", {})]), "replies"),
        (RuleInput("n", [KeywordInput("a")], text("x"), reply_mode="some"), "reply_mode"),
        (RuleInput("n", [KeywordInput("a")], text("x"), priority=-1), "priority"),
    ],
)
def test_bad_rules_are_refused_and_nothing_changes(
    account: Account, data: RuleInput, field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        create_rule(account, data)
    assert field in exc.value.message_dict
    assert not Rule.objects.exists() and not Keyword.objects.exists()
    account.refresh_from_db()
    assert account.rules_version == 1


def test_import_reads_the_bench_format_and_replaces_atomically(account: Account) -> None:
    create_rule(account, RuleInput("旧规则", [KeywordInput("旧")], text("旧答复")))
    assert import_ruleset(account, BENCH_LIKE) == 3
    assert set(Rule.objects.values_list("priority", flat=True)) == {1, 2, 3}
    rs = load_ruleset(account.pk, 0)
    assert rs.matcher.match("江北区社保查询").replies[0].data["content"] == "社保答复[R2]"
    assert rs.matcher.match("你好").replies[0].data["content"] == "你好答复[R1]"
    assert rs.matcher.match("旧") is None
    assert rs.follow[0].data["content"] == "欢迎关注"
    assert rs.click["MENU_HOTLINE"][0].data["content"] == "12345"
    assert rs.default == ()


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"rules": "x"},
        {"rules": [{"id": 1, "keywords": [], "reply": "x"}]},
        {"rules": [{"id": 1, "keywords": ["a"], "reply": ""}]},
        {
            "rules": [
                {"id": 1, "keywords": ["a"], "reply": "x"},
                {"id": 1, "keywords": ["b"], "reply": "y"},
            ]
        },
        {"rules": [{"id": "one", "keywords": ["a"], "reply": "x"}]},
        {"rules": [{"id": 1, "mode": "regex", "keywords": ["("], "reply": "x"}]},
        {"welcome": 5, "rules": []},
        {"menu": ["x"], "rules": []},
    ],
)
def test_a_bad_file_changes_nothing(account: Account, doc: Any) -> None:
    create_rule(account, RuleInput("保留", [KeywordInput("保留")], text("保留答复")))
    with pytest.raises(ValidationError):
        import_ruleset(account, doc)
    assert list(Rule.objects.values_list("name", flat=True)) == ["保留"]


def test_export_round_trips(account: Account) -> None:
    import_ruleset(account, BENCH_LIKE)
    create_rule(
        account,
        RuleInput(
            "混合",
            [KeywordInput("a", "exact"), KeywordInput("b.*", "regex")],
            text("一") + [ReplyInput("image", {"media_id": "M"})],
            priority=9,
            reply_mode="all",
        ),
    )
    set_trigger_replies(account, Reply.Trigger.DEFAULT, text("默认"))
    doc = export_ruleset(account)
    assert doc["welcome"] == "欢迎关注" and doc["default"] == "默认"
    assert doc["menu"] == {"MENU_GUIDE": "办事指南", "MENU_HOTLINE": "12345"}
    assert doc["rules"][0] == {
        "id": 1,
        "name": "规则 1",
        "mode": "exact",
        "keywords": ["你好"],
        "reply": "你好答复[R1]",
        "reply_mode": "random",
    }
    again = json.loads(json.dumps(doc, ensure_ascii=False))
    import_ruleset(account, again)
    assert export_ruleset(account) == doc


def test_trigger_replies_validate_their_key(account: Account) -> None:
    with pytest.raises(ValidationError):
        set_trigger_replies(account, Reply.Trigger.CLICK, text("x"), click_key="")
    with pytest.raises(ValidationError):
        set_trigger_replies(account, Reply.Trigger.CLICK, text("x"), click_key="k" * 129)
    set_trigger_replies(account, Reply.Trigger.FOLLOW, text("欢迎"))
    set_trigger_replies(account, Reply.Trigger.FOLLOW, [])
    assert not Reply.objects.exists()


def test_the_demo_rule_set_is_valid() -> None:
    path = Path(__file__).resolve().parents[2] / "console" / "demo" / "ruleset.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    from govwx.replies.services import parse_ruleset

    rules, triggers = parse_ruleset(doc)
    assert len(rules) >= 20 and triggers["follow"] and triggers["default"]


def test_trigger_changes_are_saved_together_or_not_at_all(account: Account) -> None:
    from govwx.replies.services import TriggerChange, save_trigger_replies

    v = Account.objects.get(pk=account.pk).rules_version
    save_trigger_replies(
        account,
        [
            TriggerChange("follow", text("欢迎")),
            TriggerChange("click", text("指南"), "MENU_GUIDE"),
        ],
    )
    assert Account.objects.get(pk=account.pk).rules_version == v + 1
    with pytest.raises(ValidationError) as exc:
        save_trigger_replies(
            account,
            [
                TriggerChange("default", text("收到"), field="default"),
                TriggerChange("click", text("x"), "", field="click_key_0"),
                TriggerChange("follow", text("长" * 700), field="follow"),
            ],
        )
    assert set(exc.value.message_dict) == {"click_key_0", "follow"}
    assert sorted(Reply.objects.values_list("trigger", flat=True)) == ["click", "follow"]
    assert Account.objects.get(pk=account.pk).rules_version == v + 1
