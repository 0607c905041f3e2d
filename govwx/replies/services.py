"""Writes on auto-reply rules, and the compiled rule set each process answers from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F

from govwx.accounts.models import Account
from govwx.accounts.services import record
from govwx.lib import textcheck
from govwx.wechat.protocol import NEWS_LIMIT_FOR_EVENTS
from govwx.wechat.protocol import Reply as WireReply

from .matcher import Matcher, RuleSpec, compile_rules
from .models import Keyword, MenuHandoff, Reply, Rule

MAX_KEYWORDS_PER_RULE = 10
MAX_REPLIES_PER_RULE = 5
MAX_KEYWORD_LENGTH = 200
MAX_TEXT_BYTES = 2048  # WeChat truncates longer passive text replies
MAX_RULES_PER_ACCOUNT = 10_000
CLICK_KEY_BYTES = 128
WHERE = "reply_rule"  # what the text checker is told it checks


@dataclass(frozen=True)
class KeywordInput:
    text: str
    match: str = Keyword.Match.CONTAINS


@dataclass(frozen=True)
class ReplyInput:
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class RuleInput:
    name: str
    keywords: list[KeywordInput]
    replies: list[ReplyInput]
    priority: int = 100
    reply_mode: str = Rule.ReplyMode.RANDOM
    enabled: bool = True
    handoff: bool = False


# ------------------------------------------------------------------ validation


def _url_ok(url: str) -> bool:
    p = urlparse(url)
    return p.scheme in {"http", "https"} and bool(p.netloc)


def clean_reply(r: ReplyInput) -> ReplyInput:
    """Validate one reply; return it with only the fields of its kind."""
    p = r.payload if isinstance(r.payload, dict) else {}

    def need(key: str, label: str) -> str:
        v = p.get(key)
        if not isinstance(v, str) or not v.strip():
            raise ValidationError(f"{label}不能为空 / {key} is required")
        return v.strip()

    def opt(key: str) -> str:
        v = p.get(key, "")
        return v.strip() if isinstance(v, str) else ""

    if r.kind == Reply.Kind.TEXT:
        content = need("content", "回复文字")
        if len(content.encode()) > MAX_TEXT_BYTES:
            raise ValidationError(
                f"回复文字超过 {MAX_TEXT_BYTES} 字节 / text reply longer than {MAX_TEXT_BYTES} bytes"
            )
        return ReplyInput(r.kind, {"content": content})
    if r.kind in (Reply.Kind.IMAGE, Reply.Kind.VOICE):
        return ReplyInput(r.kind, {"media_id": need("media_id", "素材 media_id")})
    if r.kind == Reply.Kind.VIDEO:
        return ReplyInput(
            r.kind,
            {
                "media_id": need("media_id", "素材 media_id"),
                "title": opt("title"),
                "description": opt("description"),
            },
        )
    if r.kind == Reply.Kind.MUSIC:
        data = {k: opt(k) for k in ("title", "description", "music_url", "hq_music_url")}
        data["thumb_media_id"] = need("thumb_media_id", "缩略图 media_id")
        return ReplyInput(r.kind, data)
    if r.kind == Reply.Kind.NEWS:
        articles = p.get("articles")
        if not isinstance(articles, list) or not articles:
            raise ValidationError("图文回复至少需要一篇文章 / a news reply needs an article")
        if len(articles) > NEWS_LIMIT_FOR_EVENTS:
            raise ValidationError(
                f"图文回复最多 {NEWS_LIMIT_FOR_EVENTS} 篇 / at most {NEWS_LIMIT_FOR_EVENTS} articles"
            )
        clean = []
        for a in articles:
            if not isinstance(a, dict):
                raise ValidationError("文章格式不正确 / bad article")
            title = a.get("title", "")
            url = a.get("url", "")
            if not isinstance(title, str) or not title.strip():
                raise ValidationError("文章标题不能为空 / article title is required")
            if not isinstance(url, str) or not _url_ok(url):
                raise ValidationError(f"文章链接无效 / invalid article url: {url!r}")
            pic = a.get("pic_url", "") or ""
            if pic and (not isinstance(pic, str) or not _url_ok(pic)):
                raise ValidationError(f"图片链接无效 / invalid picture url: {pic!r}")
            desc = a.get("description", "")
            clean.append(
                {
                    "title": title.strip(),
                    "description": desc.strip() if isinstance(desc, str) else "",
                    "pic_url": pic,
                    "url": url,
                }
            )
        return ReplyInput(r.kind, {"articles": clean})
    raise ValidationError(f"未知的回复类型 / unknown reply kind: {r.kind!r}")


def clean_replies(replies: list[ReplyInput], *, required: bool = True) -> list[ReplyInput]:
    if required and not replies:
        raise ValidationError("至少需要一条回复 / at least one reply is required")
    if len(replies) > MAX_REPLIES_PER_RULE:
        raise ValidationError(
            f"最多 {MAX_REPLIES_PER_RULE} 条回复 / at most {MAX_REPLIES_PER_RULE} replies"
        )
    return [clean_reply(r) for r in replies]


def clean_rule(data: RuleInput) -> RuleInput:
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = ["规则名称不能为空 / rule name is required"]
    elif len(name) > 60:
        errors["name"] = ["规则名称最多 60 个字 / rule name is at most 60 characters"]
    keywords: list[KeywordInput] = []
    seen: set[tuple[str, str]] = set()
    for kw in data.keywords:
        text = kw.text if kw.match == Keyword.Match.REGEX else kw.text.strip()
        if not text:
            continue
        if kw.match not in Keyword.Match.values:
            errors.setdefault("keywords", []).append(f"未知的匹配方式 / unknown match {kw.match!r}")
            continue
        if len(text) > MAX_KEYWORD_LENGTH:
            errors.setdefault("keywords", []).append(
                f"关键词过长 / keyword longer than {MAX_KEYWORD_LENGTH}: {text[:20]}…"
            )
            continue
        if kw.match == Keyword.Match.REGEX:
            try:
                re.compile(text)
            except re.error as exc:
                errors.setdefault("keywords", []).append(
                    f"正则表达式无效 / invalid regex {text!r}: {exc}"
                )
                continue
        if (text, kw.match) not in seen:
            seen.add((text, kw.match))
            keywords.append(KeywordInput(text, kw.match))
    if not keywords and "keywords" not in errors:
        errors["keywords"] = ["至少需要一个关键词 / at least one keyword is required"]
    if len(keywords) > MAX_KEYWORDS_PER_RULE:
        errors["keywords"] = [
            f"每条规则最多 {MAX_KEYWORDS_PER_RULE} 个关键词 / at most {MAX_KEYWORDS_PER_RULE} keywords"
        ]
    if data.reply_mode not in Rule.ReplyMode.values:
        errors["reply_mode"] = [f"未知的回复方式 / unknown reply mode {data.reply_mode!r}"]
    if not isinstance(data.priority, int) or not 0 <= data.priority <= 2_000_000_000:
        errors["priority"] = ["优先级应为非负整数 / priority must be a non-negative integer"]
    try:
        replies = clean_replies(data.replies)
    except ValidationError as exc:
        errors["replies"] = exc.messages
        replies = []
    if errors:
        raise ValidationError(errors)
    return RuleInput(
        name, keywords, replies, data.priority, data.reply_mode, data.enabled, data.handoff
    )


# ------------------------------------------------------------------ proofreading


def reply_texts(replies: list[ReplyInput], label: str) -> list[tuple[str, str]]:
    """What a follower reads of the replies, each named for the checker's messages: a
    text reply's words, and the titles and descriptions of news, video and music."""
    out: list[tuple[str, str]] = []
    for n, r in enumerate(replies, start=1):
        name = f"{label} {n}" if len(replies) > 1 else label
        p = r.payload if isinstance(r.payload, dict) else {}
        parts: list[dict[str, Any]] = [p]
        if r.kind == Reply.Kind.NEWS:
            parts = [a for a in p.get("articles") or [] if isinstance(a, dict)]
        for part in parts:
            for key, what in (("content", ""), ("title", "标题"), ("description", "摘要")):
                text = part.get(key)
                if isinstance(text, str) and text.strip():
                    out.append((f"{name}·{what}" if what else name, text))
    return out


