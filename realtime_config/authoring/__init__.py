"""Authoring jobs on top of the pipeline: import, migrate, new, explain, diff and snapshots."""
