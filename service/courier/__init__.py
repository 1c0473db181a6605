"""The courier: an outbox of e-mail and SMS messages, delivered by the job runner."""
