"""The custom menu: the builder's tree, WeChat's rules, publishing and restoring versions.

The builder edits a tree that names what each button opens (a service of the account's
catalogue, the hub, a category, an article, a URL, a CLICK key, a mini program, the
location picker). `validate_tree` holds it to WeChat's rules (reference §2.3, §2.4) and
names the rule an item breaks, so that nothing WeChat would refuse is ever sent;
`compile_tree` turns it into WeChat's JSON. `publish_menu` claims the version (one
publish at a time per account), stores what it sends before sending it, then replaces
the default menu, adds the conditional menus (each menuid stored as WeChat gives it) and
deletes the previous version's ones; when WeChat refuses any step the previous menu is
put back. A publish interrupted midway is finished by `republish_menu`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from govwx.accounts import permissions
from govwx.accounts.models import Account
from govwx.accounts.services import record
from govwx.lib import textcheck
from govwx.replies.models import MenuHandoff, Reply
from govwx.wechat.client import MenuNotFound, TransportError, WeChatAPIError, WeChatClient

from . import catalogue
from .catalogue_writes import url_error
from .menutree import leaves
from .models import Category, MenuVersion

logger = logging.getLogger(__name__)

MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60
KEY_BYTES, URL_BYTES = 128, 1024
# Conditional menus are republished whole: each publish adds every one and deletes the
# previous ones, and WeChat allows 2 000 adds and 2 000 deletes a day (§2.4). Twenty
# leaves a hundred publishes a day, more than any office makes.
MAX_CONDITIONAL = 20
# All conditional menus together may link to at most 3 domains (§2.4, errcode 65316).
MAX_CONDITIONAL_DOMAINS = 3
WHERE = "menu"  # what the text checker is told it checks

KINDS: dict[str, str] = {
    "service": gettext_noop("服务事项"),
    "hub": gettext_noop("服务大厅"),
    "category": gettext_noop("服务类别"),
    "url": gettext_noop("网页链接"),
    "article": gettext_noop("已发布文章"),
    "click": gettext_noop("点击事件（回复或转人工）"),
    "miniprogram": gettext_noop("小程序"),
    "location_select": gettext_noop("发送位置"),
}
MINIPROGRAM_APPID = re.compile(r"wx[0-9a-f]{16}")

Tree = dict[str, Any]


class MenuInvalid(ValidationError):
    """A menu WeChat would refuse; the message names the rule and the item's path."""


class MenuPublishFailed(Exception):
    """WeChat refused a publish; the version is marked failed and the previous menu is
    in place. `version.error` says why."""

    def __init__(self, version: MenuVersion) -> None:
        super().__init__(version.error)
        self.version = version


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


# ------------------------------------------------------------------ validation


def _path(where: str, item: Any, index: int) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    label = name if isinstance(name, str) and name.strip() else f"#{index + 1}"
    return f"{where}「{label}」" if where else f"「{label}」"


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _check_url(url: str, path: str, what: str = "链接") -> None:
    if not url:
        raise MenuInvalid(f"{path}缺少{what} / {path}: a URL is required")
    if nbytes(url) > URL_BYTES:
        raise MenuInvalid(
            f"{path}的{what}超过 {URL_BYTES} 字节 / {path}: URL over {URL_BYTES} bytes"
        )
    problem = url_error(url)
    if problem is not None:
        raise MenuInvalid(f"{path}的{what}：{problem}")


def _check_key(item: dict[str, Any], path: str) -> None:
    key = _text(item, "key")
    if not key:
        raise MenuInvalid(f"{path}缺少 key / {path}: a key is required")
    if nbytes(key) > KEY_BYTES:
        raise MenuInvalid(
            f"{path}的 key 超过 {KEY_BYTES} 字节 / {path}: key over {KEY_BYTES} bytes"
        )


def _check_name(item: dict[str, Any], path: str, limit: int, level: str) -> None:
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MenuInvalid(f"{path}缺少名称 / {path}: a name is required")
    if nbytes(name) > limit:
        raise MenuInvalid(
            f"菜单名称{path}超过 {limit} 字节（{level}菜单，现为 {nbytes(name)} 字节） / "
            f"name {path} over {limit} bytes"
        )


