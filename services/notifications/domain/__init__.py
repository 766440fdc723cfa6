"""Notifications' domain model. Imports only the standard library."""
