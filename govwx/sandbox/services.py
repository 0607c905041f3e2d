"""Every write of the simulated platform: registering accounts, follower actions that
trigger callbacks, token issue, menus and customer-service messages.

Follower actions record the inbound entry, then call the account's server outside any
transaction (the server may call back into the sandbox's API meanwhile), then record the
outcome — the same order as the real platform: the user's message exists before the reply.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import callbacks
from .crypto import CryptoError, decode_key
from .errors import ApiError
from .menu import MAX_DOMAINS, domains, validate_conditional, validate_menu
from .models import AccessToken, Account, ConditionalMenu, Entry, Follower, Tag, Tagging

TOKEN_LIFETIME = timedelta(seconds=7200)
TOKEN_OVERLAP = timedelta(seconds=300)  # an old ordinary token lives 5 min past a refresh
WINDOW = timedelta(hours=48)
WINDOW_QUOTA = 5
# Follower actions that open (or reopen) the customer-service window (reference §2.5).
INTERACTIONS = {
    "text",
    "image",
    "voice",
    "video",
    "shortvideo",
    "location",
    "link",
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "subscribe",
}
MESSAGE_KINDS = {"text", "image", "voice", "video", "shortvideo", "location", "link"}
EVENT_KINDS = {
    "click",
    "view",
    "view_miniprogram",
    "location_select",
    "scancode_push",
    "scancode_waitmsg",
}
OPENID_ALPHABET = string.ascii_letters + string.digits + "-_"


class InvalidInput(ValueError):
    """Driver input that cannot be used; the message is shown to the caller (400)."""


class Conflict(ValueError):
    """A follower action that makes no sense in the follower's state (409)."""


# ------------------------------------------------------------------ accounts


@dataclass(frozen=True)
class AccountInput:
    name: str
    appid: str
    secret: str
    token: str
    aes_key: str = ""
    mode: str = Account.Mode.SAFE
    callback_url: str = ""
    original_id: str = ""
    # None: a new account's default (subscription, verified), an existing one's unchanged
    kind: str | None = None
    verified: bool | None = None


def clean_account(data: dict[str, Any]) -> AccountInput:
    """Validate registration fields as the MP backend's 服务器配置 form does."""

    def text(key: str, required: bool = True) -> str:
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise InvalidInput(f"{key} must be a string")
        if required and not value.strip():
            raise InvalidInput(f"{key} is required")
        return value.strip()

    values = AccountInput(
        name=text("name"),
        appid=text("appid"),
        secret=text("secret"),
        token=text("token"),
        aes_key=text("aes_key", required=False),
        mode=text("mode", required=False) or Account.Mode.SAFE,
        callback_url=text("callback_url", required=False),
        original_id=text("original_id", required=False),
        kind=text("type", required=False) or None,
        verified=data.get("verified"),
    )
    if values.kind is not None and values.kind not in Account.Kind.values:
        raise InvalidInput(
            "type 须为 subscription（订阅号）或 service（服务号） / "
            "type must be subscription or service"
        )
    if values.verified is not None and not isinstance(values.verified, bool):
        raise InvalidInput("verified 须为 true 或 false / verified must be true or false")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,32}", values.appid):
        raise InvalidInput("appid must be 1-32 letters, digits or _")
    if not re.fullmatch(r"[A-Za-z0-9]{3,32}", values.token):
        raise InvalidInput("token must be 3-32 letters or digits")
    if values.mode not in Account.Mode.values:
        raise InvalidInput(f"mode must be one of {', '.join(Account.Mode.values)}")
    if values.mode != Account.Mode.PLAINTEXT or values.aes_key:
        try:
            decode_key(values.aes_key)
        except CryptoError as exc:
            raise InvalidInput(f"aes_key: {exc}") from exc
    if values.callback_url and not re.match(r"https?://[^/\s]+", values.callback_url):
        raise InvalidInput("callback_url must be an http(s) URL")
    if values.original_id and not re.fullmatch(r"gh_[A-Za-z0-9]{1,28}", values.original_id):
        raise InvalidInput("original_id must look like gh_xxxxxxxxxxxx")
    if len(values.name) > 64 or len(values.secret) > 64:
        raise InvalidInput("name and secret are at most 64 characters")
    return values