def _check_leaf(account: Account, item: dict[str, Any], path: str, codes: set[str]) -> None:
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise MenuInvalid(
            f"{path}的类型「{kind}」不受支持 / {path}: unknown kind {kind!r} "
            f"(allowed: {', '.join(KINDS)})"
        )
    if kind == "service":
        code = _text(item, "service")
        if not code:
            raise MenuInvalid(f"{path}没有选择服务事项 / {path}: choose a service")
        if code not in codes:
            raise MenuInvalid(
                f"{path}的服务事项「{code}」不在本公众号的服务目录中 / "
                f"{path}: service {code!r} is not in this account's catalogue"
            )
    elif kind == "category":
        if item.get("category") not in Category.values:
            raise MenuInvalid(
                f"{path}的服务类别「{item.get('category')}」不存在 / {path}: unknown category"
            )
    elif kind == "url":
        _check_url(_text(item, "url"), path)
    elif kind == "article":
        if not _text(item, "article_id"):
            raise MenuInvalid(f"{path}缺少文章的 article_id / {path}: an article_id is required")
    elif kind in ("click", "location_select"):
        _check_key(item, path)
    elif kind == "miniprogram":
        appid = _text(item, "appid")
        if not MINIPROGRAM_APPID.fullmatch(appid):
            raise MenuInvalid(
                f"{path}的小程序 AppID 应为 wx 加 16 位十六进制字符 / "
                f"{path}: the mini program AppID must be wx and 16 hex digits"
            )
        if not _text(item, "pagepath"):
            raise MenuInvalid(f"{path}缺少小程序页面路径 / {path}: a pagepath is required")
        _check_url(_text(item, "url"), path, "备用网页链接")


def _check_buttons(account: Account, tree: Any, where: str, codes: set[str]) -> None:
    if not isinstance(tree, dict) or not isinstance(tree.get("button"), list):
        raise MenuInvalid(f"{where}菜单格式不正确 / malformed menu")
    buttons = tree["button"]
    if not buttons:
        raise MenuInvalid(f"{where}菜单至少要有 1 个按钮 / a menu needs at least one button")
    if len(buttons) > MAX_TOP:
        extra = _path("", buttons[MAX_TOP], MAX_TOP)
        raise MenuInvalid(
            f"{where}一级菜单最多 {MAX_TOP} 个（第 {MAX_TOP + 1} 个：{extra}） / "
            f"at most {MAX_TOP} top-level buttons"
        )
    for i, item in enumerate(buttons):
        path = _path(where, item, i)
        if not isinstance(item, dict):
            raise MenuInvalid(f"{path}格式不正确 / {path}: malformed button")
        _check_name(item, path, TOP_NAME_BYTES, "一级")
        if "sub_button" not in item:
            _check_leaf(account, item, path, codes)
            continue
        subs = item["sub_button"]
        if not isinstance(subs, list) or not subs:
            raise MenuInvalid(
                f"{path}的二级菜单是空的：请添加子菜单或设置按钮类型 / "
                f"{path}: a parent needs at least one sub-button"
            )
        if len(subs) > MAX_SUB:
            extra = _path(path + " › ", subs[MAX_SUB], MAX_SUB)
            raise MenuInvalid(
                f"{path}的二级菜单最多 {MAX_SUB} 个（第 {MAX_SUB + 1} 个：{extra}） / "
                f"at most {MAX_SUB} sub-buttons"
            )
        for j, sub in enumerate(subs):
            sub_path = _path(path + " › ", sub, j)
            if not isinstance(sub, dict):
                raise MenuInvalid(f"{sub_path}格式不正确 / {sub_path}: malformed button")
            if "sub_button" in sub:
                raise MenuInvalid(
                    f"{sub_path}：菜单最多两级 / {sub_path}: menus have two levels at most"
                )
            _check_name(sub, sub_path, SUB_NAME_BYTES, "二级")
            _check_leaf(account, sub, sub_path, codes)


def _service_codes(account: Account) -> set[str]:
    return {s.code for s in catalogue.services_for(account)}


def validate_tree(account: Account, tree: Any, *, where: str = "") -> None:
    """Raise MenuInvalid naming the first rule the menu breaks (§2.3).

    Two buttons may send the same CLICK key: WeChat accepts it, and it lets a
    conditional menu and the default menu answer the same way."""
    _check_buttons(account, tree, where, _service_codes(account))


