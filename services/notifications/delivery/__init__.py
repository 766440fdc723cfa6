"""Getting notifications to members' own channels: the outbox, retries, rate limits."""
