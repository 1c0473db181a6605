"""Who received a person's data, and telling them when it is erased, corrected or withdrawn."""
