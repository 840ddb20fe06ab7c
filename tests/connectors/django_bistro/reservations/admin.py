"""The reservations in Django's admin."""

from django.contrib import admin

from reservations.models import Reservation


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ("time", "name", "covers", "table_no", "state")
    list_filter = ("state",)
    search_fields = ("name", "phone")
