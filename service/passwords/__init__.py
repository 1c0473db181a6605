"""Password hashing with argon2id, always off the event loop."""