def validate_conditional(account: Account, conditional: Any) -> None:
    """Raise MenuInvalid for conditional menus WeChat would refuse or never show (§2.4)."""
    if not isinstance(conditional, list):
        raise MenuInvalid("个性化菜单格式不正确 / malformed conditional menus")
    if len(conditional) > MAX_CONDITIONAL:
        raise MenuInvalid(
            f"个性化菜单最多 {MAX_CONDITIONAL} 个（现有 {len(conditional)} 个） / "
            f"at most {MAX_CONDITIONAL} conditional menus"
        )
    codes = _service_codes(account)
    seen: set[int] = set()
    domains: set[str] = set()
    for i, menu in enumerate(conditional):
        if not isinstance(menu, dict):
            raise MenuInvalid("个性化菜单格式不正确 / malformed conditional menu")
        tag_id = menu.get("tag_id")
        label = menu.get("tag_name") or tag_id or f"#{i + 1}"
        where = f"个性化菜单（{label}）"
        if isinstance(tag_id, bool) or not isinstance(tag_id, int) or tag_id <= 0:
            raise MenuInvalid(
                f"{where}没有选择粉丝标签 / conditional menu {i + 1}: a follower tag is required"
            )
        if tag_id in seen:
            raise MenuInvalid(
                f"{where}：同一个标签只能有一个个性化菜单 / one conditional menu per tag"
            )
        seen.add(tag_id)
        _check_buttons(account, menu, where, codes)
        domains |= _domains(compile_tree(account, menu))
    if len(domains) > MAX_CONDITIONAL_DOMAINS:
        raise MenuInvalid(
            f"个性化菜单的链接最多指向 {MAX_CONDITIONAL_DOMAINS} 个域名（现为 "
            f"{'、'.join(sorted(domains))}） / conditional menus may link to "
            f"{MAX_CONDITIONAL_DOMAINS} domains at most"
        )


def validate_menu(account: Account, tree: Any, conditional: Any) -> None:
    validate_tree(account, tree)
    validate_conditional(account, conditional)


def _domains(compiled: Tree) -> set[str]:
    return {
        urlsplit(leaf["url"]).hostname or "" for _w, leaf in leaves(compiled) if leaf.get("url")
    }


# ------------------------------------------------------------------ compiling


def _compile_leaf(account: Account, item: dict[str, Any]) -> dict[str, Any]:
    name, kind = item["name"], item["kind"]
    if kind == "service":
        return {"type": "view", "name": name, "url": catalogue.guide_url(account, item["service"])}
    if kind == "hub":
        return {"type": "view", "name": name, "url": catalogue.hub_url(account)}
    if kind == "category":
        return {
            "type": "view",
            "name": name,
            "url": catalogue.category_url(account, item["category"]),
        }
    if kind == "url":
        return {"type": "view", "name": name, "url": _text(item, "url")}
    if kind == "article":
        return {"type": "article_id", "name": name, "article_id": _text(item, "article_id")}
    if kind == "miniprogram":
        return {
            "type": "miniprogram",
            "name": name,
            "url": _text(item, "url"),
            "appid": _text(item, "appid"),
            "pagepath": _text(item, "pagepath"),
        }
    return {"type": kind, "name": name, "key": _text(item, "key")}


def compile_tree(account: Account, tree: Tree) -> Tree:
    """WeChat's menu JSON for a valid tree: {"button": [...]}."""
    out = []
    for item in tree["button"]:
        if "sub_button" in item:
            subs = [_compile_leaf(account, s) for s in item["sub_button"]]
            out.append({"name": item["name"], "sub_button": subs})
        else:
            out.append(_compile_leaf(account, item))
    return {"button": out}


def compile_menu(account: Account, tree: Tree, conditional: list[Tree]) -> Tree:
    """What publishing sends: the default menu and each conditional menu with its rule."""
    return {
        "menu": compile_tree(account, tree),
        "conditional": [
            {**compile_tree(account, c), "matchrule": {"tag_id": str(c["tag_id"])}}
            for c in conditional
        ],
    }


def menu_texts(tree: Any, conditional: Any) -> list[tuple[str, str]]:
    """The names of the menu's buttons, default and conditional, each with its path
    (「便民服务」›「12345热线」), for the text checker. What a CLICK button answers is a
    menu-click reply of the auto-reply, checked where it is saved."""
    menus = [("", tree)] + [
        (f"个性化菜单（{m.get('tag_name') or m.get('tag_id')}）", m)
        for m in (conditional if isinstance(conditional, list) else [])
        if isinstance(m, dict)
    ]
    found: list[tuple[str, str]] = []
    for where, menu in menus:
        buttons = menu.get("button") if isinstance(menu, dict) else None
        for i, top in enumerate(buttons if isinstance(buttons, list) else []):
            if not isinstance(top, dict):
                continue
            path = _path(where, top, i)
            if isinstance(name := top.get("name"), str):
                found.append((path, name))
            subs = top.get("sub_button")
            for j, sub in enumerate(subs if isinstance(subs, list) else []):
                if isinstance(sub, dict) and isinstance(name := sub.get("name"), str):
                    found.append((_path(path + "›", sub, j), name))
    return found


