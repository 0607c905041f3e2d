"""Settings for the test suite: the sandbox is mounted, tasks run at once."""

import os

os.environ.setdefault("GOVWX_SANDBOX", "1")
os.environ.setdefault("GOVWX_TASKS_IMMEDIATE", "1")
if os.environ.get("GOVWX_TEST_DATABASE_URL"):
    os.environ["GOVWX_DATABASE_URL"] = os.environ["GOVWX_TEST_DATABASE_URL"]

from govwx.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
