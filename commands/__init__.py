"""The command-line adapters: each `backroom` command's work, arguments to exit code."""
