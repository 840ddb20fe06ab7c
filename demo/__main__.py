"""``python -m demo [serve] [options]`` runs the demo shop in the foreground."""

import sys

from demo.cli import serve_main

raise SystemExit(serve_main(sys.argv[1:]))
