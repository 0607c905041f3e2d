"""HTTP faces of the sandbox: WeChat's API (/cgi-bin/…), the JSON driver API (/api/…) and
the phone page. Views only parse, call one service and answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from . import jobs, media, services, wecom
from .callbacks import UNAVAILABLE
from .errors import OK, ApiError
from .models import Account, ConditionalMenu, Entry, Follower, Robot, RobotMessage

View = Callable[..., HttpResponse]
ApiView = Callable[..., dict[str, Any]]  # returns WeChat's JSON object


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data,
        status=status,
        safe=False,
        json_dumps_params={"ensure_ascii": False},
        content_type="application/json; charset=utf-8",
    )


# ------------------------------------------------------------------ WeChat API


def _api_body(request: HttpRequest) -> Any:
    if not request.body.strip():
        raise ApiError(44002)
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(47001) from exc


def wechat_api(method: str, needs_token: bool = True) -> Callable[[ApiView], View]:
    """WeChat answers every API error as HTTP 200 with errcode/errmsg; so do we."""

    def decorate(view: ApiView) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            try:
                if method == "POST" and request.method != "POST":
                    raise ApiError(43002)
                if needs_token:
                    account = services.account_for_token(request.GET.get("access_token"))
                    jobs.run_due(account)  # tasks due by now end before WeChat answers
                    return json_response(view(request, account))
                return json_response(view(request))
            except ApiError as exc:
                return json_response(exc.as_json())

        return wrapper

    return decorate


def _token_json(token: Any) -> dict[str, Any]:
    from django.utils import timezone

    remaining = round((token.expires_at - timezone.now()).total_seconds())
    return {"access_token": token.token, "expires_in": max(remaining, 0)}


@wechat_api("GET", needs_token=False)
def token(request: HttpRequest) -> dict[str, Any]:
    q = request.GET
    issued = services.issue_token(q.get("grant_type"), q.get("appid"), q.get("secret"))
    return _token_json(issued)


@wechat_api("POST", needs_token=False)
def stable_token(request: HttpRequest) -> dict[str, Any]:
    body = _api_body(request)
    if not isinstance(body, dict):
        raise ApiError(47001)
    issued = services.issue_stable_token(
        body.get("grant_type"),
        body.get("appid"),
        body.get("secret"),
        body.get("force_refresh", False),
    )
    return _token_json(issued)


@wechat_api("POST")
def menu_create(request: HttpRequest, account: Account) -> dict[str, Any]:
    services.create_menu(account, _api_body(request))
    return OK


def _menu_json(menu: dict[str, Any]) -> dict[str, Any]:
    """WeChat's menu/get lists `sub_button: []` on every leaf; reproduce that shape."""

    def leaf(button: dict[str, Any]) -> dict[str, Any]:
        subs = button.get("sub_button") or []
        return {**button, "sub_button": [leaf(s) for s in subs]}

    return {"button": [leaf(b) for b in menu.get("button", [])]}


@wechat_api("GET")
def menu_get(request: HttpRequest, account: Account) -> dict[str, Any]:
    """The default menu and, when there are any, the conditional menus (newest first)."""
    account.refresh_from_db(fields=["menu"])
    if not account.menu:
        raise ApiError(46003)
    answer: dict[str, Any] = {"menu": _menu_json(account.menu)}
    conditional = list(ConditionalMenu.objects.filter(account=account))
    if conditional:
        answer["conditionalmenu"] = [
            {
                **_menu_json({"button": c.button}),
                "matchrule": c.matchrule,
                "menuid": c.menuid,
            }
            for c in conditional
        ]
    return answer


@wechat_api("GET")
def menu_delete(request: HttpRequest, account: Account) -> dict[str, Any]:
    services.delete_menu(account)
    return OK


@wechat_api("POST")
def menu_addconditional(request: HttpRequest, account: Account) -> dict[str, Any]:
    menu = services.add_conditional_menu(account, _api_body(request))
    return {"menuid": str(menu.menuid)}


@wechat_api("POST")
def menu_delconditional(request: HttpRequest, account: Account) -> dict[str, Any]:
    services.delete_conditional_menu(account, _api_body(request))
    return OK


@wechat_api("POST")
def menu_trymatch(request: HttpRequest, account: Account) -> dict[str, Any]:
    return {"menu": _menu_json(services.try_match(account, _api_body(request)))}


