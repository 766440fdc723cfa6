"""Membership: communities, members, joins and roles, HR directory sync."""
