"""HTTP plumbing shared by the collectors, the shop API and the checks: sessions, deadlines, TLS."""