def register_account(values: AccountInput, *, verify: bool = False) -> tuple[Account, bool]:
    """Create or update the account with this AppID; with `verify`, the server must first
    pass the GET URL check, as the MP backend requires before saving 服务器配置."""
    if verify:
        if not values.callback_url:
            raise InvalidInput("verify needs a callback_url")
        problem = callbacks.verify_url(_target_from(values, values.original_id or "gh_verify"))
        if problem:
            raise InvalidInput(f"URL verification failed: {problem}")
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(appid=values.appid).first()
        created = account is None
        if account is None:
            account = Account(appid=values.appid)
        account.name, account.secret, account.token = values.name, values.secret, values.token
        account.aes_key, account.mode, account.callback_url = (
            values.aes_key,
            values.mode,
            values.callback_url,
        )
        account.original_id = (
            values.original_id or account.original_id or "gh_" + secrets.token_hex(6)
        )
        if values.kind is not None:
            account.kind = values.kind
        if values.verified is not None:
            account.verified = values.verified
        account.save()
    return account, created


def _target_from(values: AccountInput | Account, original_id: str) -> callbacks.Target:
    return callbacks.Target(
        appid=values.appid,
        token=values.token,
        aes_key=values.aes_key,
        mode=values.mode,
        original_id=original_id,
        url=values.callback_url,
    )


def target(account: Account) -> callbacks.Target:
    return _target_from(account, account.original_id)


# ------------------------------------------------------------------ followers


def new_openid() -> str:
    """28 characters starting with 'o', like the OpenIDs WeChat issues."""
    return "o" + "".join(secrets.choice(OPENID_ALPHABET) for _ in range(27))


def create_follower(account: Account, openid: str = "", nickname: str = "") -> Follower:
    openid = openid or new_openid()
    if not re.fullmatch(r"[A-Za-z0-9_-]{6,64}", openid):
        raise InvalidInput("openid must be 6-64 letters, digits, - or _")
    if len(nickname) > 64:
        raise InvalidInput("nickname is at most 64 characters")
    if Follower.objects.filter(account=account, openid=openid).exists():
        raise Conflict("a follower with this openid already exists")
    return Follower.objects.create(account=account, openid=openid, nickname=nickname or openid[-6:])


def callback_timeout() -> float:
    """How long the platform waits for the account's server (each delivery's attempt)."""
    return float(getattr(settings, "GOVWX_SANDBOX_CALLBACK_TIMEOUT", callbacks.TIMEOUT))


