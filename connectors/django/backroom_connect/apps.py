"""The Django app: checks BACKROOM_CONNECT when the site starts, so a typo fails loudly there."""

from __future__ import annotations

from django.apps import AppConfig


class BackroomConnectConfig(AppConfig):
    name = "backroom_connect"
    default_auto_field = "django.db.models.BigAutoField"  # as its migration, whatever the site's
    verbose_name = "Backroom connector"

    def ready(self) -> None:
        from backroom_connect.views import connector

        connector()