# ------------------------------------------------------------------ reading


def current_version(account: Account) -> MenuVersion | None:
    """The version published last: the menu followers see."""
    return (
        MenuVersion.objects.filter(account=account, status=MenuVersion.Status.PUBLISHED)
        .order_by("-published_at", "-number")
        .first()
    )


def click_answers(account: Account) -> dict[str, str]:
    """What answers each CLICK key of the account: its menu-click reply (the first
    reply's text, or its kind), and 转人工 where the desk takes the click."""
    found: dict[str, str] = {}
    rows = (
        Reply.objects.filter(account=account, trigger=Reply.Trigger.CLICK)
        .order_by("click_key", "position", "id")
        .values_list("click_key", "kind", "payload")
    )
    for key, kind, payload in rows:
        if key in found:
            continue
        text = str(payload.get("content", "")) if isinstance(payload, dict) else ""
        if kind == "news" and isinstance(payload, dict) and payload.get("articles"):
            text = str(payload["articles"][0].get("title", ""))
        label = text.strip() or str(Reply.Kind(kind).label)
        found[key] = label if len(label) <= 30 else label[:29] + "…"
    for key in MenuHandoff.objects.filter(account=account).values_list("click_key", flat=True):
        found[key] = f"{found[key]} · {_('转人工')}" if key in found else str(_("转人工"))
    return found


def latest_version(account: Account) -> MenuVersion | None:
    return MenuVersion.objects.filter(account=account).order_by("-number").first()


def get_version(account: Account, pk: int) -> MenuVersion:
    """A version of this account's menu, or MenuVersion.DoesNotExist."""
    return MenuVersion.objects.select_related("created_by", "published_by").get(
        account=account, pk=pk
    )


# ------------------------------------------------------------------ writing

# A version still publishing this long after its publish began was interrupted (the
# process died between WeChat calls): the versions page offers to publish it again.
PUBLISH_STALE = timedelta(minutes=2)
# WeChat's answer to menu/delconditional for a menuid it does not have.
NO_SUCH_MENUID = 65301


class MenuBusy(MenuInvalid):
    """A publish is already under way for this version or another of the account."""


class MenuDraftConflict(MenuInvalid):
    """The draft was saved by someone else after the builder loaded it."""


