"""Qualification certification: work unit, job and documents, reviewed by an operator."""
