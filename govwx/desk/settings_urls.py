"""The office's settings pages of the desk (/settings/…): routing, time limits, canned
replies."""

from django.urls import path  # noqa: F401

app_name = "desk_settings"
urlpatterns: list = []
