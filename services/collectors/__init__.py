"""Collectors, one module per source kind; each ``collect()`` is one bounded, blocking call."""
