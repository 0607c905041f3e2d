from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from govwx.accounts.models import Account, AuditEvent
from govwx.replies.models import Keyword, Reply, Rule
from govwx.replies.services import (
    KeywordInput,
    ReplyInput,
    RuleInput,
    create_rule,
    set_trigger_replies,
)

pytestmark = pytest.mark.django_db


def text(content: str) -> ReplyInput:
    return ReplyInput(Reply.Kind.TEXT, {"content": content})


def make_rule(
    account: Account,
    name: str = "社保",
    keywords: list[KeywordInput] | None = None,
    replies: list[ReplyInput] | None = None,
    **kw: Any,
) -> Rule:
    return create_rule(
        account,
        RuleInput(
            name=name,
            keywords=keywords or [KeywordInput(name)],
            replies=replies or [text(f"关于{name}的答复")],
            **kw,
        ),
    )


def version(account: Account) -> int:
    return Account.objects.values_list("rules_version", flat=True).get(pk=account.pk)


def form_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "公积金",
        "keywords": "公积金\n=公积金查询\n~^GJJ\\d+$",
        "reply_mode": "all",
        "priority": "5",
        "enabled": "on",
        "reply_1_kind": "text",
        "reply_1": "请登录公积金中心网站",
    }
    for n in range(2, 6):
        data[f"reply_{n}_kind"] = "text"
    data.update(over)
    return data


def snapshot() -> tuple[int, int, int, list[Any]]:
    return (
        Rule.objects.count(),
        Keyword.objects.count(),
        Reply.objects.count(),
        list(Account.objects.order_by("pk").values_list("rules_version", flat=True)),
    )


# ------------------------------------------------------------------ list


def test_list_sends_anonymous_users_to_login(client: Client) -> None:
    r = client.get("/rules/")
    assert r.status_code == 302 and r["Location"] == "/login/?next=/rules/"


def test_list_shows_rules_with_keywords_and_first_reply(
    client: Client, operator: Any, account: Account, django_assert_num_queries: Any
) -> None:
    make_rule(
        account,
        "社保",
        keywords=[KeywordInput("社保"), KeywordInput("养老", "exact")],
        replies=[text("第一条答复"), text("第二条")],
        priority=3,
    )
    for i in range(60):
        make_rule(account, f"规则{i:02d}", priority=10 + i)
    client.force_login(operator)
    # session, user, accounts list, account + membership, count, page, keywords, replies
    with django_assert_num_queries(10):
        r = client.get("/rules/")
    assert r.status_code == 200
    rows = r.context["rows"]
    assert len(rows) == 50
    assert rows[0]["rule"].name == "社保"
    assert [(k.text, k.match) for k in rows[0]["keywords"]] == [
        ("社保", "contains"),
        ("养老", "exact"),
    ]
    assert rows[0]["first_reply"] == "第一条答复"
    body = r.content.decode()
    assert "全匹配" in body and "第一条答复" in body
    with django_assert_num_queries(10):
        r = client.get("/rules/", {"page": 2})
    assert len(r.context["rows"]) == 11


def test_list_searches_names_and_keywords(client: Client, operator: Any, account: Account) -> None:
    make_rule(account, "社保查询", keywords=[KeywordInput("养老金")])
    make_rule(account, "公积金")
    make_rule(account, "天气", keywords=[KeywordInput("下雨")])
    client.force_login(operator)
    names = lambda q: [row["rule"].name for row in client.get("/rules/", {"q": q}).context["rows"]]  # noqa: E731
    assert names("社保") == ["社保查询"]
    assert names("养老") == ["社保查询"]
    assert names("雨") == ["天气"]
    assert names("无此词") == []


def test_list_shows_an_outsider_only_their_own_rules(
    client: Client, outsider: Any, account: Account
) -> None:
    make_rule(account, "机密规则")
    client.force_login(outsider)
    r = client.get("/rules/")
    assert r.status_code == 200
    assert r.context["rows"] == []
    assert "机密规则" not in r.content.decode()


# ------------------------------------------------------------------ create


def test_create_sends_anonymous_users_to_login(client: Client, account: Account) -> None:
    before = snapshot()
    r = client.post("/rules/new/", form_data())
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert snapshot() == before