def act(
    follower: Follower, kind: str, data: dict[str, Any], *, timeout: float | None = None
) -> tuple[Entry, callbacks.Delivery]:
    """A follower does something that WeChat pushes to the account's server.

    Records the inbound entry and the interaction, performs the callback (with retries),
    then records the delivery and the passive reply, if one is shown.
    """
    account = follower.account
    if kind == "subscribe" and follower.subscribed:
        raise Conflict("the follower already follows this account")
    if kind != "subscribe" and not follower.subscribed:
        raise Conflict("the follower does not follow this account")
    now = timezone.now()
    create_time = int(now.timestamp())
    msg_id = callbacks.new_msg_id()
    _, fields = callbacks.message_fields(
        kind,
        data,
        to=account.original_id,
        openid=follower.openid,
        create_time=create_time,
        msg_id=msg_id,
    )
    payload = {"msg_type": kind, **data}
    with transaction.atomic():
        entry = Entry.objects.create(
            follower=follower,
            kind=Entry.Kind.INBOUND,
            msg_type=kind,
            payload=payload,
            delivery={
                "msg_id": msg_id if kind in MESSAGE_KINDS else None,
                "create_time": create_time,
            },
            created_at=now,
        )
        updates: dict[str, Any] = {}
        if kind in INTERACTIONS:
            updates.update(last_interaction_at=now, window_sent=0)
        if kind == "subscribe":
            scene = data.get("scene", "")
            updates.update(
                subscribed=True,
                subscribe_time=now,
                subscribe_scene="ADD_SCENE_QR_CODE" if scene else "ADD_SCENE_SEARCH",
                qr_scene_str=scene,
            )
        elif kind == "unsubscribe":
            updates.update(subscribed=False, last_interaction_at=None, window_sent=0)
        if updates:
            Follower.objects.filter(pk=follower.pk).update(**updates)
            for key, value in updates.items():
                setattr(follower, key, value)

    delivery = callbacks.deliver(
        target(account),
        kind,
        fields,
        openid=follower.openid,
        create_time=create_time,
        msg_type=kind,
        timeout=callback_timeout() if timeout is None else timeout,
    )
    if kind == "unsubscribe":
        delivery.reply = None  # WeChat shows nothing to someone who just left
    with transaction.atomic():
        entry.delivery = {**(entry.delivery or {}), **delivery.as_json(), "log": delivery.log}
        entry.save(update_fields=["delivery"])
        if delivery.reply is not None:
            Entry.objects.create(
                follower=follower,
                kind=Entry.Kind.REPLY,
                msg_type=delivery.reply["msg_type"],
                payload=delivery.reply,
                created_at=timezone.now(),
            )
    return entry, delivery


def clean_action(data: Any) -> tuple[str, dict[str, Any]]:
    """Validate a driver message body: {type, ...fields}; return (kind, fields to send)."""
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    kind = data.get("type")
    if kind not in MESSAGE_KINDS | EVENT_KINDS:
        raise InvalidInput(f"type must be one of {', '.join(sorted(MESSAGE_KINDS | EVENT_KINDS))}")

    def text(key: str, default: str | None = None, limit: int = 2048) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or (default is None and not value):
            raise InvalidInput(f"{key} is required for type {kind}")
        if len(value.encode()) > limit:
            raise InvalidInput(f"{key} is longer than {limit} bytes")
        return value

    def number(key: str, default: float | None = None) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{key} must be a number for type {kind}")
        return float(value)

    if kind == "text":
        return kind, {"content": text("content")}
    if kind == "image":
        return kind, {
            "pic_url": text("pic_url"),
            "media_id": text("media_id", secrets.token_urlsafe(24)),
        }
    if kind == "voice":
        return kind, {
            "media_id": text("media_id", secrets.token_urlsafe(24)),
            "format": text("format", "amr"),
            "recognition": text("recognition", ""),
        }
    if kind in ("video", "shortvideo"):
        return kind, {
            "media_id": text("media_id", secrets.token_urlsafe(24)),
            "thumb_media_id": text("thumb_media_id", secrets.token_urlsafe(24)),
        }
    if kind == "location":
        return kind, {
            "x": number("x"),
            "y": number("y"),
            "scale": int(number("scale", 15)),
            "label": text("label", ""),
        }
    if kind == "link":
        return kind, {
            "title": text("title"),
            "description": text("description", ""),
            "url": text("url"),
        }
    if kind in ("view", "view_miniprogram"):
        # menu_id: the conditional menu's menuid, when the follower sees one
        field, limit = ("url", 1024) if kind == "view" else ("pagepath", 256)
        menu_id = text("menu_id", "", limit=32)
        return kind, {field: text(field, limit=limit), **({"menu_id": menu_id} if menu_id else {})}
    if kind == "location_select":
        x, y = number("x"), number("y")
        if not (-90 <= x <= 90 and -180 <= y <= 180):
            raise InvalidInput("x is a latitude (-90..90), y a longitude (-180..180)")
        return kind, {
            "key": text("key", limit=128),
            "x": x,
            "y": y,
            "scale": int(number("scale", 15)),
            "label": text("label", ""),
            "poiname": text("poiname", ""),
        }
    if kind == "click":
        return kind, {"key": text("key", limit=128)}
    return kind, {"key": text("key", limit=128), "scan_result": text("scan_result", "")}


