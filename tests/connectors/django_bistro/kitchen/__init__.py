"""The site's own kitchen app: dishes and tickets."""
