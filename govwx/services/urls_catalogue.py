from django.urls import path

from . import catalogue_views as v

urlpatterns = [
    path("catalogue/", v.catalogue_page, name="catalogue"),
    path("catalogue/new/", v.service_create, name="service_create"),
    path("catalogue/<int:pk>/edit/", v.service_edit, name="service_edit"),
    path("catalogue/<int:pk>/delete/", v.service_delete, name="service_delete"),
    path("catalogue/<int:pk>/override/", v.service_override, name="service_override"),
    path("catalogue/<int:pk>/withdraw/", v.service_withdraw, name="service_withdraw"),
    path("catalogue/import/", v.import_page, name="import"),
    path("catalogue/export/", v.export_page, name="export"),
    path("offices/", v.offices_page, name="offices"),
    path("offices/new/", v.office_create, name="office_create"),
    path("offices/<int:pk>/edit/", v.office_edit, name="office_edit"),
    path("offices/<int:pk>/delete/", v.office_delete, name="office_delete"),
    path("offices/<int:pk>/override/", v.office_override, name="office_override"),
    path("offices/<int:pk>/withdraw/", v.office_withdraw, name="office_withdraw"),
]