# ------------------------------------------------------------------ access tokens


def _new_token(account: Account, kind: str, now: datetime) -> AccessToken:
    return AccessToken.objects.create(
        account=account,
        kind=kind,
        token=secrets.token_urlsafe(120)[:160],
        expires_at=now + TOKEN_LIFETIME,
        created_at=now,
    )


def _credentials(appid: Any, secret: Any, bad_secret_code: int) -> Account:
    if not appid:
        raise ApiError(41002)
    if not secret:
        raise ApiError(41004)
    account = Account.objects.filter(appid=appid).first()
    if account is None:
        raise ApiError(40013)
    if not secrets.compare_digest(str(secret).encode(), account.secret.encode()):
        raise ApiError(
            bad_secret_code,
            "AppSecret error or access_token is invalid" if bad_secret_code == 40001 else None,
        )
    return account


def issue_token(grant_type: Any, appid: Any, secret: Any) -> AccessToken:
    """/cgi-bin/token: a new token each call; older ones stay valid for 5 more minutes."""
    if grant_type != "client_credential":
        raise ApiError(40002)
    account = _credentials(appid, secret, 40001)
    now = timezone.now()
    with transaction.atomic():
        AccessToken.objects.filter(
            account=account,
            kind=AccessToken.Kind.NORMAL,
            invalid_after__isnull=True,
            expires_at__gt=now,
        ).update(invalid_after=now + TOKEN_OVERLAP)
        return _new_token(account, AccessToken.Kind.NORMAL, now)


def issue_stable_token(grant_type: Any, appid: Any, secret: Any, force_refresh: Any) -> AccessToken:
    """/cgi-bin/stable_token: the same token until it is 5 minutes from expiry; force_refresh
    invalidates it at once. Kept apart from ordinary tokens, as WeChat does."""
    if grant_type != "client_credential":
        raise ApiError(40002)
    if not isinstance(force_refresh, bool):
        raise ApiError(40035, "invalid parameter: force_refresh must be a boolean")
    account = _credentials(appid, secret, 40125)
    now = timezone.now()
    with transaction.atomic():
        current = (
            AccessToken.objects.select_for_update()
            .filter(
                account=account,
                kind=AccessToken.Kind.STABLE,
                invalid_after__isnull=True,
                expires_at__gt=now,
            )
            .order_by("-expires_at")
            .first()
        )
        if current is not None and not force_refresh and current.expires_at - now > TOKEN_OVERLAP:
            return current
        if force_refresh:
            AccessToken.objects.filter(
                account=account, kind=AccessToken.Kind.STABLE, invalid_after__isnull=True
            ).update(invalid_after=now)
        return _new_token(account, AccessToken.Kind.STABLE, now)


def account_for_token(token: str | None) -> Account:
    """The account an API call acts for; WeChat's token errors otherwise."""
    if not token:
        raise ApiError(41001)
    row = AccessToken.objects.select_related("account").filter(token=token).first()
    now = timezone.now()
    if row is None or (row.invalid_after is not None and now >= row.invalid_after):
        raise ApiError(40001)
    if now >= row.expires_at:
        raise ApiError(42001)
    return row.account


# ------------------------------------------------------------------ menu


def create_menu(account: Account, data: Any) -> None:
    menu = validate_menu(data)
    Account.objects.filter(pk=account.pk).update(menu=menu, updated_at=timezone.now())


def delete_menu(account: Account) -> None:
    """menu/delete: the default menu and every conditional menu with it (§2.4)."""
    with transaction.atomic():
        ConditionalMenu.objects.filter(account=account).delete()
        Account.objects.filter(pk=account.pk).update(menu=None, updated_at=timezone.now())


