"""Uploaded documents: screened, stripped of metadata, sealed, and opened only where audited."""
