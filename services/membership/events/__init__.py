"""Membership's public events: domain objects turned into the contracts in shared/."""
