"""Notifications' state: contacts, the delivery ledger, and the inboxes."""
