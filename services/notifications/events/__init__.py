"""Notifications' public events: delivery outcomes turned into the contracts in shared/."""