def rule_texts(data: RuleInput) -> list[tuple[str, str]]:
    """The texts of a rule the checker reads: its replies (its name and keywords are
    never sent)."""
    return reply_texts(data.replies, "回复")


def trigger_label(trigger: str, click_key: str = "") -> str:
    if trigger == Reply.Trigger.CLICK:
        return f"菜单「{click_key}」的回复"
    return str(Reply.Trigger(trigger).label) if trigger in Reply.Trigger.values else trigger


def trigger_texts(changes: list[TriggerChange]) -> list[tuple[str, str]]:
    return [
        t for c in changes for t in reply_texts(c.replies, trigger_label(c.trigger, c.click_key))
    ]


# ------------------------------------------------------------------ writes


def _bump(account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(rules_version=F("rules_version") + 1)


def _write_rule_children(rule: Rule, data: RuleInput) -> None:
    Keyword.objects.bulk_create(
        Keyword(rule=rule, text=k.text, match=k.match) for k in data.keywords
    )
    Reply.objects.bulk_create(
        Reply(
            account_id=rule.account_id,
            trigger=Reply.Trigger.RULE,
            rule=rule,
            kind=r.kind,
            payload=r.payload,
            position=i,
        )
        for i, r in enumerate(data.replies)
    )


def create_rule(
    account: Account,
    data: RuleInput,
    *,
    actor: Any = None,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> Rule:
    """A new rule; refused (textcheck.TextRefused) while the checker finds what blocks
    its replies — a veto, or an error not dismissed (`dismissing`: 「忽略并保存」). The
    warnings it finds are added to `warnings` (for the page to show, unchecked again)."""
    data = clean_rule(data)
    with transaction.atomic():
        textcheck.require_clean(
            account,
            rule_texts(data),
            WHERE,
            dismissing=dismissing,
            actor=actor,
            warnings=warnings,
        )
        if Rule.objects.filter(account=account).count() >= MAX_RULES_PER_ACCOUNT:
            raise ValidationError(
                f"每个公众号最多 {MAX_RULES_PER_ACCOUNT} 条规则 / at most {MAX_RULES_PER_ACCOUNT} rules"
            )
        rule = Rule.objects.create(
            account=account,
            name=data.name,
            priority=data.priority,
            reply_mode=data.reply_mode,
            enabled=data.enabled,
            handoff=data.handoff,
        )
        _write_rule_children(rule, data)
        _bump(account)
        record("rule.created", account=account, actor=actor, rule=rule.pk, name=rule.name)
    return rule


def update_rule(
    rule: Rule,
    data: RuleInput,
    *,
    actor: Any = None,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> Rule:
    """Rewrite a rule; its replies checked as in `create_rule`."""
    data = clean_rule(data)
    with transaction.atomic():
        textcheck.require_clean(
            rule.account,
            rule_texts(data),
            WHERE,
            dismissing=dismissing,
            actor=actor,
            warnings=warnings,
        )
        rule.name, rule.priority = data.name, data.priority
        rule.reply_mode, rule.enabled = data.reply_mode, data.enabled
        rule.handoff = data.handoff
        rule.save()
        rule.keywords.all().delete()
        rule.replies.all().delete()
        _write_rule_children(rule, data)
        _bump(rule.account)
        record("rule.updated", account=rule.account, actor=actor, rule=rule.pk, name=rule.name)
    return rule


def delete_rule(rule: Rule, *, actor: Any = None) -> None:
    with transaction.atomic():
        account, pk, name = rule.account, rule.pk, rule.name
        rule.delete()
        _bump(account)
        record("rule.deleted", account=account, actor=actor, rule=pk, name=name)


@dataclass(frozen=True)
class TriggerChange:
    """New replies for the follow reply, the default reply or one menu key's click
    reply; an empty list switches it off. `field` names where a form shows its errors."""

    trigger: str
    replies: list[ReplyInput]
    click_key: str = ""
    field: str | None = None


def _clean_trigger(change: TriggerChange) -> TriggerChange:
    trigger, key = change.trigger, change.click_key
    if trigger not in (Reply.Trigger.FOLLOW, Reply.Trigger.DEFAULT, Reply.Trigger.CLICK):
        raise ValidationError(f"unknown trigger {trigger!r}")
    if trigger == Reply.Trigger.CLICK:
        if not key or len(key.encode()) > CLICK_KEY_BYTES:
            raise ValidationError("菜单 key 应为 1–128 字节 / menu key must be 1 to 128 bytes")
    else:
        key = ""
    return TriggerChange(trigger, clean_replies(change.replies, required=False), key, change.field)


def save_trigger_replies(
    account: Account,
    changes: list[TriggerChange],
    *,
    actor: Any = None,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> None:
    """Apply trigger-reply changes together: all or none, one rules-version bump.

    Invalid changes raise one ValidationError keyed by each change's `field`; texts the
    checker refuses, textcheck.TextRefused (as in `create_rule`, `warnings` too).
    """
    errors: dict[str, list[str]] = {}
    cleaned = []
    for change in changes:
        try:
            cleaned.append(_clean_trigger(change))
        except ValidationError as exc:
            errors.setdefault(change.field or NON_FIELD_ERRORS, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    if not cleaned:
        return
    with transaction.atomic():
        textcheck.require_clean(
            account,
            trigger_texts(cleaned),
            WHERE,
            dismissing=dismissing,
            actor=actor,
            warnings=warnings,
        )
        for c in cleaned:
            Reply.objects.filter(account=account, trigger=c.trigger, click_key=c.click_key).delete()
            Reply.objects.bulk_create(
                Reply(
                    account=account,
                    trigger=c.trigger,
                    click_key=c.click_key,
                    kind=r.kind,
                    payload=r.payload,
                    position=i,
                )
                for i, r in enumerate(c.replies)
            )
            record(
                f"reply.{c.trigger}.saved",
                account=account,
                actor=actor,
                key=c.click_key,
                count=len(c.replies),
            )
        _bump(account)


def set_trigger_replies(
    account: Account,
    trigger: str,
    replies: list[ReplyInput],
    *,
    click_key: str = "",
    actor: Any = None,
) -> None:
    """Replace one trigger's replies (see save_trigger_replies)."""
    try:
        save_trigger_replies(account, [TriggerChange(trigger, replies, click_key)], actor=actor)
    except ValidationError as exc:
        raise ValidationError(exc.messages) from exc


# ------------------------------------------------------------------ import / export
# The JSON format of the benchmark harness's rule sets:
# {"welcome": str, "menu": {KEY: str}, "rules": [{"id", "mode", "keywords", "reply"}]}
# govwx adds optional "default" (str) and, per rule, "name", "reply_mode", "enabled",
# "handoff" (转人工: the message also goes to the desk), top-level "menu_handoff" (menu keys
# whose click goes to the desk),
# and "replies" (a list of {"kind", "payload"}) in place of the text "reply".


def _text(value: str) -> list[ReplyInput]:
    return [ReplyInput(Reply.Kind.TEXT, {"content": value})] if value else []


def parse_ruleset(doc: Any) -> tuple[list[RuleInput], dict[str, list[ReplyInput]]]:
    """Validate a rule-set document; return its rules and trigger replies."""
    if not isinstance(doc, dict):
        raise ValidationError("规则文件应为 JSON 对象 / the rule file must be a JSON object")
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ValidationError("rules 应为数组 / rules must be a list")
    if len(raw_rules) > MAX_RULES_PER_ACCOUNT:
        raise ValidationError(f"最多 {MAX_RULES_PER_ACCOUNT} 条规则 / too many rules")
    rules: list[RuleInput] = []
    ids: set[int] = set()
    for i, r in enumerate(raw_rules, start=1):
        where = f"第 {i} 条规则 / rule {i}"
        if not isinstance(r, dict):
            raise ValidationError(f"{where}: 应为对象 / must be an object")
        rid = r.get("id", i)
        if not isinstance(rid, int) or isinstance(rid, bool) or rid < 0:
            raise ValidationError(f"{where}: id 应为非负整数 / id must be a non-negative integer")
        if rid in ids:
            raise ValidationError(f"{where}: id {rid} 重复 / duplicate id")
        ids.add(rid)
        mode = r.get("mode", "contains")
        kws_raw = r.get("keywords")
        if not isinstance(kws_raw, list) or not kws_raw:
            raise ValidationError(f"{where}: keywords 应为非空数组 / keywords must be a list")
        keywords = []
        for kw in kws_raw:
            if isinstance(kw, str):
                keywords.append(KeywordInput(kw, mode))
            elif isinstance(kw, dict) and isinstance(kw.get("text"), str):
                keywords.append(KeywordInput(kw["text"], str(kw.get("mode", mode))))
            else:
                raise ValidationError(f"{where}: 关键词格式不正确 / bad keyword {kw!r}")
        if "replies" in r:
            if not isinstance(r["replies"], list):
                raise ValidationError(f"{where}: replies 应为数组 / replies must be a list")
            replies = [
                ReplyInput(x.get("kind", ""), x.get("payload", {}))
                if isinstance(x, dict)
                else ReplyInput("", {})
                for x in r["replies"]
            ]
        else:
            reply = r.get("reply", "")
            if not isinstance(reply, str):
                raise ValidationError(f"{where}: reply 应为文字 / reply must be text")
            replies = _text(reply)
        name = r.get("name") or f"规则 {rid}"
        try:
            rules.append(
                clean_rule(
                    RuleInput(
                        name=str(name)[:60],
                        keywords=keywords,
                        replies=replies,
                        priority=rid,
                        reply_mode=r.get("reply_mode", Rule.ReplyMode.RANDOM),
                        enabled=bool(r.get("enabled", True)),
                        handoff=bool(r.get("handoff", False)),
                    )
                )
            )
        except ValidationError as exc:
            raise ValidationError(f"{where}: {'; '.join(exc.messages)}") from exc
    triggers: dict[str, list[ReplyInput]] = {}
    for key, trigger in (("welcome", Reply.Trigger.FOLLOW), ("default", Reply.Trigger.DEFAULT)):
        value = doc.get(key, "")
        if not isinstance(value, str):
            raise ValidationError(f"{key} 应为文字 / {key} must be text")
        triggers[trigger] = clean_replies(_text(value), required=False)
    menu = doc.get("menu", {})
    if not isinstance(menu, dict):
        raise ValidationError("menu 应为对象 / menu must be an object of KEY: text")
    for key, value in menu.items():
        if not isinstance(value, str) or not key or len(key.encode()) > CLICK_KEY_BYTES:
            raise ValidationError(f"菜单回复 {key!r} 不正确 / bad menu reply")
        triggers[f"click:{key}"] = clean_replies(_text(value), required=False)
    return rules, triggers


def parse_menu_handoff(doc: Any) -> list[str]:
    keys = doc.get("menu_handoff", []) if isinstance(doc, dict) else []
    if not isinstance(keys, list) or not all(
        isinstance(k, str) and k and len(k.encode()) <= CLICK_KEY_BYTES for k in keys
    ):
        raise ValidationError("menu_handoff 应为菜单 key 的数组 / menu_handoff must list menu keys")
    return sorted(set(keys))


def set_menu_handoff(account: Account, keys: list[str], *, actor: Any = None) -> None:
    """Which menu keys go to the desk (replacing the account's list)."""
    keys = parse_menu_handoff({"menu_handoff": keys})
    with transaction.atomic():
        _replace_menu_handoff(account, keys)
        _bump(account)
        record("reply.menu_handoff.saved", account=account, actor=actor, keys=keys)


def _replace_menu_handoff(account: Account, keys: list[str]) -> None:
    MenuHandoff.objects.filter(account=account).delete()
    MenuHandoff.objects.bulk_create(MenuHandoff(account=account, click_key=k) for k in keys)


def check_ruleset(
    account: Account, rules: list[RuleInput], triggers: dict[str, list[ReplyInput]]
) -> list[str]:
    """The checker on every reply of a rule set about to be imported: a veto (personal
    data) refuses the import (textcheck.TextRefused, each naming its rule); errors and
    warnings are returned, each naming its rule, for the import to report. An import
    brings over replies an office already uses: it is not held up by what a reviewer
    would judge, but it never publishes someone's ID number."""
    texts: list[tuple[str, str]] = []
    for i, r in enumerate(rules, start=1):
        texts += reply_texts(r.replies, f"第 {i} 条规则「{r.name}」· 回复")
    for name, items in triggers.items():
        trigger, _, key = name.partition(":")
        texts += reply_texts(items, trigger_label(trigger, key))
    blocking, warnings = textcheck.review(account, texts, WHERE)
    vetoes = [f for f in blocking if f.flag.severity == textcheck.VETO]
    if vetoes:
        raise textcheck.TextRefused(vetoes, ["规则文件含有不能发布的内容，没有导入 / refused:"])
    return [textcheck.describe(f) for f in blocking + warnings]


def import_ruleset(
    account: Account, doc: Any, *, actor: Any = None, notes: list[str] | None = None
) -> int:
    """Replace all of an account's rules and trigger replies, atomically. What the
    checker finds short of a veto is appended to `notes` (see `check_ruleset`)."""
    rules, triggers = parse_ruleset(doc)
    handoff_keys = parse_menu_handoff(doc)
    found = check_ruleset(account, rules, triggers)
    if notes is not None:
        notes += found
    with transaction.atomic():
        _replace_menu_handoff(account, handoff_keys)
        Reply.objects.filter(account=account).delete()
        Rule.objects.filter(account=account).delete()
        created = Rule.objects.bulk_create(
            Rule(
                account=account,
                name=r.name,
                priority=r.priority,
                reply_mode=r.reply_mode,
                enabled=r.enabled,
                handoff=r.handoff,
            )
            for r in rules
        )
        if not all(rule.pk for rule in created):  # pragma: no cover - both backends return pks
            raise RuntimeError("database did not return primary keys")
        Keyword.objects.bulk_create(
            (
                Keyword(rule=rule, text=k.text, match=k.match)
                for rule, r in zip(created, rules, strict=True)
                for k in r.keywords
            ),
            batch_size=2000,
        )
        replies = [
            Reply(
                account=account,
                trigger=Reply.Trigger.RULE,
                rule=rule,
                kind=x.kind,
                payload=x.payload,
                position=i,
            )
            for rule, r in zip(created, rules, strict=True)
            for i, x in enumerate(r.replies)
        ]
        for name, items in triggers.items():
            trigger, _, key = name.partition(":")
            replies += [
                Reply(
                    account=account,
                    trigger=trigger,
                    click_key=key,
                    kind=x.kind,
                    payload=x.payload,
                    position=i,
                )
                for i, x in enumerate(items)
            ]
        Reply.objects.bulk_create(replies, batch_size=2000)
        _bump(account)
        record("rules.imported", account=account, actor=actor, rules=len(rules), notes=len(found))
    return len(rules)


def _export_replies(replies: list[Reply]) -> dict[str, Any]:
    if len(replies) == 1 and replies[0].kind == Reply.Kind.TEXT:
        return {"reply": replies[0].payload["content"]}
    return {"replies": [{"kind": r.kind, "payload": r.payload} for r in replies]}


def export_ruleset(account: Account) -> dict[str, Any]:
    by_rule: dict[int, list[Reply]] = {}
    triggers: dict[tuple[str, str], list[Reply]] = {}
    for r in Reply.objects.filter(account=account).order_by("position", "id"):
        if r.rule_id:
            by_rule.setdefault(r.rule_id, []).append(r)
        else:
            triggers.setdefault((r.trigger, r.click_key), []).append(r)

    def text_of(key: tuple[str, str]) -> str:
        items = triggers.get(key, [])
        return items[0].payload.get("content", "") if items and items[0].kind == "text" else ""

    out_rules = []
    for rule in Rule.objects.filter(account=account).prefetch_related("keywords"):
        kws = list(rule.keywords.all())
        modes = {k.match for k in kws}
        entry: dict[str, Any] = {"id": rule.priority, "name": rule.name}
        if len(modes) == 1:
            entry["mode"] = modes.pop()
            entry["keywords"] = [k.text for k in kws]
        else:
            entry["keywords"] = [{"text": k.text, "mode": k.match} for k in kws]
        entry.update(_export_replies(by_rule.get(rule.pk, [])))
        entry["reply_mode"] = rule.reply_mode
        if not rule.enabled:
            entry["enabled"] = False
        if rule.handoff:
            entry["handoff"] = True
        out_rules.append(entry)
    doc: dict[str, Any] = {
        "appid": account.appid,
        "welcome": text_of((Reply.Trigger.FOLLOW, "")),
        "default": text_of((Reply.Trigger.DEFAULT, "")),
        "menu": {
            key: text_of((trig, key))
            for (trig, key) in sorted(triggers)
            if trig == Reply.Trigger.CLICK
        },
        "rules": out_rules,
    }
    handoff = sorted(
        MenuHandoff.objects.filter(account=account).values_list("click_key", flat=True)
    )
    if handoff:
        doc["menu_handoff"] = handoff
    return doc


# ------------------------------------------------------------------ the compiled rule set


@dataclass
class RuleSet:
    """Everything the callback needs to answer for one account, compiled."""

    version: int
    matcher: Matcher
    follow: tuple[WireReply, ...] = ()
    default: tuple[WireReply, ...] = ()
    click: dict[str, tuple[WireReply, ...]] = field(default_factory=dict)
    handoff_keys: frozenset[str] = frozenset()


def load_ruleset(account_id: int, version: int) -> RuleSet:
    """Read an account's enabled rules and trigger replies and compile them."""
    rule_replies: dict[int, list[WireReply]] = {}
    triggers: dict[tuple[str, str], list[WireReply]] = {}
    rows = (
        Reply.objects.filter(account_id=account_id)
        .order_by("position", "id")
        .values_list("rule_id", "trigger", "click_key", "kind", "payload")
    )
    for rule_id, trigger, key, kind, payload in rows:
        wire = WireReply(kind, payload)
        if rule_id:
            rule_replies.setdefault(rule_id, []).append(wire)
        else:
            triggers.setdefault((trigger, key), []).append(wire)
    keywords: dict[int, list[tuple[str, str]]] = {}
    for rule_id, text, how in (
        Keyword.objects.filter(rule__account_id=account_id, rule__enabled=True)
        .order_by("id")
        .values_list("rule_id", "text", "match")
    ):
        keywords.setdefault(rule_id, []).append((text, how))
    specs = [
        RuleSpec(
            pk,
            name,
            mode == Rule.ReplyMode.ALL,
            tuple(keywords.get(pk, ())),
            tuple(rule_replies.get(pk, ())),
            handoff,
        )
        for pk, name, mode, handoff in Rule.objects.filter(account_id=account_id, enabled=True)
        .order_by("priority", "id")
        .values_list("pk", "name", "reply_mode", "handoff")
    ]
    return RuleSet(
        version=version,
        matcher=compile_rules(specs),
        follow=tuple(triggers.get((Reply.Trigger.FOLLOW, ""), ())),
        default=tuple(triggers.get((Reply.Trigger.DEFAULT, ""), ())),
        click={k: tuple(v) for (t, k), v in triggers.items() if t == Reply.Trigger.CLICK},
        handoff_keys=frozenset(
            MenuHandoff.objects.filter(account_id=account_id).values_list("click_key", flat=True)
        ),
    )
