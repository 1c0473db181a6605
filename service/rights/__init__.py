"""Users' rights: seeing and taking away everything held about them."""
