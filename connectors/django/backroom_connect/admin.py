"""The connector's change log in Django's admin, read-only: who changed what through Backroom."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from backroom_connect.models import RecordedChange


@admin.register(RecordedChange)
class RecordedChangeAdmin(admin.ModelAdmin):
    """Every change a Backroom user made, newest first, filtered by what and when, searched by
    who. Nobody adds, edits or deletes a line here: it is the record of what happened. (No
    date drill-down: on MySQL it needs the server's zone tables; the "at" filter does not.)"""

    list_display = ("at", "user", "entity", "record_id", "field", "old_value", "new_value")
    list_filter = ("entity", "at")
    search_fields = ("user", "field")
    ordering = ("-at", "-id")
    list_per_page = 100

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