@wechat_api("POST")
def tags_create(request: HttpRequest, account: Account) -> dict[str, Any]:
    tag = services.create_tag(account, _api_body(request))
    return {"tag": {"id": tag.tag_id, "name": tag.name}}


@wechat_api("GET")
def tags_get(request: HttpRequest, account: Account) -> dict[str, Any]:
    return {"tags": services.tag_list(account)}


@wechat_api("POST")
def tags_batchtagging(request: HttpRequest, account: Account) -> dict[str, Any]:
    services.batch_tag(account, _api_body(request))
    return OK


@wechat_api("POST")
def tags_getidlist(request: HttpRequest, account: Account) -> dict[str, Any]:
    return {"tagid_list": services.tag_ids_of(account, _api_body(request))}


@wechat_api("POST")
def custom_send(request: HttpRequest, account: Account) -> dict[str, Any]:
    services.send_custom_message(account, _api_body(request))
    return OK


@wechat_api("POST")
def template_send(request: HttpRequest, account: Account) -> dict[str, Any]:
    entry = services.send_template_message(account, _api_body(request))
    return {**OK, "msgid": entry.pk}


@wechat_api("GET")
def user_info(request: HttpRequest, account: Account) -> dict[str, Any]:
    openid = request.GET.get("openid")
    if not openid:
        raise ApiError(41009)
    follower = Follower.objects.filter(account=account, openid=openid).first()
    if follower is None:
        raise ApiError(40003)
    if not follower.subscribed:
        return {"subscribe": 0, "openid": follower.openid, "tagid_list": []}
    tag_ids = services.tag_ids_of(account, {"openid": follower.openid})
    return {
        "subscribe": 1,
        "openid": follower.openid,
        "nickname": follower.nickname,
        "language": "zh_CN",
        "subscribe_time": int(follower.subscribe_time.timestamp())
        if follower.subscribe_time
        else 0,
        "remark": "",
        "groupid": 0,
        "tagid_list": tag_ids,
        "subscribe_scene": follower.subscribe_scene,
        "qr_scene": int(follower.qr_scene_str) if follower.qr_scene_str.isdigit() else 0,
        "qr_scene_str": follower.qr_scene_str,
    }


@wechat_api("GET")
def user_get(request: HttpRequest, account: Account) -> dict[str, Any]:
    """Follower list in pages of 10 000 OpenIDs, continuing after `next_openid`."""
    followers = Follower.objects.filter(account=account, subscribed=True).order_by("id")
    total = followers.count()
    after = request.GET.get("next_openid")
    if after:
        anchor = Follower.objects.filter(account=account, openid=after).first()
        if anchor is None:
            raise ApiError(40003)
        followers = followers.filter(id__gt=anchor.id)
    openids = list(followers.values_list("openid", flat=True)[:10000])
    page: dict[str, Any] = {
        "total": total,
        "count": len(openids),
        "next_openid": openids[-1] if openids else "",
    }
    if openids:
        page["data"] = {"openid": openids}
    return page


@wechat_api("POST")
def media_upload(request: HttpRequest, account: Account) -> dict[str, Any]:
    """media/upload?type=TYPE with the file in the form field `media`."""
    if request.GET.get("type") not in media.RULES:
        raise ApiError(40004, "invalid media type")
    upload = request.FILES.get("media")
    stored = media.upload(account, request.GET["type"], upload.read() if upload else None)
    return {
        "type": stored.media_type,
        "media_id": stored.media_id,
        "created_at": int(stored.created_at.timestamp()),
    }


@csrf_exempt
def media_get(request: HttpRequest) -> HttpResponse:
    """media/get?media_id=: the file itself (Content-Disposition names it), or for a
    video {"video_url"}; errors as JSON, like every API answer."""
    try:
        account = services.account_for_token(request.GET.get("access_token"))
        found = media.find(account, request.GET.get("media_id") or "")
    except ApiError as exc:
        return json_response(exc.as_json())
    if found.media_type == "video":
        url = request.build_absolute_uri(reverse("sandbox:media_file", args=[found.media_id]))
        return json_response({"video_url": url})
    return _file_response(found, attachment=True)


