"""Identity checked by a person from photos of the document: the way that needs no facial recognition."""
