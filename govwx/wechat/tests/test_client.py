"""The WeChat API client against the sandbox platform, spoken to over real HTTP.

Calls are counted by wrapping the client's transport, which still sends every request
to the live sandbox; nothing answers in the sandbox's place.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.accounts.services import AccountInput, create_account
from govwx.wechat import client as client_module
from govwx.wechat.client import (
    InvalidAppSecret,
    InvalidCredential,
    InvalidOpenid,
    MenuInvalid,
    MenuNotFound,
    OutsideReplyWindow,
    ReplyQuotaUsedUp,
    TransportError,
    WeChatAPIError,
    WeChatClient,
    clear_local_tokens,
    custom_message_body,
    urllib_transport,
)
from govwx.wechat.errors import (
    ERRCODE_CLASSES,
    IPNotWhitelisted,
    NotFollowing,
    QuotaExceeded,
    RateLimited,
    SystemBusy,
    Unauthorized,
    UserBlocked,
    UserRefusesMessages,
    error_for,
)

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
MENU: dict[str, Any] = {
    "button": [
        {"type": "click", "name": "今日通知", "key": "TODAY"},
        {
            "name": "便民服务",
            "sub_button": [
                {"type": "view", "name": "社保查询", "url": "https://example.gov.cn/shebao"},
                {"type": "click", "name": "公积金", "key": "GJJ"},
            ],
        },
    ]
}


class Sandbox:
    """The sandbox's driver API: what a tester does on the simulated platform."""

    def __init__(self, base: str, *, timeout: float = 10) -> None:
        self.base = base
        self.timeout = timeout  # a driver call may wait for a callback the platform makes

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc
        return json.loads(raw) if raw else None

    def register(self, account: Account, secret: str | None = None) -> None:
        self.call(
            "POST",
            "/api/accounts",
            {
                "name": account.name,
                "appid": account.appid,
                "secret": account.app_secret if secret is None else secret,
                "token": account.token,
                "aes_key": account.aes_key,
                "mode": account.mode,
                "callback_url": "",
                "original_id": "",
            },
        )

    def follower_writing(self, account: Account) -> str:
        """A new follower who follows the account and writes to it: the window opens."""
        answer = self.call("POST", f"/api/accounts/{account.appid}/followers", {})
        openid: str = answer["openid"]
        self.call("POST", f"/api/accounts/{account.appid}/followers/{openid}/follow", {})
        self.write(account, openid, "请问社保卡怎么补办？")
        return openid

    def write(self, account: Account, openid: str, text: str) -> None:
        self.call(
            "POST",
            f"/api/accounts/{account.appid}/followers/{openid}/messages",
            {"type": "text", "content": text},
        )

    def force_refresh(self, account: Account) -> str:
        """Someone else (a second system holding the secret) forces a new stable token,
        which invalidates the one govwx holds."""
        answer = self.call(
            "POST",
            "/cgi-bin/stable_token",
            {
                "grant_type": "client_credential",
                "appid": account.appid,
                "secret": account.app_secret,
                "force_refresh": True,
            },
        )
        return str(answer["access_token"])


