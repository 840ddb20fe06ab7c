"""App config of the reservations app."""

from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "reservations"
