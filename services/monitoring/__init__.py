"""Live monitoring: the poller, the alert service and log, the metric history on disk."""
