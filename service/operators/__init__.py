"""KYC operators: accounts separate from end users, with roles, mandatory TOTP and short sessions."""
