"""The four Guild services. None imports another; they talk only through NATS."""