def test_create_makes_a_rule_and_bumps_the_version(
    client: Client, operator: Any, account: Account
) -> None:
    v = version(account)
    client.force_login(operator)
    assert client.get("/rules/new/").status_code == 200
    r = client.post(
        "/rules/new/",
        form_data(
            reply_2_kind="news",
            reply_2_title="办事指南",
            reply_2_url="https://gov.example/guide",
            reply_2_description="一站式",
            reply_2_pic_url="https://gov.example/p.png",
        ),
    )
    assert r.status_code == 302 and r["Location"] == "/rules/"
    rule = Rule.objects.get(account=account)
    assert (rule.name, rule.priority, rule.reply_mode, rule.enabled) == ("公积金", 5, "all", True)
    assert [(k.text, k.match) for k in rule.keywords.all()] == [
        ("公积金", "contains"),
        ("公积金查询", "exact"),
        ("^GJJ\\d+$", "regex"),
    ]
    assert [(x.kind, x.payload) for x in rule.replies.order_by("position")] == [
        ("text", {"content": "请登录公积金中心网站"}),
        (
            "news",
            {
                "articles": [
                    {
                        "title": "办事指南",
                        "description": "一站式",
                        "pic_url": "https://gov.example/p.png",
                        "url": "https://gov.example/guide",
                    }
                ]
            },
        ),
    ]
    assert version(account) == v + 1
    event = AuditEvent.objects.get(name="rule.created")
    assert event.actor == operator and event.account == account


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"keywords": ""}, "至少需要一个关键词 / at least one keyword is required"),
        ({"keywords": "~[unclosed"}, "正则表达式无效 / invalid regex"),
        ({"reply_1": ""}, "至少需要一条回复 / at least one reply is required"),
        ({"reply_1": "长" * 700}, "回复文字超过 2048 字节 / text reply longer than 2048 bytes"),
        ({"name": ""}, "这个字段是必填项。"),
        ({"priority": "-1"}, "确保该值大于或等于0。"),
        ({"reply_1_kind": "news", "reply_1_title": "无链接"}, "文章链接无效 / invalid article url"),
    ],
)
def test_create_shows_errors_and_changes_nothing(
    client: Client, operator: Any, account: Account, over: dict[str, str], message: str
) -> None:
    client.force_login(operator)
    before = snapshot()
    r = client.post("/rules/new/", form_data(**over))
    assert r.status_code == 200
    assert message in r.content.decode()
    assert snapshot() == before


# ------------------------------------------------------------------ edit


def test_edit_shows_the_rule_in_the_form(client: Client, operator: Any, account: Account) -> None:
    rule = make_rule(
        account,
        "社保",
        keywords=[KeywordInput("社保"), KeywordInput("=号", "exact"), KeywordInput("a.c", "regex")],
    )
    client.force_login(operator)
    r = client.get(f"/rules/{rule.pk}/edit/")
    assert r.status_code == 200
    form = r.context["form"]
    assert form["keywords"].value() == "社保\n==号\n~a.c"
    body = r.content.decode()
    assert 'id="id_reply_1"' in body and "关于社保的答复" in body and 'id="save"' in body


def test_edit_updates_the_rule_and_bumps_the_version(
    client: Client, operator: Any, account: Account
) -> None:
    rule = make_rule(account, "社保")
    v = version(account)
    client.force_login(operator)
    r = client.post(
        f"/rules/{rule.pk}/edit/",
        form_data(name="社保（新）", keywords="=社保卡", reply_1="新答复", enabled=""),
    )
    assert r.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.enabled) == ("社保（新）", False)
    assert [(k.text, k.match) for k in rule.keywords.all()] == [("社保卡", "exact")]
    assert [x.payload["content"] for x in rule.replies.all()] == ["新答复"]
    assert version(account) == v + 1


def test_edit_keeps_replies_the_form_cannot_edit(
    client: Client, operator: Any, account: Account
) -> None:
    rule = make_rule(
        account, "图片", replies=[ReplyInput("image", {"media_id": "MEDIA1"}), text("文字")]
    )
    client.force_login(operator)
    r = client.get(f"/rules/{rule.pk}/edit/")
    data = {k: v for k, v in r.context["form"].initial.items() if v is not None}
    data.update({f"reply_{n}_kind": data.get(f"reply_{n}_kind", "text") for n in range(1, 6)})
    data["enabled"] = "on"
    data["reply_2"] = "改过的文字"
    r = client.post(f"/rules/{rule.pk}/edit/", data)
    assert r.status_code == 302
    assert [(x.kind, x.payload) for x in rule.replies.order_by("position")] == [
        ("image", {"media_id": "MEDIA1"}),
        ("text", {"content": "改过的文字"}),
    ]


def test_edit_shows_errors_and_changes_nothing(
    client: Client, operator: Any, account: Account
) -> None:
    rule = make_rule(account, "社保")
    client.force_login(operator)
    before = snapshot()
    r = client.post(f"/rules/{rule.pk}/edit/", form_data(keywords="~(", reply_1=""))
    assert r.status_code == 200
    body = r.content.decode()
    assert "正则表达式无效" in body and "至少需要一条回复" in body
    assert snapshot() == before
    rule.refresh_from_db()
    assert rule.name == "社保"


