"""The site's own reservations app (not Backroom's schema)."""