def _next_number(account: Account) -> int:
    Account.objects.select_for_update().filter(pk=account.pk).first()
    top = MenuVersion.objects.filter(account=account).aggregate(n=Max("number"))["n"]
    return (top or 0) + 1


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def save_menu_draft(
    account: Account,
    tree: Tree,
    conditional: list[Tree],
    *,
    actor: Any,
    note: str = "",
    draft: int | None = None,
    revision: int | None = None,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> MenuVersion:
    """Keep the builder's menu as a draft: the newest version when it is still a draft,
    otherwise a new version. A menu that breaks a rule is refused (MenuInvalid); one
    whose button names the text checker refuses, textcheck.TextRefused (a veto, or an
    error not dismissed: `dismissing` is 「忽略并保存」); their warnings are added to
    `warnings` (for the page to show, unchecked again).

    The builder says what it loaded: `draft`, the number of the draft (None when it
    loaded none) and its `revision`. When the newest draft is not that one at that
    revision, someone else saved meanwhile: MenuDraftConflict, and nothing is written.
    Without a `revision` there is no such check."""
    if actor is not None:
        permissions.require(actor, account, "menu.edit")
    validate_menu(account, tree, conditional)
    if len(note) > 200:
        raise MenuInvalid("说明最多 200 个字 / the note is at most 200 characters")
    conflict = MenuDraftConflict(
        "菜单草稿已被他人修改，请刷新后再改 / the draft changed meanwhile: reload it"
    )
    with transaction.atomic():
        textcheck.require_clean(
            account,
            menu_texts(tree, conditional),
            WHERE,
            dismissing=dismissing,
            actor=actor,
            warnings=warnings,
        )
        number = _next_number(account)
        latest = latest_version(account)
        if latest is not None and latest.status == MenuVersion.Status.DRAFT:
            if revision is not None and (draft, revision) != (latest.number, latest.revision):
                raise conflict
            version = latest
            updated = MenuVersion.objects.filter(
                pk=version.pk, status=MenuVersion.Status.DRAFT, revision=version.revision
            ).update(
                tree=tree,
                conditional=conditional,
                note=note,
                created_by=_user(actor),
                revision=F("revision") + 1,
            )
            if not updated:
                raise conflict
            version.refresh_from_db()
        else:
            if revision is not None and draft is not None and latest is not None:
                if latest.number != draft:
                    # The loaded draft was published and a newer version made since.
                    raise conflict
            version = MenuVersion.objects.create(
                account=account,
                number=number,
                tree=tree,
                conditional=conditional,
                note=note,
                created_by=_user(actor),
            )
        record(
            "menu.saved",
            account=account,
            actor=actor,
            version=version.number,
            conditional=len(conditional),
        )
    return version


def error_text(exc: WeChatAPIError) -> str:
    if exc.errcode is None:
        return f"无法连接微信接口 / WeChat unreachable: {exc.errmsg}"
    return f"微信返回错误 {exc.errcode}：{exc.errmsg} / WeChat errcode {exc.errcode}: {exc.errmsg}"


def _live_default(client: WeChatClient) -> Tree | None:
    """The default menu as WeChat has it now (set in the MP backend, say), to put back."""
    try:
        data = client.get_menu()
    except MenuNotFound:
        return None

    def strip(button: dict[str, Any]) -> dict[str, Any]:
        subs = button.get("sub_button")
        if isinstance(subs, dict):
            subs = subs.get("list")
        if subs:
            return {"name": button["name"], "sub_button": [strip(s) for s in subs]}
        return {k: v for k, v in button.items() if k != "sub_button"}

    menu = data.get("menu") or {}
    return {"button": [strip(b) for b in menu.get("button", [])]}


def _delete_unknown(client: WeChatClient, keep: frozenset[str]) -> str:
    """Delete the conditional menus WeChat has that no version of ours recorded: one
    added by a call whose answer was lost, or by a process that died before it stored
    the menuid. `keep`: the menuids to leave. Returns what could not be done."""
    try:
        data = client.get_menu()
    except MenuNotFound:
        return ""
    except WeChatAPIError as exc:
        return (
            f"\n未能检查是否残留个性化菜单：{error_text(exc)} / "
            "could not check for conditional menus left behind"
        )
    problems = ""
    for live in data.get("conditionalmenu") or []:
        menuid = str(live.get("menuid", ""))
        if not menuid or menuid in keep:
            continue
        try:
            client.delete_conditional_menu(menuid)
        except WeChatAPIError as exc:
            if exc.errcode != NO_SUCH_MENUID:
                problems += f"\n残留的个性化菜单 {menuid} 未能删除：{error_text(exc)}"
    return problems


def is_interrupted(version: MenuVersion, now: Any = None) -> bool:
    """A version left publishing: its publish began over PUBLISH_STALE ago."""
    if version.status != MenuVersion.Status.PUBLISHING:
        return False
    started = version.publish_started_at
    return started is None or started <= (now or timezone.now()) - PUBLISH_STALE


def _busy_elsewhere(account: Account, version: MenuVersion) -> None:
    other = (
        MenuVersion.objects.filter(account=account, status=MenuVersion.Status.PUBLISHING)
        .exclude(pk=version.pk)
        .order_by("number")
        .first()
    )
    if other is None:
        return
    if is_interrupted(other):
        raise MenuBusy(
            f"版本 {other.number} 的发布已中断，请先在历史版本中重新发布它 / "
            f"the publish of version {other.number} was interrupted: publish it again "
            "on the versions page first"
        )
    raise MenuBusy(
        f"另一个版本（版本 {other.number}）正在发布，请稍后再试 / "
        f"another version (version {other.number}) is being published: try again shortly"
    )


def _claim(version: MenuVersion, compiled: Tree, user: Any) -> MenuVersion | None:
    """Mark the version publishing, unless it or another version of the account already
    is (MenuBusy) or it is published. Returns the current version to replace."""
    account = version.account
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account.pk)
        now = timezone.now()
        claimed = MenuVersion.objects.filter(
            pk=version.pk,
            status__in=[MenuVersion.Status.DRAFT, MenuVersion.Status.FAILED],
        ).update(
            status=MenuVersion.Status.PUBLISHING,
            compiled=compiled,
            published_by=user,
            error="",
            menuids=[],
            publish_started_at=now,
        )
        if claimed != 1:
            status = MenuVersion.objects.filter(pk=version.pk).values_list("status", flat=True)
            if status.first() == MenuVersion.Status.PUBLISHING:
                raise MenuBusy(
                    f"版本 {version.number} 正在发布，请勿重复提交 / "
                    f"version {version.number} is already being published"
                )
            raise _already_published(version)
        # The claim is rolled back with this check when another version is publishing.
        _busy_elsewhere(account, version)
        previous = current_version(account)
    version.status, version.compiled, version.published_by = (
        MenuVersion.Status.PUBLISHING,
        compiled,
        user,
    )
    version.error, version.menuids, version.publish_started_at = "", [], now
    return previous


