"""Every conversation with the outside world, Qt-free: HTTP, databases, caches, brokers, disk."""
