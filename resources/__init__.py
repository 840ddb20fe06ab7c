"""Icons, the desktop entry and other files the console ships with."""
