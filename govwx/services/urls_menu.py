from django.urls import path

from . import menu_views as v

urlpatterns = [
    path("menu/", v.menu_builder, name="menu"),
    path("menu/tags/", v.menu_tags, name="menu_tags"),
    path("menu/tags/refresh/", v.menu_tags_refresh, name="menu_tags_refresh"),
    path("menu/versions/", v.menu_versions, name="menu_versions"),
    path("menu/versions/<int:pk>/publish/", v.menu_publish, name="menu_publish"),
    path("menu/versions/<int:pk>/restore/", v.menu_restore, name="menu_restore"),
    path("menu/versions/<int:pk>/republish/", v.menu_republish, name="menu_republish"),
]
