"""The connector's own tables (its change log), made by Django's migrate."""
