"""The office's settings pages of this app (/settings/…): departments, members and roles."""

from django.urls import path  # noqa: F401

app_name = "org_settings"
urlpatterns: list = []
