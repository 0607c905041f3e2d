"""The sandbox-backed fixtures of test_client, for every test of the WeChat channel."""

from .test_client import account, sandbox  # noqa: F401