def _already_published(version: MenuVersion) -> MenuInvalid:
    return MenuInvalid(
        f"版本 {version.number} 已经发布；要再次使用它请恢复该版本 / "
        f"version {version.number} is already published: restore it instead"
    )


def publish_menu(version: MenuVersion, *, actor: Any) -> MenuVersion:
    """Publish a draft (or a failed version) through the WeChat API.

    Validated first: an invalid menu raises MenuInvalid and nothing is sent. One publish
    at a time per account: the version is claimed (status PUBLISHING) under a lock on
    the account, and a version already publishing, or another version publishing,
    raises MenuBusy. What is sent is stored before it is sent, and each conditional
    menu's menuid as soon as WeChat gives it. On WeChat's refusal the version is marked
    failed with WeChat's errcode and message and what became of the previous menu, the
    previous menu is put back, and MenuPublishFailed is raised."""
    account = version.account
    if actor is not None:
        permissions.require(actor, account, "menu.publish")
    if version.status == MenuVersion.Status.PUBLISHED:
        raise _already_published(version)
    validate_menu(account, version.tree, version.conditional)
    compiled = compile_menu(account, version.tree, version.conditional)
    user = _user(actor)
    previous = _claim(version, compiled, user)
    return _send(version, compiled, previous, actor)


def _keep_menuids(version: MenuVersion, menuids: list[str]) -> None:
    """Store the conditional menus WeChat has for this version now (its own commit)."""
    MenuVersion.objects.filter(pk=version.pk).update(menuids=list(menuids))
    version.menuids = list(menuids)


def _send(
    version: MenuVersion, compiled: Tree, previous: MenuVersion | None, actor: Any
) -> MenuVersion:
    account = version.account
    client = WeChatClient(account)
    added: list[str] = []
    replaced = adding = False
    fallback: Tree | None = None
    try:
        fallback = previous.compiled["menu"] if previous is not None else _live_default(client)
        try:
            client.create_menu(compiled["menu"])
        except TransportError:
            # No answer: WeChat may have applied the menu all the same.
            replaced = True
            raise
        replaced = True
        for menu in compiled["conditional"]:
            adding = True
            added.append(client.add_conditional_menu(menu))
            adding = False
            _keep_menuids(version, added)
    except WeChatAPIError as exc:
        error = error_text(exc)
        no_answer = exc.errcode is None
        # An unanswered addconditional may have added a menu whose menuid we never got.
        lost = frozenset(previous.menuids if previous is not None else [])
        error += _put_back(
            client,
            added,
            fallback,
            replaced,
            no_answer=no_answer,
            keep=lost if no_answer and adding else None,
        )
        with transaction.atomic():
            MenuVersion.objects.filter(pk=version.pk).update(
                status=MenuVersion.Status.FAILED, error=error, menuids=[]
            )
            record(
                "menu.publish_failed",
                account=account,
                actor=actor,
                version=version.number,
                errcode=exc.errcode,
                errmsg=exc.errmsg,
            )
        version.status, version.error, version.menuids = MenuVersion.Status.FAILED, error, []
        raise MenuPublishFailed(version) from exc

    note = ""
    for menuid in previous.menuids if previous is not None else []:
        try:
            client.delete_conditional_menu(menuid)
        except WeChatAPIError as exc:
            if exc.errcode == NO_SUCH_MENUID:
                continue
            # The new conditional menus are newer, so they win for their tags; an old one
            # for a tag no longer used still shows until it is deleted by hand.
            note += f"旧个性化菜单 {menuid} 未能删除：{error_text(exc)}\n"
    now = timezone.now()
    with transaction.atomic():
        MenuVersion.objects.filter(pk=version.pk).update(
            status=MenuVersion.Status.PUBLISHED, published_at=now, menuids=added, error=note
        )
        record(
            "menu.published",
            account=account,
            actor=actor,
            version=version.number,
            menuids=added,
        )
    version.status, version.published_at, version.menuids = (
        MenuVersion.Status.PUBLISHED,
        now,
        added,
    )
    version.error = note
    return version


