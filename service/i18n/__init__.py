"""Chinese and English: the languages a person reads, and the gettext catalogues that hold the texts."""