def test_edit_is_404_for_an_outsider_and_changes_nothing(
    client: Client, outsider: Any, account: Account
) -> None:
    rule = make_rule(account, "社保")
    client.force_login(outsider)
    before = snapshot()
    assert client.get(f"/rules/{rule.pk}/edit/").status_code == 404
    assert client.post(f"/rules/{rule.pk}/edit/", form_data(name="被改")).status_code == 404
    assert snapshot() == before
    rule.refresh_from_db()
    assert rule.name == "社保"


def test_edit_sends_anonymous_users_to_login(client: Client, account: Account) -> None:
    rule = make_rule(account, "社保")
    before = snapshot()
    r = client.post(f"/rules/{rule.pk}/edit/", form_data(name="被改"))
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert snapshot() == before


# ------------------------------------------------------------------ delete


def test_delete_asks_then_deletes_and_bumps(
    client: Client, operator: Any, account: Account
) -> None:
    rule = make_rule(account, "社保")
    keep = make_rule(account, "保留")
    v = version(account)
    client.force_login(operator)
    r = client.get(f"/rules/{rule.pk}/delete/")
    assert r.status_code == 200 and "确定删除关键词规则“社保”吗" in r.content.decode()
    assert Rule.objects.filter(pk=rule.pk).exists()
    r = client.post(f"/rules/{rule.pk}/delete/")
    assert r.status_code == 302
    assert list(Rule.objects.values_list("pk", flat=True)) == [keep.pk]
    assert Keyword.objects.filter(rule_id=rule.pk).count() == 0
    assert version(account) == v + 1


def test_delete_is_404_for_an_outsider(client: Client, outsider: Any, account: Account) -> None:
    rule = make_rule(account, "社保")
    client.force_login(outsider)
    before = snapshot()
    assert client.post(f"/rules/{rule.pk}/delete/").status_code == 404
    assert snapshot() == before


