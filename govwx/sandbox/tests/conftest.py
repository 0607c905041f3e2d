from __future__ import annotations

from typing import Any

import pytest

from govwx.sandbox import services
from govwx.sandbox.models import Account, Follower

from .peer import AES_KEY, APPID, TOKEN

SECRET = "0123456789abcdef0123456789abcdef"
ORIGINAL_ID = "gh_0123456789ab"


def register(
    callback_url: str = "", mode: str = "safe", appid: str = APPID, **extra: Any
) -> Account:
    values = services.clean_account(
        {
            "name": "示例市发布",
            "appid": appid,
            "secret": SECRET,
            "token": TOKEN,
            "aes_key": AES_KEY,
            "mode": mode,
            "callback_url": callback_url,
            "original_id": ORIGINAL_ID,
            **extra,
        }
    )
    return services.register_account(values)[0]


@pytest.fixture
def sandbox_account(db: Any) -> Account:
    return register()


@pytest.fixture
def follower(sandbox_account: Account) -> Follower:
    """A subscribed follower whose window opened just now (no callback URL: no server)."""
    follower = services.create_follower(sandbox_account, "oFollower0000000000000000001", "小王")
    services.follow(follower)
    follower.refresh_from_db()
    return follower