def _file_response(found: Any, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(bytes(found.data), content_type=found.content_type)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = (
        f'{disposition}; filename="{found.media_id}.{found.extension}"'
    )
    response["Cache-Control"] = "no-cache, must-revalidate"
    return response


def media_file(request: HttpRequest, media_id: str) -> HttpResponse:
    """A media file by its id, as the phone shows it (and a picture's PicUrl, a video's
    download URL): gone with its three days."""
    try:
        found = media.find(None, media_id)
    except ApiError:
        return HttpResponse(status=404)
    return _file_response(found, attachment=False)


# ------------------------------------------------------------------ driver API


class NotFound(Exception):
    pass


def driver(view: View) -> View:
    """Trusted local JSON API: 400 for bad input, 404 for unknown objects, 409 for state."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return json_response({"error": str(exc)}, status=404)
        except services.InvalidInput as exc:
            return json_response({"error": str(exc)}, status=400)
        except services.Conflict as exc:
            return json_response({"error": str(exc)}, status=409)

    return wrapper


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise services.InvalidInput(f"bad JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise services.InvalidInput("the body must be a JSON object")
    return data


def get_account(appid: str) -> Account:
    account = Account.objects.filter(appid=appid).first()
    if account is None:
        raise NotFound(f"unknown appid {appid}")
    return account


def get_follower(appid: str, openid: str) -> Follower:
    follower = (
        Follower.objects.select_related("account")
        .filter(account__appid=appid, openid=openid)
        .first()
    )
    if follower is None:
        get_account(appid)
        raise NotFound(f"unknown openid {openid}")
    return follower


def _method_not_allowed(allowed: str) -> HttpResponse:
    response = json_response({"error": f"use {allowed}"}, status=405)
    response["Allow"] = allowed
    return response


def account_json(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "appid": account.appid,
        "secret": account.secret,
        "token": account.token,
        "aes_key": account.aes_key,
        "mode": account.mode,
        "original_id": account.original_id,
        "callback_url": account.callback_url,
        "type": account.kind,
        "verified": account.verified,
    }


def follower_json(follower: Follower) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "openid": follower.openid,
        "nickname": follower.nickname,
        "subscribed": follower.subscribed,
        "subscribe_time": iso(follower.subscribe_time),
        "last_interaction_at": iso(follower.last_interaction_at),
        "window_sent": follower.window_sent,
    }


def entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "msg_type": entry.msg_type,
        "payload": entry.payload,
        "delivery": entry.delivery,
        "created_at": entry.created_at.isoformat(),
    }


@driver
def api_accounts(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return json_response({"accounts": [account_json(a) for a in Account.objects.all()]})
    if request.method != "POST":
        return _method_not_allowed("GET, POST")
    data = _json_body(request)
    verify = data.get("verify", False)
    if not isinstance(verify, bool):
        raise services.InvalidInput("verify must be true or false")
    account, created = services.register_account(services.clean_account(data), verify=verify)
    return json_response(account_json(account), status=201 if created else 200)


@driver
def api_account(request: HttpRequest, appid: str) -> HttpResponse:
    return json_response(account_json(get_account(appid)))


@driver
def api_followers(request: HttpRequest, appid: str) -> HttpResponse:
    account = get_account(appid)
    if request.method == "GET":
        return json_response({"followers": [follower_json(f) for f in account.followers.all()]})
    if request.method != "POST":
        return _method_not_allowed("GET, POST")
    data = _json_body(request)
    openid, nickname, then_follow = (
        data.get("openid", ""),
        data.get("nickname", ""),
        data.get("follow", False),
    )
    if (
        not isinstance(openid, str)
        or not isinstance(nickname, str)
        or not isinstance(then_follow, bool)
    ):
        raise services.InvalidInput("openid and nickname must be strings, follow a boolean")
    follower = services.create_follower(account, openid, nickname)
    result = follower_json(follower)
    if then_follow:
        _, delivery = services.follow(follower)
        result = {**follower_json(follower), "delivery": delivery.as_json()}
    return json_response(result, status=201)


@driver
def api_follower(request: HttpRequest, appid: str, openid: str) -> HttpResponse:
    return json_response(follower_json(get_follower(appid, openid)))


@driver
def api_follow(request: HttpRequest, appid: str, openid: str) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    data = _json_body(request)
    follower = get_follower(appid, openid)
    scene = data.get("scene", "")
    if not isinstance(scene, str):
        raise services.InvalidInput("scene must be a string")
    _, delivery = services.follow(follower, scene)
    return json_response(delivery.as_json())


@driver
def api_unfollow(request: HttpRequest, appid: str, openid: str) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    _, delivery = services.unfollow(get_follower(appid, openid))
    return json_response(delivery.as_json())


@driver
def api_messages(request: HttpRequest, appid: str, openid: str) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed("POST")
    kind, fields = services.clean_action(_json_body(request))
    _, delivery = services.act(get_follower(appid, openid), kind, fields)
    return json_response(delivery.as_json())


MEDIA_TYPES = {"image": "image", "audio": "voice", "video": "video"}


@driver
def api_follower_media(request: HttpRequest, appid: str, openid: str) -> HttpResponse:
    """A follower picks a picture, voice or video to send: the file (form field `file`)
    becomes temporary media of the account, by WeChat's rules; then send the message with
    the answered `type`, `media_id` (and a picture's `pic_url`)."""
    if request.method != "POST":
        return _method_not_allowed("POST")
    follower = get_follower(appid, openid)
    upload = request.FILES.get("file")
    if upload is None:
        raise services.InvalidInput("file is required (multipart/form-data)")
    data = upload.read()
    fmt = media.sniff(data)
    kind = next(
        (t for t, rule in media.RULES.items() if t != "thumb" and fmt in rule.formats), None
    )
    if kind is None:
        raise services.InvalidInput(
            "the file is not a JPG/PNG/GIF picture, AMR/MP3 voice or MP4 video"
        )
    try:
        stored = media.store(follower.account, kind, data, "follower")
    except ApiError as exc:
        raise services.InvalidInput(f"{exc.errcode} {exc.errmsg}") from exc
    answer: dict[str, Any] = {"type": kind, "media_id": stored.media_id}
    url = request.build_absolute_uri(reverse("sandbox:media_file", args=[stored.media_id]))
    if kind == "image":
        answer["pic_url"] = url
    if kind == "voice":
        answer["format"] = stored.extension
    return json_response(answer, status=201)


@driver
def api_conversation(request: HttpRequest, appid: str, openid: str) -> HttpResponse:
    follower = get_follower(appid, openid)
    after = request.GET.get("after", "0") or "0"
    if not after.isdigit():
        raise services.InvalidInput("after must be an entry id")
    jobs.run_due(follower.account)  # the phone polls: due mass sends reach the chat
    entries = [
        entry_json(e) for e in follower.entries.filter(id__gt=int(after)).order_by("id")[:500]
    ]
    return json_response(
        {"entries": entries, "last_id": entries[-1]["id"] if entries else int(after)}
    )


@driver
def api_menu(request: HttpRequest, appid: str) -> HttpResponse:
    """The menu a follower (`?openid=`) sees: a matching conditional menu or the default;
    without an openid, the default. `menuid` is "" for the default menu."""
    account = get_account(appid)
    openid = request.GET.get("openid", "")
    follower = get_follower(appid, openid) if openid else None
    menu, menuid = services.menu_for(account, follower)
    return json_response({"menu": _menu_json(menu) if menu else None, "menuid": menuid})


def tag_json(tag: Any) -> dict[str, Any]:
    return {"id": tag.tag_id, "name": tag.name}


@driver
def api_tags(request: HttpRequest, appid: str) -> HttpResponse:
    account = get_account(appid)
    if request.method == "GET":
        return json_response({"tags": services.tag_list(account)})
    if request.method != "POST":
        return _method_not_allowed("GET, POST")
    try:
        tag = services.create_tag(account, {"tag": _json_body(request)})
    except ApiError as exc:
        raise services.InvalidInput(f"{exc.errcode} {exc.errmsg}") from exc
    return json_response(tag_json(tag), status=201)


@driver
def api_follower_tags(request: HttpRequest, appid: str, openid: str) -> HttpResponse:
    follower = get_follower(appid, openid)
    if request.method == "POST":
        data = _json_body(request)
        if ("tag_id" in data) == ("name" in data):
            raise services.InvalidInput("give tag_id or name")
        services.tag_follower(follower, data.get("tag_id"), data.get("name"))
    elif request.method != "GET":
        return _method_not_allowed("GET, POST")
    taggings = follower.taggings.select_related("tag")
    return json_response({"tags": [tag_json(t.tag) for t in taggings]})


# ------------------------------------------------------------------ phone page


def phone(request: HttpRequest) -> HttpResponse:
    """The simulated WeChat chat screen; all behaviour is in static/sandbox/phone.js."""
    strings = {
        "unavailable": _(UNAVAILABLE),
        "followed": _("你关注了该公众号"),
        "unfollowed": _("你取消了关注"),
        "clicked": _("点击菜单：%s"),
        "viewed": _("打开链接：%s"),
        "image": _("[图片]"),
        "voice": _("[语音]"),
        "video": _("[视频]"),
        "music": _("[音乐]"),
        "location": _("[位置]"),
        "transfer": _("（已转接人工客服）"),
        "other": _("[消息]"),
        "template": _("模板消息"),
        "details": _("详情"),
        "not_following": _("请先关注该公众号"),
        "no_account": _("还没有沙箱公众号，请先通过驱动接口注册。"),
        "no_follower": _("还没有粉丝，请新建一个。"),
        "failed": _("请求失败：%s"),
        "nickname_prompt": _("新粉丝的昵称"),
        "customer_service": _("客服消息"),
        "mass": _("群发消息"),
        "preview": _("预览"),
        "history": _("历史文章"),
        "no_articles": _("该公众号还没有发表文章。"),
        "reads": _("阅读 %s"),
        "like": _("赞"),
        "wow": _("在看"),
        "deleted": _("该内容已被发布者删除"),
        "source": _("阅读原文"),
    }
    return render(request, "sandbox/phone.html", {"strings": strings})


# ------------------------------------------------------------------ WeCom group robot


@wechat_api("POST", needs_token=False)
def robot_send(request: HttpRequest) -> dict[str, Any]:
    wecom.send(request.GET.get("key"), request.body)
    return OK


def robot_json(request: HttpRequest, robot: Robot) -> dict[str, Any]:
    url = request.build_absolute_uri(reverse("sandbox:robot_send"))
    return {
        "key": robot.key,
        "name": robot.name,
        "delay": robot.delay,
        "errcode": robot.errcode,
        "webhook_url": f"{url}?key={robot.key}",
    }


def robot_message_json(message: RobotMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "msg_type": message.msg_type,
        "content": message.content,
        "mentioned_list": message.mentioned_list,
        "mentioned_mobile_list": message.mentioned_mobile_list,
        "payload": message.payload,
        "created_at": message.created_at.isoformat(),
    }


def get_robot(key: str) -> Robot:
    robot = Robot.objects.filter(key=key).first()
    if robot is None:
        raise NotFound(f"unknown robot key {key}")
    return robot


@driver
def api_robots(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return json_response({"robots": [robot_json(request, r) for r in Robot.objects.all()]})
    if request.method != "POST":
        return _method_not_allowed("GET, POST")
    robot, created = wecom.register_robot(wecom.clean_robot(_json_body(request)))
    return json_response(robot_json(request, robot), status=201 if created else 200)


@driver
def api_robot(request: HttpRequest, key: str) -> HttpResponse:
    return json_response(robot_json(request, get_robot(key)))


@driver
def api_robot_messages(request: HttpRequest, key: str) -> HttpResponse:
    robot = get_robot(key)
    after = request.GET.get("after", "0") or "0"
    if not after.isdigit():
        raise services.InvalidInput("after must be a message id")
    found = [
        robot_message_json(m) for m in robot.messages.filter(id__gt=int(after)).order_by("id")[:500]
    ]
    return json_response({"messages": found, "last_id": found[-1]["id"] if found else int(after)})


def wecom_group(request: HttpRequest) -> HttpResponse:
    """A WeCom group chat as its members see it: what the robot posted, with @mentions."""
    robots = list(Robot.objects.all())
    chosen = next((r for r in robots if r.key == request.GET.get("robot")), None)
    chosen = chosen or (robots[0] if robots else None)
    messages = list(chosen.messages.order_by("-id")[:200])[::-1] if chosen else []
    return render(
        request,
        "sandbox/wecom.html",
        {"robots": robots, "robot": chosen, "messages": messages},
    )
