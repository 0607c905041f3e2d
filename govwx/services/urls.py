"""The console's pages of the service hub: the catalogue, the menu builder, reach
(two taps), link health and menu analytics. Each part keeps its own URL list."""

from . import urls_catalogue, urls_menu, urls_reach

app_name = "services"

urlpatterns = [*urls_catalogue.urlpatterns, *urls_menu.urlpatterns, *urls_reach.urlpatterns]
