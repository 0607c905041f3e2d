"""The office's settings pages of this app (/settings/…): the account itself, departments,
members and roles."""

from django.urls import path  # noqa: F401

from . import account_views, lockout_views, settings_views

app_name = "org_settings"
urlpatterns: list = [
    path("account/", account_views.account_settings, name="account"),
    path("account/new/", account_views.account_new, name="account_new"),
    path("departments/", settings_views.departments, name="departments"),
    path("departments/<int:pk>/", settings_views.department, name="department"),
    path("departments/import/", settings_views.departments_import, name="departments_import"),
    path("departments/export.xlsx", settings_views.departments_export, name="departments_export"),
    path("members/", settings_views.members, name="members"),
    path("members/<int:user_id>/", settings_views.member, name="member"),
    path("members/<int:user_id>/restore/", settings_views.member_restore, name="member_restore"),
    path("join/<str:token>/", settings_views.join, name="join"),
    path("lockouts/", lockout_views.lockouts, name="lockouts"),
    path("lockouts/lift/", lockout_views.lift, name="lockout_lift"),
]
