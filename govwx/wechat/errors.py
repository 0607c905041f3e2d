"""Typed errors of the WeChat API, and the one table that maps an errcode to its class.

`retryable` answers the only question a caller has to settle at once: will the same call
succeed if it is made again later? `retry_after` is a hint in seconds for a task queue's
backoff. Errors that need a different action before a retry (a new token, a follower who
writes again, a fixed menu) are not retryable as such; the client itself handles the
token case.
"""

from __future__ import annotations

from typing import Any


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero errcode, or (TransportError) gave no usable answer.

    The root of every error the client raises, so one `except` covers them all.
    """

    retryable: bool = False
    retry_after: float | None = None

    def __init__(
        self, errcode: int | None, errmsg: str = "", data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}" if errcode is not None else errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        # WeChat's whole answer: some errors carry more (45065 names the earlier msg_id)
        self.data: dict[str, Any] = data or {}

    @property
    def explanation(self) -> str:
        """What the errcode means, in Chinese, where the table knows it ("" otherwise)."""
        return EXPLANATIONS.get(self.errcode, "") if self.errcode is not None else ""


class TransportError(WeChatAPIError):
    """The network failed, the answer was not HTTP 200, or it was not a JSON object;
    `errcode` is None.

    Retryable, but for a non-idempotent call (a customer-service send) WeChat may have
    acted before the connection broke: the caller decides whether a duplicate is worse
    than a loss.
    """

    retryable = True
    retry_after = 2.0

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(None, message)
        self.status = status


class SystemBusy(WeChatAPIError):
    retryable = True
    retry_after = 1.0


class InvalidCredential(WeChatAPIError):
    """The access token is invalid, not the latest, or expired: the client fetches a new
    one and retries once; it reaches the caller only if the new token fails too."""


class InvalidAppSecret(WeChatAPIError):
    """The AppID or AppSecret is wrong: nothing works until an admin fixes the account."""


class IPNotWhitelisted(WeChatAPIError):
    """Our server's address is not on the account's API IP whitelist."""


class QuotaExceeded(WeChatAPIError):
    """The daily quota of this API is used up; it resets tomorrow (or by clear_quota)."""


class RateLimited(WeChatAPIError):
    retryable = True
    retry_after = 60.0


class InvalidOpenid(WeChatAPIError):
    pass


class NotFollowing(WeChatAPIError):
    pass


class OutsideReplyWindow(WeChatAPIError):
    """More than 48 hours since the follower last wrote (or they unfollowed): only a
    template or mass message can reach them now."""


class ReplyQuotaUsedUp(WeChatAPIError):
    """The window's customer-service messages are spent; the next interaction opens a
    new window."""


class UserBlocked(WeChatAPIError):
    """The account has blacklisted this follower."""


class UserRefusesMessages(WeChatAPIError):
    pass


class Unauthorized(WeChatAPIError):
    """This account type or certification level may not use this API."""


class MenuInvalid(WeChatAPIError):
    pass


class MenuNotFound(WeChatAPIError):
    pass


class InvalidMediaId(WeChatAPIError):
    """40007: WeChat has no such media (never had it, or its three days are over)."""


class MediaRefused(WeChatAPIError):
    """media/upload, material/add_material or media/uploadimg refused the file: its type,
    format or size (40004–40006, 40009–40012, 45001), or no file data (41005, 44001)."""


class MaterialLimitReached(WeChatAPIError):
    """45034: the material library holds as many of this type as WeChat keeps."""


class MaterialInUse(WeChatAPIError):
    """48005: an auto-reply or a menu shows this material; change that first."""


class ArticleRefused(WeChatAPIError):
    """draft/add or draft/update refused an article: a field missing or too long (title
    ≤ 32 characters, author ≤ 16, digest ≤ 128, content under 20 000 characters and 1 MB,
    the original-text URL ≤ 1 KB), or too many articles."""


class DraftNotPublishable(WeChatAPIError):
    """53503–53505: WeChat will not publish this draft as it is (it failed the publish
    check, or must be saved in the MP backend first)."""


class PublishBanned(WeChatAPIError):
    """53500: publishing is banned for this account."""


class InvalidPublishId(WeChatAPIError):
    """53502: WeChat knows no publish task with this publish_id."""


class InvalidArticleId(WeChatAPIError):
    """53600: WeChat knows no published article with this article_id."""


class MassQuotaUsedUp(WeChatAPIError):
    """45028: no mass send left (a subscription account: one a day; a service account:
    to all followers once a day and four times a month)."""


class DuplicateMassSend(WeChatAPIError):
    """45065: a mass send with this clientmsgid (or the same audience and content) was
    made within 24 hours; `msg_id` is that send's. Not an error for an idempotent
    caller: the message went out once."""

    @property
    def msg_id(self) -> int | None:
        value = self.data.get("msg_id")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


class MassRetryTooFast(WeChatAPIError):
    """45066: the same clientmsgid again within a minute."""

    retryable = True
    retry_after = 60.0


class InvalidMsgId(WeChatAPIError):
    """40059: WeChat knows no (deletable) mass message with this msg_id."""


class OpenidListInvalid(WeChatAPIError):
    """40130 fewer than two OpenIDs, 40032 more than 10 000, in message/mass/send."""


# The credential codes are also what a token endpoint answers for a wrong secret; the
# client reads them as InvalidAppSecret there (see client.py).
CREDENTIAL_ERRCODES = frozenset({40001, 40014, 42001})

_TABLE: tuple[tuple[type[WeChatAPIError], tuple[int, ...]], ...] = (
    (SystemBusy, (-1,)),
    (InvalidCredential, tuple(CREDENTIAL_ERRCODES)),
    (InvalidAppSecret, (40013, 40125, 41002, 41004)),
    (IPNotWhitelisted, (40164, 61004)),
    (QuotaExceeded, (45009,)),
    (RateLimited, (45011,)),
    (InvalidOpenid, (40003,)),
    (NotFollowing, (43004,)),
    (OutsideReplyWindow, (45015,)),
    (ReplyQuotaUsedUp, (45047,)),
    (UserBlocked, (43019,)),
    (UserRefusesMessages, (48002,)),
    (Unauthorized, (48001,)),
    (MenuInvalid, (*range(40016, 40028), 40054, 40055, 65320)),
    (MenuNotFound, (46003,)),
    (InvalidMediaId, (40007,)),
    (MediaRefused, (40004, 40005, 40006, 40009, 40010, 40011, 40012, 41005, 44001, 45001)),
    (MaterialLimitReached, (45034,)),
    (MaterialInUse, (48005,)),
    (ArticleRefused, (40227, 44003, 44004, 45002, 45003, 45004, 45005, 45008, 45110, 40048)),
    (DraftNotPublishable, (53503, 53504, 53505)),
    (PublishBanned, (53500,)),
    (RateLimited, (53501,)),
    (InvalidPublishId, (53502,)),
    (InvalidArticleId, (53600,)),
    (MassQuotaUsedUp, (45028,)),
    (DuplicateMassSend, (45065,)),
    (MassRetryTooFast, (45066,)),
    (InvalidMsgId, (40059,)),
    (OpenidListInvalid, (40130, 40032)),
)

# What an errcode means, in Chinese, for messages to operators (global return codes as
# WeChat documents them; docs/wechat-publishing.md for the publishing ones).
EXPLANATIONS: dict[int, str] = {
    -1: "系统繁忙，请稍后再试",
    40001: "access_token 无效或不是最新的",
    40003: "不合法的 OpenID（该用户未关注公众号，或是其他公众号的 OpenID）",
    40004: "不合法的媒体文件类型",
    40005: "不合法的文件类型（文件格式不被接受）",
    40006: "不合法的文件大小",
    40007: "不合法的媒体文件 ID（素材或草稿不存在）",
    40008: "不合法的消息类型",
    40009: "图片文件大小超过限制",
    40010: "语音文件大小或播放时长超过限制",
    40011: "视频文件大小超过限制",
    40012: "缩略图文件大小超过限制",
    40013: "不合法的 AppID",
    40014: "不合法的 access_token",
    40032: "OpenID 列表长度不合法（最多 10000 个）",
    40048: "不合法的 URL",
    40050: "不合法的标签 ID",
    40059: "不合法的群发消息 ID",
    40060: "指定的文章序号（article_idx / index）不合法",
    40125: "无效的 AppSecret",
    40130: "OpenID 列表长度不合法（至少 2 个）",
    40164: "调用接口的 IP 地址不在白名单中",
    40227: "标题为空",
    41005: "缺少多媒体文件数据",
    42001: "access_token 已过期",
    43004: "需要接收者关注公众号",
    43019: "需要将接收者从黑名单中移除",
    44001: "多媒体文件为空",
    44003: "图文消息内容为空",
    44004: "内容为空",
    45001: "多媒体文件大小超过限制",
    45002: "正文超过限制（须少于 2 万字符且小于 1M）",
    45003: "标题超过限制（图文标题最多 32 个字）",
    45004: "摘要（描述）超过限制（最多 128 个字）",
    45005: "链接（原文地址）超过限制（最多 1KB）",
    45008: "图文消息的文章数超过限制（最多 8 篇）",
    45009: "接口调用超过每日限额",
    45011: "接口调用太频繁，请稍候再试",
    45015: "回复时间超过限制（已超过 48 小时或用户已取消关注）",
    45028: "群发配额已用完",
    45034: "素材库的该类素材数量已达上限",
    45047: "客服消息条数超过上限",
    45065: "相同 clientmsgid 已存在群发记录（24 小时内），未重复群发",
    45066: "相同 clientmsgid 重试过快，请间隔 1 分钟再试",
    45067: "clientmsgid 长度超过限制（最多 64 字节）",
    45110: "作者字数超过限制（最多 16 个字）",
    46003: "菜单不存在",
    47001: "JSON/XML 内容格式错误",
    48001: "接口未授权（帐号类型或认证状态不支持该接口）",
    48002: "粉丝已拒收公众号消息",
    48005: "该素材被自动回复或自定义菜单引用，不能删除",
    53500: "发布功能已被封禁",
    53501: "发布请求过于频繁",
    53502: "发布任务 ID（publish_id）无效",
    53503: "该草稿未通过发布检查",
    53504: "需前往公众平台官网使用该草稿",
    53505: "请先在公众平台官网手动保存该草稿再发表",
    53600: "文章 ID（article_id）无效",
}

ERRCODE_CLASSES: dict[int, type[WeChatAPIError]] = {
    code: cls for cls, codes in _TABLE for code in codes
}


def error_for(errcode: int, errmsg: str = "", data: dict[str, Any] | None = None) -> WeChatAPIError:
    """The typed exception for an errcode; unknown codes give the base class."""
    return ERRCODE_CLASSES.get(errcode, WeChatAPIError)(errcode, errmsg, data)


def in_words(exc: WeChatAPIError) -> str:
    """WeChat's answer in words for the console, Chinese first: what the errcode means
    where the table knows it, and WeChat's own message."""
    from django.utils.translation import gettext as _

    if exc.errcode is None:
        return _("无法连接微信接口，请稍后重试 / WeChat unreachable: %(msg)s") % {"msg": exc.errmsg}
    words = exc.explanation
    return _("微信返回错误 %(code)s%(words)s / WeChat errcode %(code)s: %(msg)s") % {
        "code": exc.errcode,
        "words": f"：{words}" if words else "",
        "msg": exc.errmsg,
    }
