"""The office's settings pages of the desk (/settings/…): routing, time limits, canned
replies."""

from django.urls import path

from . import settings_views as views

app_name = "desk_settings"
urlpatterns = [
    path("routing/", views.routing, name="routing"),
    path("time-limits/", views.time_limits, name="time_limits"),
    path("replies/", views.replies, name="replies"),
]
