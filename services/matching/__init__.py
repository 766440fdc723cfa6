"""Matching: read models built from events; experts for questions, people to meet."""
