"""Console URLs of the material library (included by content/urls.py under /content/)."""

from django.urls import path

from . import materials_views as v

urlpatterns = [
    path("materials/", v.material_list, name="materials"),
    path("materials/upload/", v.material_upload, name="material_upload"),
    path("materials/<int:pk>/", v.material_detail, name="material"),
    path("materials/<int:pk>/edit/", v.material_edit, name="material_edit"),
    path("materials/<int:pk>/push/", v.material_push, name="material_push"),
    path("materials/<int:pk>/delete/", v.material_delete, name="material_delete"),
    # no trailing slash: the address articles.py and render.py already write into HTML
    path("materials/<int:pk>/file", v.material_file, name="material_file"),
]
