"""Sign-in, sessions and sign-out."""
