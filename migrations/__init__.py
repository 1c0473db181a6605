"""Ordered plain-SQL migrations, shipped as package data so an installed idv finds them."""