def add_conditional_menu(account: Account, data: Any) -> ConditionalMenu:
    """menu/addconditional: needs a default menu (65303), a tag the account has (45159),
    no privacy fields in the rule (65320), and at most 3 link domains over all the
    account's conditional menus (65316)."""
    menu, rule = validate_conditional(data)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if not account.menu:
            raise ApiError(65303)
        if (
            "tag_id" in rule
            and not Tag.objects.filter(account=account, tag_id=int(rule["tag_id"])).exists()
        ):
            raise ApiError(45159)
        linked = domains(menu)
        for other in ConditionalMenu.objects.filter(account=account):
            linked |= domains({"button": other.button})
        if len(linked) > MAX_DOMAINS:
            raise ApiError(65316)
        menuid = 200_000_000 + secrets.randbelow(800_000_000)
        while ConditionalMenu.objects.filter(menuid=menuid).exists():
            menuid = 200_000_000 + secrets.randbelow(800_000_000)
        return ConditionalMenu.objects.create(
            account=account,
            menuid=menuid,
            button=menu["button"],
            matchrule=rule,
            created_at=timezone.now(),
        )


def delete_conditional_menu(account: Account, data: Any) -> None:
    if not isinstance(data, dict):
        raise ApiError(47001)
    menuid = str(data.get("menuid", "")).strip()
    if not menuid.isdigit():
        raise ApiError(65301)
    deleted, _ = ConditionalMenu.objects.filter(account=account, menuid=int(menuid)).delete()
    if not deleted:
        raise ApiError(65301)


def menu_for(account: Account, follower: Follower | None) -> tuple[dict[str, Any] | None, str]:
    """The menu a follower sees and its menuid ("" for the default menu): the newest
    conditional menu whose rule matches, else the default. A follower with several tags
    is matched on the tag applied last; the simulated phone is platform 3 (others)."""
    if not account.menu:
        return None, ""
    if follower is not None:
        latest = follower.taggings.select_related("tag").order_by("-tagged_at", "-id").first()
        tag = str(latest.tag.tag_id) if latest is not None else None
        for menu in ConditionalMenu.objects.filter(account=account).order_by("-created_at", "-id"):
            rule = menu.matchrule
            if "tag_id" in rule and rule["tag_id"] != tag:
                continue
            if rule.get("client_platform_type", "3") != "3":
                continue
            return {"button": menu.button}, str(menu.menuid)
    return account.menu, ""


def try_match(account: Account, data: Any) -> dict[str, Any]:
    """menu/trymatch: {"user_id": openid} → the menu that follower sees."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    follower = Follower.objects.filter(account=account, openid=data.get("user_id") or "").first()
    if follower is None:
        raise ApiError(65302)
    menu, _ = menu_for(account, follower)
    if menu is None:
        raise ApiError(46003)
    return menu


# ------------------------------------------------------------------ follower tags (§2.11)

MAX_TAGS, MAX_TAGS_PER_FOLLOWER, TAG_NAME_BYTES, BATCH = 100, 20, 30, 50
FIRST_TAG_ID = 100  # 0, 1 and 2 are WeChat's own


def create_tag(account: Account, data: Any) -> Tag:
    """tags/create {"tag": {"name"}}: 45158 name empty or over 30 bytes, 45157 a name
    in use, 45056 the 101st tag."""
    tag = data.get("tag") if isinstance(data, dict) else None
    if not isinstance(tag, dict):
        raise ApiError(47001)
    name = tag.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.encode()) > TAG_NAME_BYTES:
        raise ApiError(45158)
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        tags = Tag.objects.filter(account=account)
        if tags.filter(name=name).exists():
            raise ApiError(45157)
        if tags.count() >= MAX_TAGS:
            raise ApiError(45056)
        top = max([FIRST_TAG_ID - 1, *tags.values_list("tag_id", flat=True)])
        return Tag.objects.create(account=account, tag_id=top + 1, name=name)


def tag_list(account: Account) -> list[dict[str, Any]]:
    return [
        {"id": t.tag_id, "name": t.name, "count": t.taggings.count()}
        for t in Tag.objects.filter(account=account).order_by("tag_id")
    ]


def _tag(account: Account, tag_id: Any) -> Tag:
    if isinstance(tag_id, bool) or not str(tag_id).strip().isdigit():
        raise ApiError(45159)
    tag = Tag.objects.filter(account=account, tag_id=int(str(tag_id).strip())).first()
    if tag is None:
        raise ApiError(45159)
    return tag


def batch_tag(account: Account, data: Any) -> None:
    """tags/members/batchtagging {"openid_list": [...], "tagid"}: 40032 an empty list
    or more than 50, 45159 unknown tag, 40003 an openid not of this account, 45059 a
    follower who would carry more than 20 tags. All or nothing."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    openids = data.get("openid_list")
    if not isinstance(openids, list) or not 0 < len(openids) <= BATCH:
        raise ApiError(40032)
    tag = _tag(account, data.get("tagid"))
    now = timezone.now()
    with transaction.atomic():
        followers = []
        for openid in openids:
            follower = Follower.objects.filter(account=account, openid=str(openid)).first()
            if follower is None:
                raise ApiError(40003)
            followers.append(follower)
        for follower in followers:
            if follower.taggings.filter(tag=tag).exists():
                continue
            if follower.taggings.count() >= MAX_TAGS_PER_FOLLOWER:
                raise ApiError(45059)
            Tagging.objects.create(follower=follower, tag=tag, tagged_at=now)


