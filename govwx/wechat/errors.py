"""Typed errors of the WeChat API, and the one table that maps an errcode to its class.

`retryable` answers the only question a caller has to settle at once: will the same call
succeed if it is made again later? `retry_after` is a hint in seconds for a task queue's
backoff. Errors that need a different action before a retry (a new token, a follower who
writes again, a fixed menu) are not retryable as such; the client itself handles the
token case.
"""

from __future__ import annotations


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero errcode, or (TransportError) gave no usable answer.

    The root of every error the client raises, so one `except` covers them all.
    """

    retryable: bool = False
    retry_after: float | None = None

    def __init__(self, errcode: int | None, errmsg: str = "") -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}" if errcode is not None else errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


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
    """media/upload refused the file: its type, format or size (40004–40006, 40009–40012),
    or no file data (41005, 44001)."""


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
)

ERRCODE_CLASSES: dict[int, type[WeChatAPIError]] = {
    code: cls for cls, codes in _TABLE for code in codes
}


def error_for(errcode: int, errmsg: str = "") -> WeChatAPIError:
    """The typed exception for an errcode; unknown codes give the base class."""
    return ERRCODE_CLASSES.get(errcode, WeChatAPIError)(errcode, errmsg)
