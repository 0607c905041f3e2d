"""Settings for the test suite: the sandbox is mounted, tasks run at once."""

import os

os.environ.setdefault("GOVWX_SANDBOX", "1")
os.environ.setdefault("GOVWX_TASKS_IMMEDIATE", "1")
os.environ.setdefault("GOVWX_LINK_CHECK_PRIVATE", "1")  # link tests serve on 127.0.0.1
# A key of the tests' own (not the public development key, which is refused), so that the
# test run makes no key file.
os.environ.setdefault("GOVWX_SECRET_KEY", "govwx-tests-only-" + "k3y-" * 12)
if os.environ.get("GOVWX_TEST_DATABASE_URL"):
    os.environ["GOVWX_DATABASE_URL"] = os.environ["GOVWX_TEST_DATABASE_URL"]

from govwx.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared in-memory database: with the live server's threads (the
    # sandbox calling back into govwx) an in-memory database answers "table is locked" at
    # once instead of waiting, while a file in WAL mode queues writers as in production.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"govwx-test-{os.getpid()}.sqlite3")
    }
