"""Notifications: every member reached through their channels, once."""
