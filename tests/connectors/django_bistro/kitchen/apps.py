"""App config of the kitchen app."""

from django.apps import AppConfig


class KitchenConfig(AppConfig):
    name = "kitchen"
