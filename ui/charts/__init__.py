"""Dashboard charts: linked time panels, crosshair, status tiles, sparklines, decimation."""
