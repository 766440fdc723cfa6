"""Content's state, in key-value buckets only content writes."""
