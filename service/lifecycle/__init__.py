"""The end of an account: cancellation with a cooling-off period, then erasure."""
