"""The PyQt6 + pyqtgraph user interface: windows, pages, Qt models, charts, the worker bridge."""
