from django.urls import path

from . import views

app_name = "replies"
urlpatterns = [
    path("", views.rule_list, name="list"),
    path("new/", views.rule_create, name="create"),
    path("<int:pk>/edit/", views.rule_edit, name="edit"),
    path("<int:pk>/delete/", views.rule_delete, name="delete"),
    path("replies/", views.trigger_replies, name="triggers"),
    path("try/", views.try_rule, name="try"),
]
