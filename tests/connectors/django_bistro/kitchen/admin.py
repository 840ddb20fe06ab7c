"""Dishes and tickets in Django's admin."""

from django.contrib import admin

from kitchen.models import Dish, Ticket

admin.site.register(Dish)
admin.site.register(Ticket)
