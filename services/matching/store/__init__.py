"""Matching's state: its read model, persisted so that a restart does not lose it."""
