"""The site's URLs: its admin and Backroom's connector."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("backroom/", include("backroom_connect.urls")),
]