class CountingTransport:
    """The real transport, with a record of the paths it was asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, method: str, url: str, body: bytes | None, timeout: float) -> bytes:
        self.paths.append(urlsplit(url).path.split("/cgi-bin/", 1)[-1])
        return urllib_transport(method, url, body, timeout)

    def count(self, endpoint: str) -> int:
        return self.paths.count(endpoint)


def new_account(secret: str = "sandbox-secret-1") -> Account:
    appid = "wx" + secrets.token_hex(8)
    return create_account(
        AccountInput(
            name="示例市发布",
            appid=appid,
            app_secret=secret,
            token="govwxtest",
            aes_key=AES_KEY,
            mode=Account.Mode.SAFE,
        )
    )


def fresh_process() -> None:
    """What another worker process sees: nothing but the shared cache."""
    clear_local_tokens()


@pytest.fixture
def sandbox(live_server: Any, settings: Any, cache_table: None) -> Iterator[Sandbox]:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    # The cache table is not flushed between transactional tests.
    cache.clear()
    clear_local_tokens()
    yield Sandbox(live_server.url + "/sandbox")
    cache.clear()
    clear_local_tokens()


@pytest.fixture
def account(sandbox: Sandbox) -> Account:
    account = new_account()
    sandbox.register(account)
    return account


live = pytest.mark.django_db(transaction=True)


# ------------------------------------------------------------------ errors and bodies


@pytest.mark.parametrize(
    ("errcode", "cls", "retryable"),
    [
        (-1, SystemBusy, True),
        (40001, InvalidCredential, False),
        (40014, InvalidCredential, False),
        (42001, InvalidCredential, False),
        (40013, InvalidAppSecret, False),
        (40125, InvalidAppSecret, False),
        (40164, IPNotWhitelisted, False),
        (40003, InvalidOpenid, False),
        (43004, NotFollowing, False),
        (43019, UserBlocked, False),
        (45009, QuotaExceeded, False),
        (45011, RateLimited, True),
        (45015, OutsideReplyWindow, False),
        (45047, ReplyQuotaUsedUp, False),
        (48001, Unauthorized, False),
        (48002, UserRefusesMessages, False),
        (40016, MenuInvalid, False),
        (40018, MenuInvalid, False),
        (40027, MenuInvalid, False),
        (40054, MenuInvalid, False),
        (40055, MenuInvalid, False),
        (65320, MenuInvalid, False),
        (46003, MenuNotFound, False),
    ],
)
def test_it_maps_errcodes_to_typed_errors(errcode: int, cls: type, retryable: bool) -> None:
    error = error_for(errcode, "some message")
    assert type(error) is cls
    assert (error.errcode, error.errmsg, error.retryable) == (errcode, "some message", retryable)
    assert str(error) == f"WeChat errcode {errcode}: some message"


def test_it_keeps_unknown_errcodes_as_the_base_error() -> None:
    error = error_for(99999, "new")
    assert type(error) is WeChatAPIError
    assert 99999 not in ERRCODE_CLASSES
    assert error.retryable is False


def test_it_makes_transport_errors_retryable_api_errors() -> None:
    error = TransportError("down", status=502)
    assert isinstance(error, WeChatAPIError)
    assert (error.errcode, error.errmsg, error.status, error.retryable) == (None, "down", 502, True)


@pytest.mark.parametrize(
    ("msgtype", "payload"),
    [
        ("text", {"content": "您好，已收到"}),
        ("image", {"media_id": "M1"}),
        ("voice", {"media_id": "M2"}),
        ("video", {"media_id": "M3", "thumb_media_id": "T3", "title": "视频"}),
        (
            "music",
            {
                "musicurl": "http://a/m.mp3",
                "hqmusicurl": "http://a/hq.mp3",
                "thumb_media_id": "T4",
                "title": "歌",
            },
        ),
        (
            "news",
            {
                "articles": [
                    {
                        "title": "通知",
                        "description": "d",
                        "url": "https://a/",
                        "picurl": "https://a/p.jpg",
                    }
                ]
            },
        ),
        ("mpnews", {"media_id": "M5"}),
    ],
)
def test_it_builds_custom_message_bodies(msgtype: str, payload: dict[str, Any]) -> None:
    assert custom_message_body("oUser1", msgtype, payload) == {
        "touser": "oUser1",
        "msgtype": msgtype,
        msgtype: payload,
    }


def test_it_adds_the_kf_account() -> None:
    body = custom_message_body("oUser1", "text", {"content": "x"}, kf_account="kf2001@gh")
    assert body["customservice"] == {"kf_account": "kf2001@gh"}


@pytest.mark.parametrize(
    ("msgtype", "payload", "message"),
    [
        ("sticker", {"content": "x"}, "unknown customer-service msgtype: 'sticker'"),
        ("text", {}, "text message needs content"),
        ("music", {"musicurl": "u"}, "music message needs hqmusicurl, thumb_media_id"),
        (
            "news",
            {"articles": [{"title": "a"}, {"title": "b"}]},
            "a news customer-service message carries exactly one article",
        ),
    ],
)
def test_it_refuses_malformed_custom_messages(
    msgtype: str, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as info:
        custom_message_body("oUser1", msgtype, payload)
    assert str(info.value) == message


# ------------------------------------------------------------------ transport


@pytest.mark.django_db
def test_it_reports_an_unreachable_api_as_transport_error(settings: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: the connection is refused.
    settings.GOVWX_WECHAT_API_BASE = f"http://127.0.0.1:{port}"
    with pytest.raises(TransportError) as info:
        WeChatClient(new_account()).get_access_token()
    assert info.value.retryable is True
    assert info.value.status is None


@live
def test_it_reports_a_non_json_answer_as_transport_error(
    live_server: Any, settings: Any, cache_table: None
) -> None:
    # The project's own site has no /cgi-bin/: an HTML 404, not a WeChat answer.
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/nowhere"
    with pytest.raises(TransportError) as info:
        WeChatClient(new_account()).get_access_token()
    assert info.value.status == 404


# ------------------------------------------------------------------ access token


@live
def test_it_fetches_the_token_once_and_shares_it(account: Account) -> None:
    first_transport, second_transport = CountingTransport(), CountingTransport()
    token = WeChatClient(account, transport=first_transport).get_access_token()
    assert first_transport.paths == ["stable_token"]

    fresh_process()
    assert WeChatClient(account, transport=second_transport).get_access_token() == token
    assert second_transport.paths == []
    assert WeChatClient(account, transport=first_transport).get_access_token() == token
    assert first_transport.paths == ["stable_token"]
    assert cache.get(f"govwx:wechat:token-lock:{account.appid}") is None


@live
def test_it_uses_the_token_for_api_calls(account: Account, sandbox: Sandbox) -> None:
    transport = CountingTransport()
    client = WeChatClient(account, transport=transport)
    openid = sandbox.follower_writing(account)
    info = client.user_info(openid)
    assert info["openid"] == openid
    assert info["subscribe"] == 1
    assert transport.paths == ["stable_token", "user/info"]


@live
def test_it_refreshes_the_token_before_it_expires(account: Account) -> None:
    transport = CountingTransport()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = WeChatClient(account, transport=transport)
        first = client.get_access_token()
        traveller.shift(timedelta(seconds=6800))
        fresh_process()
        assert client.get_access_token() == first
        assert transport.count("stable_token") == 1

        # Under five minutes left: the sandbox, like WeChat, has rotated the token.
        traveller.shift(timedelta(seconds=150))
        fresh_process()
        second = client.get_access_token()
        assert second != first
        assert transport.count("stable_token") == 2
        fresh_process()
        assert WeChatClient(account, transport=transport).get_access_token() == second
        assert transport.count("stable_token") == 2


@live
def test_it_keeps_the_old_token_when_an_early_refresh_fails(
    account: Account, settings: Any
) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token = WeChatClient(account).get_access_token()
        traveller.shift(timedelta(seconds=7000))
        fresh_process()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        settings.GOVWX_WECHAT_API_BASE = f"http://127.0.0.1:{port}"
        assert WeChatClient(account).get_access_token() == token


@live
def test_it_rejects_a_wrong_secret(sandbox: Sandbox) -> None:
    account = new_account(secret="the-secret-govwx-has")
    sandbox.register(account, secret="the-secret-wechat-has")
    with pytest.raises(InvalidAppSecret) as info:
        WeChatClient(account).get_access_token()
    assert info.value.errcode == 40125
    assert info.value.retryable is False
    assert cache.get(f"govwx:wechat:token:{account.appid}") is None


@pytest.mark.django_db
def test_it_reads_invalid_credential_from_the_token_endpoint_as_a_wrong_secret(
    cache_table: None,
) -> None:
    # WeChat has answered a wrong secret with 40001 on its token endpoints; the sandbox
    # answers 40125, so this one answer is canned. Read as a stale token, it would loop.
    urls: list[str] = []

    def wechat(method: str, url: str, body: bytes | None, timeout: float) -> bytes:
        urls.append(urlsplit(url).path)
        return b'{"errcode":40001,"errmsg":"invalid credential"}'

    with pytest.raises(InvalidAppSecret) as info:
        WeChatClient(new_account(), transport=wechat).get_menu()
    assert info.value.errcode == 40001
    assert urls == ["/cgi-bin/stable_token"]


@live
def test_it_rejects_an_unknown_appid(sandbox: Sandbox) -> None:
    with pytest.raises(InvalidAppSecret) as info:
        WeChatClient(new_account()).get_access_token()
    assert info.value.errcode == 40013


@live
def test_it_refetches_a_token_invalidated_elsewhere_and_retries_once(
    account: Account, sandbox: Sandbox
) -> None:
    transport = CountingTransport()
    client = WeChatClient(account, transport=transport)
    stale = client.get_access_token()
    newer = sandbox.force_refresh(account)
    fresh_process()

    client.create_menu(MENU)
    assert transport.paths == ["stable_token", "menu/create", "stable_token", "menu/create"]
    assert client.get_access_token() == newer != stale


@live
def test_it_refetches_an_expired_token(account: Account) -> None:
    transport = CountingTransport()
    client = WeChatClient(account, transport=transport)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        expired = client.get_access_token()
        traveller.shift(timedelta(seconds=7300))
        # A cache that outlived the token (clock skew, a restored snapshot): the
        # sandbox answers 42001 and the client must recover.
        cache.set(
            f"govwx:wechat:token:{account.appid}",
            {"value": expired, "expires_at": time.time() + 3600, "refresh_at": time.time() + 3000},
        )
        fresh_process()
        with pytest.raises(MenuNotFound):
            client.get_menu()
    assert transport.paths == ["stable_token", "menu/get", "stable_token", "menu/get"]


@live
def test_it_gives_up_after_one_refresh(account: Account, sandbox: Sandbox) -> None:
    transport = CountingTransport()

    def invalidating_transport(method: str, url: str, body: bytes | None, t: float) -> bytes:
        # Every menu call meets a token someone else has just invalidated.
        if "/menu/" in url:
            sandbox.force_refresh(account)
        return transport(method, url, body, t)

    client = WeChatClient(account, transport=invalidating_transport)
    with pytest.raises(InvalidCredential) as info:
        client.get_menu()
    assert info.value.errcode == 40001
    assert transport.paths == ["stable_token", "menu/get", "stable_token", "menu/get"]


@live
def test_it_keeps_a_newer_shared_token_when_its_own_copy_failed(
    account: Account, sandbox: Sandbox
) -> None:
    transport = CountingTransport()
    client = WeChatClient(account, transport=transport)
    stale = client.get_access_token()
    newer = sandbox.force_refresh(account)
    # Another process has already stored the newer token; this process still holds
    # the stale one in its local copy.
    entry = cache.get(f"govwx:wechat:token:{account.appid}")
    cache.set(f"govwx:wechat:token:{account.appid}", {**entry, "value": newer})

    with pytest.raises(MenuNotFound):
        client.get_menu()
    assert transport.paths == ["stable_token", "menu/get", "menu/get"]
    assert cache.get(f"govwx:wechat:token:{account.appid}")["value"] == newer != stale


@live
def test_it_looks_again_after_taking_the_lock(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = CountingTransport()
    token = WeChatClient(account, transport=transport).get_access_token()
    fresh_process()
    reads: list[object] = []
    real_read = client_module._read_shared

    def late_read(appid: str) -> object:
        # The first read happens just before another process stores the token and
        # releases the lock.
        reads.append(appid)
        return None if len(reads) == 1 else real_read(appid)

    monkeypatch.setattr(client_module, "_read_shared", late_read)
    assert WeChatClient(account, transport=transport).get_access_token() == token
    assert transport.paths == ["stable_token"]
    assert len(reads) == 2


@live
def test_it_lets_one_of_two_threads_fetch_the_token(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = CountingTransport()
    waiting = threading.Event()
    real_pause = client_module._pause

    def pause(seconds: float) -> None:
        waiting.set()
        real_pause(seconds)

    def slow_transport(method: str, url: str, body: bytes | None, timeout: float) -> bytes:
        if url.endswith("/stable_token"):
            # Hold the fetch until the other thread has found the lock taken.
            waiting.wait(5)
        return transport(method, url, body, timeout)

    monkeypatch.setattr(client_module, "_pause", pause)
    barrier = threading.Barrier(2)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(5)
            tokens.append(WeChatClient(account, transport=slow_transport).get_access_token())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert waiting.is_set()
    assert transport.paths == ["stable_token"]
    assert len(tokens) == 2 and tokens[0] == tokens[1]


@live
@pytest.mark.skipif(
    bool(settings.REDIS_URL),
    reason="moves time with time-machine; Redis expires keys in its own time",
)
def test_it_takes_over_the_lock_of_a_crashed_process(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = CountingTransport()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        # A process took the lock and died before storing a token.
        assert cache.add(f"govwx:wechat:token-lock:{account.appid}", "dead", timeout=3)
        pauses: list[float] = []

        def pause(seconds: float) -> None:
            pauses.append(seconds)
            traveller.shift(timedelta(seconds=1))

        monkeypatch.setattr(client_module, "_pause", pause)
        token = WeChatClient(account, transport=transport).get_access_token()
    assert token
    assert transport.paths == ["stable_token"]
    assert 3 <= len(pauses) <= 5


@live
def test_it_uses_the_old_token_while_another_process_refreshes(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = CountingTransport()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token = WeChatClient(account, transport=transport).get_access_token()
        traveller.shift(timedelta(seconds=7000))
        assert cache.add(f"govwx:wechat:token-lock:{account.appid}", "busy", timeout=10)
        # Were the client to wait for the lock, time would pass until it expired.
        monkeypatch.setattr(
            client_module, "_pause", lambda seconds: traveller.shift(timedelta(seconds=1))
        )
        fresh_process()
        assert WeChatClient(account, transport=transport).get_access_token() == token
    assert transport.paths == ["stable_token"]


# ------------------------------------------------------------------ menu


@live
def test_it_creates_reads_and_deletes_the_menu(account: Account) -> None:
    sent: list[bytes] = []

    def recording(method: str, url: str, body: bytes | None, timeout: float) -> bytes:
        if body is not None:
            sent.append(body)
        return urllib_transport(method, url, body, timeout)

    client = WeChatClient(account, transport=recording)
    assert client.create_menu(MENU) == {"errcode": 0, "errmsg": "ok"}
    # Raw UTF-8 on the wire, not \u escapes.
    assert "便民服务".encode() in sent[-1]
    # WeChat lists an empty sub_button on every leaf.
    assert client.get_menu() == {
        "menu": {
            "button": [
                {**MENU["button"][0], "sub_button": []},
                {
                    "name": "便民服务",
                    "sub_button": [
                        {**button, "sub_button": []} for button in MENU["button"][1]["sub_button"]
                    ],
                },
            ]
        }
    }
    assert client.delete_menu() == {"errcode": 0, "errmsg": "ok"}
    with pytest.raises(MenuNotFound) as info:
        client.get_menu()
    assert info.value.errcode == 46003


@live
@pytest.mark.parametrize(
    ("menu", "errcode"),
    [
        (
            {"button": [{"type": "click", "name": f"按钮{i}", "key": f"K{i}"} for i in range(4)]},
            40016,
        ),
        ({"button": [{"type": "click", "name": "一个太长的菜单名称", "key": "K"}]}, 40018),
    ],
)
def test_it_maps_menu_errors(account: Account, menu: dict[str, Any], errcode: int) -> None:
    with pytest.raises(MenuInvalid) as info:
        WeChatClient(account).create_menu(menu)
    assert info.value.errcode == errcode


# ------------------------------------------------------------------ customer-service messages


@live
def test_it_sends_inside_the_window_and_not_after_it(account: Account, sandbox: Sandbox) -> None:
    openid = sandbox.follower_writing(account)
    client = WeChatClient(account)
    assert client.send_custom_message(openid, "text", {"content": "您好，已收到。"}) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    conversation = sandbox.call(
        "GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation"
    )
    assert [(e["kind"], e["payload"]) for e in conversation["entries"][-1:]] == [
        ("custom", {"msg_type": "text", "content": "您好，已收到。"})
    ]

    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        with pytest.raises(OutsideReplyWindow) as info:
            client.send_custom_message(openid, "text", {"content": "还在吗？"})
    assert info.value.errcode == 45015


@live
def test_it_stops_at_the_windows_fifth_message(account: Account, sandbox: Sandbox) -> None:
    openid = sandbox.follower_writing(account)
    client = WeChatClient(account)
    for n in range(5):
        client.send_custom_message(openid, "text", {"content": f"第{n + 1}条"})
    with pytest.raises(ReplyQuotaUsedUp) as info:
        client.send_custom_message(openid, "text", {"content": "第6条"})
    assert info.value.errcode == 45047

    sandbox.write(account, openid, "谢谢")
    assert client.send_custom_message(openid, "text", {"content": "不客气"})["errcode"] == 0


@live
def test_it_maps_an_unknown_openid(account: Account) -> None:
    with pytest.raises(InvalidOpenid):
        WeChatClient(account).send_custom_message("oNobodyHere123", "text", {"content": "x"})
