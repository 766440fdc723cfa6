"""Matching's public events: proposals turned into the contracts in shared/."""
