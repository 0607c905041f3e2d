from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [
    path("", views.channel_list, name="channels"),
    path("new/", views.channel_create, name="create"),
    path("<int:pk>/", views.channel_edit, name="edit"),
    path("<int:pk>/enable/", views.channel_enable, name="enable"),
    path("<int:pk>/test/", views.channel_test, name="test"),
]
