"""``python -m realtime_config``: the same command line as ``realtime-config``."""

from realtime_config.cli import main

main(prog_name="realtime-config")
