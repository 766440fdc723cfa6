"""Content: posts of every kind (questions first), edits, moderation, external content."""
