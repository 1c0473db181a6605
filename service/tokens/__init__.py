"""Short-lived signed session tokens for gateways that verify locally, and the keys that sign them."""
