"""A small Django restaurant site of its own, with Backroom's connector installed (a test shop)."""