def _put_back(
    client: WeChatClient,
    added: list[str],
    fallback: Tree | None,
    replaced: bool,
    *,
    no_answer: bool = False,
    keep: frozenset[str] | None = None,
) -> str:
    """Undo a half-done publish; returns what became of the previous menu (and what
    could not be undone), to add to the error. With `keep` (after an addconditional
    WeChat did not answer), the conditional menus WeChat has are looked for too, and all
    but `keep` (the previous version's) deleted."""
    problems = ""
    for menuid in added:
        try:
            client.delete_conditional_menu(menuid)
        except WeChatAPIError as exc:
            problems += f"\n新个性化菜单 {menuid} 未能撤回：{error_text(exc)}"
    if keep is not None:
        problems += _delete_unknown(client, keep)
    if not replaced:
        return problems + "\n原菜单保持不变 / the previous menu is unchanged"
    had_menu = bool(fallback and fallback.get("button"))
    try:
        if fallback and had_menu:
            client.create_menu(fallback)
        else:
            # There was no menu before: deleting also removes conditional menus, but
            # none of ours existed (no version had been published).
            client.delete_menu()
    except WeChatAPIError as exc:
        if no_answer:
            return problems + (
                f"\n微信没有应答，也未能重新发布原菜单，粉丝看到的菜单不确定：{error_text(exc)} / "
                "WeChat did not answer and the previous menu could not be published "
                "again: check the menu followers see"
            )
        return problems + (
            f"\n未能恢复原菜单：{error_text(exc)} / the previous menu could not be put back"
        )
    if not had_menu:
        return (
            problems
            + "\n已删除新菜单，与之前一样没有菜单 / the new menu was deleted: no menu, as before"
        )
    if no_answer:
        return problems + (
            "\n微信没有应答；已重新发布原菜单 / "
            "WeChat did not answer; the previous menu was published again"
        )
    return problems + "\n已恢复原菜单 / the previous menu was put back"


def republish_menu(version: MenuVersion, *, actor: Any) -> MenuVersion:
    """重新发布 an interrupted publish: delete the conditional menus the interrupted
    publish recorded, then publish the version again. MenuInvalid when the version is
    not interrupted; MenuPublishFailed when a recorded menu cannot be deleted (the
    version stays interrupted, to try again) or WeChat refuses the publish."""
    account = version.account
    if actor is not None:
        permissions.require(actor, account, "menu.publish")
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account.pk)
        now = timezone.now()
        claimed = (
            MenuVersion.objects.filter(pk=version.pk, status=MenuVersion.Status.PUBLISHING)
            .exclude(publish_started_at__gt=now - PUBLISH_STALE)
            .update(publish_started_at=now)
        )
        if claimed != 1:
            raise MenuBusy(
                f"版本 {version.number} 没有中断的发布 / "
                f"version {version.number} has no interrupted publish"
            )
        version.refresh_from_db()
        record(
            "menu.republished",
            account=account,
            actor=actor,
            version=version.number,
            menuids=version.menuids,
        )
    client = WeChatClient(account)
    left = list(version.menuids)
    for menuid in list(left):
        try:
            client.delete_conditional_menu(menuid)
        except WeChatAPIError as exc:
            if exc.errcode != NO_SUCH_MENUID:
                # Still interrupted: it may be tried again at once.
                MenuVersion.objects.filter(pk=version.pk).update(
                    publish_started_at=now - PUBLISH_STALE,
                    error=f"中断的发布留下的个性化菜单 {menuid} 未能删除：{error_text(exc)}",
                )
                version.refresh_from_db()
                raise MenuPublishFailed(version) from exc
        left.remove(menuid)
        _keep_menuids(version, left)
    # The process may have died after WeChat added a conditional menu and before its
    # menuid was stored: every conditional menu but the published version's goes.
    published = current_version(account)
    keep = frozenset(published.menuids if published is not None else [])
    leftover = _delete_unknown(client, keep)
    try:
        validate_menu(account, version.tree, version.conditional)
    except MenuInvalid as exc:
        # The interrupted publish may have set its default menu already: followers get
        # the published version's menu again (or none, as before the first publish).
        fallback = published.compiled["menu"] if published is not None else None
        put_back = _put_back(client, [], fallback, True)
        MenuVersion.objects.filter(pk=version.pk).update(
            status=MenuVersion.Status.FAILED, error=str(exc.message) + leftover + put_back
        )
        version.refresh_from_db()
        raise
    compiled = compile_menu(account, version.tree, version.conditional)
    user = _user(actor)
    MenuVersion.objects.filter(pk=version.pk).update(compiled=compiled, published_by=user, error="")
    version.compiled, version.published_by, version.error = compiled, user, ""
    version = _send(version, compiled, published, actor)
    if leftover:
        version.error = (version.error + leftover).strip()
        MenuVersion.objects.filter(pk=version.pk).update(error=version.error)
    return version