def test_delete_sends_anonymous_users_to_login(client: Client, account: Account) -> None:
    rule = make_rule(account, "社保")
    before = snapshot()
    r = client.post(f"/rules/{rule.pk}/delete/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert snapshot() == before


# ------------------------------------------------------------------ try


def test_try_names_the_rule_that_answers(client: Client, operator: Any, account: Account) -> None:
    make_rule(account, "兜底", keywords=[KeywordInput("社保")], priority=50)
    winner = make_rule(
        account,
        "社保卡",
        keywords=[KeywordInput("社保卡")],
        priority=1,
        replies=[text("携带身份证办理")],
    )
    make_rule(account, "停用", keywords=[KeywordInput("社保卡")], priority=0, enabled=False)
    client.force_login(operator)
    r = client.get("/rules/try/", {"text": "我的社保卡丢了"})
    assert r.status_code == 200
    assert r.context["result"]["how"] == "rule"
    assert r.context["result"]["rule_pk"] == winner.pk
    assert r.context["result"]["replies"] == ["携带身份证办理"]
    # htmx asks for the fragment only
    r = client.get("/rules/try/", {"text": "社保"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "<html" not in body and "兜底" in body


def test_try_falls_back_to_the_default_reply(
    client: Client, operator: Any, account: Account
) -> None:
    make_rule(account, "社保")
    client.force_login(operator)
    r = client.get("/rules/try/", {"text": "你好"})
    assert r.context["result"] == {"how": "none", "replies": []}
    set_trigger_replies(account, "default", [text("您的留言已收到")])
    r = client.get("/rules/try/", {"text": "你好"})
    assert r.context["result"] == {"how": "default", "replies": ["您的留言已收到"]}
    assert "您的留言已收到" in r.content.decode()


def test_try_uses_only_the_current_accounts_rules(
    client: Client, outsider: Any, account: Account
) -> None:
    make_rule(account, "社保")
    client.force_login(outsider)
    r = client.get("/rules/try/", {"text": "社保"})
    assert r.context["result"]["how"] == "none"


def test_try_sends_anonymous_users_to_login(client: Client) -> None:
    r = client.get("/rules/try/", {"text": "x"})
    assert r.status_code == 302 and r["Location"].startswith("/login/")


# ------------------------------------------------------------------ follow / default / click


def trigger_texts(account: Account) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for r in Reply.objects.filter(account=account, rule__isnull=True).order_by("position"):
        out.setdefault((r.trigger, r.click_key), []).append(r.payload.get("content", r.kind))
    return out


def test_trigger_replies_are_saved(client: Client, operator: Any, account: Account) -> None:
    set_trigger_replies(account, "click", [text("旧的")], click_key="OLD")
    set_trigger_replies(account, "click", [text("不变")], click_key="SAME")
    client.force_login(operator)
    r = client.get("/rules/replies/")
    assert r.status_code == 200
    form = r.context["form"]
    assert form.rows == 5 and form["click_key_0"].value() == "OLD"
    v = version(account)
    r = client.post(
        "/rules/replies/",
        {
            "follow": "欢迎关注示例市发布",
            "default": "留言已收到，我们会尽快答复。",
            "click_rows": "4",
            "click_key_0": "OLD",
            "click_text_0": "",  # switched off
            "click_key_1": "SAME",
            "click_text_1": "不变",  # unchanged: no write
            "click_key_2": "V_GUIDE",
            "click_text_2": "办事指南见菜单",
            "click_key_3": "",
            "click_text_3": "ignored without a key",
        },
    )
    assert r.status_code == 302
    assert trigger_texts(account) == {
        ("follow", ""): ["欢迎关注示例市发布"],
        ("default", ""): ["留言已收到，我们会尽快答复。"],
        ("click", "SAME"): ["不变"],
        ("click", "V_GUIDE"): ["办事指南见菜单"],
    }
    assert version(account) == v + 1  # four changes, saved together: one new version


def test_trigger_replies_keep_a_news_reply_left_blank(
    client: Client, operator: Any, account: Account
) -> None:
    news = ReplyInput("news", {"articles": [{"title": "欢迎", "url": "https://gov.example/"}]})
    set_trigger_replies(account, "follow", [news])
    client.force_login(operator)
    assert "当前是图文回复" in client.get("/rules/replies/").content.decode()
    r = client.post("/rules/replies/", {"follow": "", "default": "", "click_rows": "0"})
    assert r.status_code == 302
    assert trigger_texts(account) == {("follow", ""): ["news"]}


def test_trigger_replies_errors_change_nothing(
    client: Client, operator: Any, account: Account
) -> None:
    set_trigger_replies(account, "follow", [text("原来的欢迎语")])
    client.force_login(operator)
    before = snapshot()
    r = client.post(
        "/rules/replies/",
        {
            "follow": "新的欢迎语",
            "default": "长" * 700,
            "click_rows": "2",
            "click_key_0": "NEW",
            "click_text_0": "x",
            "click_key_1": "",
            "click_text_1": "",
        },
    )
    assert r.status_code == 200
    body = r.content.decode()
    # the follow reply was written before the default reply failed: rolled back too
    assert "回复文字超过 2048 字节" in body
    assert snapshot() == before
    assert trigger_texts(account) == {("follow", ""): ["原来的欢迎语"]}
    r = client.post(
        "/rules/replies/",
        {
            "follow": "x",
            "default": "",
            "click_rows": "2",
            "click_key_0": "K" * 129,
            "click_text_0": "x",
            "click_key_1": "K" * 129,
            "click_text_1": "y",
        },
    )
    assert r.status_code == 200
    assert "128" in r.content.decode()
    assert snapshot() == before


def test_trigger_replies_outsider_cannot_touch_another_account(
    client: Client, outsider: Any, account: Account, other_account: Account
) -> None:
    set_trigger_replies(account, "follow", [text("原来的欢迎语")])
    client.force_login(outsider)
    session = client.session
    session["console_account_id"] = account.pk
    session.save()
    r = client.post("/rules/replies/", {"follow": "被改", "default": "", "click_rows": "0"})
    assert r.status_code == 302
    assert trigger_texts(account) == {("follow", ""): ["原来的欢迎语"]}
    # the write went to the outsider's own account
    assert trigger_texts(other_account) == {("follow", ""): ["被改"]}


def test_trigger_replies_send_anonymous_users_to_login(client: Client, account: Account) -> None:
    before = snapshot()
    r = client.post("/rules/replies/", {"follow": "x", "default": "", "click_rows": "0"})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert snapshot() == before


def test_rule_pages_show_an_empty_state_without_an_account(
    client: Client, django_user_model: Any
) -> None:
    client.force_login(django_user_model.objects.create_user("newbie", password="x"))
    before = snapshot()
    for url in ("/rules/", "/rules/new/", "/rules/replies/"):
        assert "还没有可以管理的公众号" in client.get(url).content.decode()
    client.post("/rules/new/", form_data())
    assert snapshot() == before


def test_create_with_an_image_reply_and_edit_it(
    client: Client, operator: Any, account: Account
) -> None:
    client.force_login(operator)
    r = client.post("/rules/new/", form_data(reply_2_kind="image", reply_2_media_id="MEDIA_QR"))
    assert r.status_code == 302
    rule = Rule.objects.get(account=account)
    assert [(x.kind, x.payload) for x in rule.replies.order_by("position")][1] == (
        "image",
        {"media_id": "MEDIA_QR"},
    )
    page = client.get(f"/rules/{rule.pk}/edit/").content.decode()
    assert 'value="MEDIA_QR"' in page
    r = client.post(
        f"/rules/{rule.pk}/edit/", form_data(reply_2_kind="image", reply_2_media_id="MEDIA_2")
    )
    assert r.status_code == 302
    assert rule.replies.get(kind="image").payload == {"media_id": "MEDIA_2"}
