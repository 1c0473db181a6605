"""Correcting data fixed at registration or by verification, through a reviewed request."""
