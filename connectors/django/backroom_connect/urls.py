"""Mount with ``path("backroom/", include("backroom_connect.urls"))``."""

from django.urls import re_path

from backroom_connect.views import serve

app_name = "backroom_connect"
urlpatterns = [re_path(r"^(?P<path>.*)$", serve, name="api")]
