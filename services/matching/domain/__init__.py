"""Matching's domain model. Imports only the standard library."""
