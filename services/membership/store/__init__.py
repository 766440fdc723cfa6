"""Membership's state, in key-value buckets only membership writes."""
