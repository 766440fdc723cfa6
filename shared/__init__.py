"""Code the Guild services share: event contracts, the envelope, naming, and NATS plumbing.

Nothing in here imports a service. Services import from here and never from each other.
"""