def restore_menu_version(version: MenuVersion, *, actor: Any) -> MenuVersion:
    """Publish an earlier version again, as a new version copied from it."""
    account = version.account
    if actor is not None:
        permissions.require(actor, account, "menu.publish")
    validate_menu(account, version.tree, version.conditional)
    with transaction.atomic():
        number = _next_number(account)
        _busy_elsewhere(account, version)
        copy = MenuVersion.objects.create(
            account=account,
            number=number,
            tree=version.tree,
            conditional=version.conditional,
            note=f"恢复自版本 {version.number}",
            restored_from=version,
            created_by=_user(actor),
        )
        record(
            "menu.restored",
            account=account,
            actor=actor,
            version=copy.number,
            restored_from=version.number,
        )
    return publish_menu(copy, actor=actor)


# ------------------------------------------------------------------ follower tags

TAGS_TTL = 24 * 3600


def _tags_key(account: Account) -> str:
    return f"govwx:menu:tags:{account.pk}"


def _stamp() -> str:
    """Now in UTC, fixed width: two stamps compare as strings (the builder does)."""
    return timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tags_state(account: Account) -> dict[str, Any]:
    """The follower tags as last read from WeChat: {"tags": [{"id", "name", "count"}],
    "read_at": ISO time of the last reading ("" for none), "error": why it failed}."""
    cached = cache.get(_tags_key(account))
    if not isinstance(cached, dict):
        return {"tags": [], "read_at": "", "error": ""}
    return {
        "tags": list(cached.get("tags") or []),
        "read_at": str(cached.get("read_at") or ""),
        "error": str(cached.get("error") or ""),
    }


def account_tags(account: Account) -> list[dict[str, Any]]:
    """The account's follower tags for conditional menus, as last read from WeChat."""
    return list(tags_state(account)["tags"])


def refresh_account_tags(account: Account) -> dict[str, Any]:
    """Read the follower tags from WeChat now and keep them (or, when WeChat cannot be
    asked, keep the earlier ones with the error). Returns the new `tags_state`."""
    state = tags_state(account)
    read_at = _stamp()
    try:
        tags = [
            {"id": int(t["id"]), "name": str(t.get("name", "")), "count": int(t.get("count", 0))}
            for t in WeChatClient(account).get_tags()
            if str(t.get("id", "")).isdigit()
        ]
    except WeChatAPIError as exc:
        state = {"tags": state["tags"], "read_at": read_at, "error": error_text(exc)}
    else:
        state = {"tags": tags, "read_at": read_at, "error": ""}
    cache.set(_tags_key(account), state, timeout=TAGS_TTL)
    return state


@task()
def refresh_tags_task(account_id: int) -> int:
    """从微信读取标签 in the background; returns how many tags were read."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    return len(refresh_account_tags(account)["tags"])


def request_tags_refresh(account: Account, *, actor: Any) -> str:
    """Have the follower tags read from WeChat in the background (after commit).
    Returns the time of the request: a `tags_state` read at or after it is the answer."""
    if actor is not None:
        permissions.require(actor, account, "menu.edit")
    requested_at = _stamp()
    with transaction.atomic():
        record("menu.tags_refresh_requested", account=account, actor=actor)
        transaction.on_commit(lambda: refresh_tags_task.enqueue(account.pk))
    return requested_at