def tag_ids_of(account: Account, data: Any) -> list[int]:
    """tags/getidlist {"openid"}: the follower's tags, in the order they were applied."""
    openid = data.get("openid") if isinstance(data, dict) else None
    follower = Follower.objects.filter(account=account, openid=openid or "").first()
    if follower is None:
        raise ApiError(40003)
    return [t.tag.tag_id for t in follower.taggings.select_related("tag")]


def tag_follower(follower: Follower, tag_id: Any = None, name: Any = None) -> Tag:
    """Driver: put a follower in a tag, by id or by name (a new name creates the tag)."""
    account = follower.account
    try:
        with transaction.atomic():
            return _tag_follower(follower, account, tag_id, name)
    except ApiError as exc:
        raise InvalidInput(f"{exc.errcode} {exc.errmsg}") from exc


def _tag_follower(follower: Follower, account: Account, tag_id: Any, name: Any) -> Tag:
    if name is not None:
        if not isinstance(name, str):
            raise InvalidInput("name must be a string")
        tag = Tag.objects.filter(account=account, name=name).first()
        if tag is None:
            tag = create_tag(account, {"tag": {"name": name}})
    else:
        tag = _tag(account, tag_id)
    batch_tag(account, {"openid_list": [follower.openid], "tagid": tag.tag_id})
    return tag


# ------------------------------------------------------------------ customer-service messages

_CUSTOM_REQUIRED: dict[str, tuple[str, ...]] = {
    "text": ("content",),
    "image": ("media_id",),
    "voice": ("media_id",),
    "video": ("media_id",),
    "music": ("musicurl", "hqmusicurl", "thumb_media_id"),
    "news": ("articles",),
    "mpnews": ("media_id",),
    "mpnewsarticle": ("article_id",),
    "msgmenu": ("list",),
    "wxcard": ("card_id",),
    "miniprogrampage": ("appid", "pagepath", "thumb_media_id"),
}
_EMPTY_CODE = {"text": 44004, "news": 44003}


