"""Face verification: an active liveness challenge, then the live face against the document's portrait."""
