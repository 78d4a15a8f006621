"""Ingestion: passes over the national sources into the store, with checkpoints and quarantine."""