def custom_payload(data: Any) -> dict[str, Any]:
    """Validate a message/custom/send body and normalise it to the conversation's shape."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    msgtype = data.get("msgtype")
    if msgtype not in _CUSTOM_REQUIRED:
        raise ApiError(40008)
    body = data.get(msgtype)
    if not isinstance(body, dict):
        raise ApiError(_EMPTY_CODE.get(msgtype, 47001))
    for key in _CUSTOM_REQUIRED[msgtype]:
        if body.get(key) in (None, "", []):
            raise ApiError(_EMPTY_CODE.get(msgtype, 40007 if key == "media_id" else 47001))
    payload: dict[str, Any] = {"msg_type": msgtype}
    if msgtype == "news":
        articles = body["articles"]
        if not isinstance(articles, list) or not all(isinstance(a, dict) for a in articles):
            raise ApiError(47001)
        if len(articles) > 1:
            raise ApiError(45008)
        payload["articles"] = [
            {
                "title": a.get("title", ""),
                "description": a.get("description", ""),
                "url": a.get("url", ""),
                "pic_url": a.get("picurl", ""),
            }
            for a in articles
        ]
    elif msgtype == "music":
        payload.update(
            title=body.get("title", ""),
            description=body.get("description", ""),
            music_url=body["musicurl"],
            hq_music_url=body["hqmusicurl"],
            thumb_media_id=body["thumb_media_id"],
        )
    else:
        payload.update({k: v for k, v in body.items() if isinstance(k, str)})
    kf = data.get("customservice")
    if isinstance(kf, dict) and kf.get("kf_account"):
        payload["kf_account"] = kf["kf_account"]
    return payload


def send_custom_message(account: Account, data: Any) -> Entry:
    """message/custom/send: only inside the 48-hour window, at most 5 per window."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    openid = data.get("touser")
    if not openid:
        raise ApiError(40003)
    payload = custom_payload(data)
    now = timezone.now()
    with transaction.atomic():
        follower = (
            Follower.objects.select_for_update().filter(account=account, openid=openid).first()
        )
        if follower is None:
            raise ApiError(40003)
        if (
            not follower.subscribed
            or follower.last_interaction_at is None
            or now - follower.last_interaction_at > WINDOW
        ):
            raise ApiError(45015)
        claimed = Follower.objects.filter(pk=follower.pk, window_sent__lt=WINDOW_QUOTA).update(
            window_sent=F("window_sent") + 1
        )
        if not claimed:
            raise ApiError(45047)
        return Entry.objects.create(
            follower=follower,
            kind=Entry.Kind.CUSTOMER_SERVICE,
            msg_type=payload["msg_type"],
            payload=payload,
            created_at=now,
        )


def send_template_message(account: Account, data: Any) -> Entry:
    """message/template/send: to any follower who follows, outside the 48-hour window too.
    Fields are {key: {"value": text}}; since 2023 WeChat shows each in one line of at most
    20 characters, so longer values are refused here as a reminder."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    template_id = data.get("template_id")
    if not isinstance(template_id, str) or not template_id.strip():
        raise ApiError(40037)
    fields = data.get("data")
    if (
        not isinstance(fields, dict)
        or not fields
        or not all(
            isinstance(v, dict) and isinstance(v.get("value"), str) and len(v["value"]) <= 20
            for v in fields.values()
        )
    ):
        raise ApiError(47001)
    url = data.get("url", "")
    if not isinstance(url, str):
        raise ApiError(47001)
    follower = Follower.objects.filter(account=account, openid=data.get("touser") or "").first()
    if follower is None:
        raise ApiError(40003)
    if not follower.subscribed:
        raise ApiError(43004)
    return Entry.objects.create(
        follower=follower,
        kind=Entry.Kind.TEMPLATE,
        msg_type="template",
        payload={
            "msg_type": "template",
            "template_id": template_id,
            "url": url,
            "data": {k: v["value"] for k, v in fields.items()},
        },
        created_at=timezone.now(),
    )


def follow(follower: Follower, scene: str = "") -> tuple[Entry, callbacks.Delivery]:
    """Follow, optionally by scanning a parametric QR code with scene `scene`."""
    if len(scene) > 64:
        raise InvalidInput("scene is at most 64 characters")
    data = {"scene": scene, "ticket": "gQ" + secrets.token_urlsafe(60)} if scene else {}
    return act(follower, "subscribe", data)


def unfollow(follower: Follower) -> tuple[Entry, callbacks.Delivery]:
    return act(follower, "unsubscribe", {})
