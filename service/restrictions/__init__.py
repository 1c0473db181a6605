"""Operators restricting an account while something is checked, and lifting the restriction."""
