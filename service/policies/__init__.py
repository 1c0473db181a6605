"""Versioned policy documents (terms of service, privacy policy) that people agree to."""
