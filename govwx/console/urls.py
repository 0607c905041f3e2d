from django.urls import path

from . import content_pickers, content_plan, matrix_views, views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("messages/", views.message_log, name="messages"),
    path("account/switch/", views.switch, name="switch"),
    path("plan/", content_plan.content_plan, name="content_plan"),
    path("plan/act/", content_plan.content_plan_act, name="content_plan_act"),
    path("pickers/guides/", content_pickers.guides, name="content_guides"),
    path("matrix/", matrix_views.matrix, name="matrix"),
    path("matrix/<int:pk>/repost/", matrix_views.repost, name="matrix_repost"),
]
