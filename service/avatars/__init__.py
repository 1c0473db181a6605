"""A person's profile picture: uploaded, screened and re-encoded like documents, sealed at rest."""
