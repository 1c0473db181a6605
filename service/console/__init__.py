"""The operator console: server-rendered pages at /console for KYC operators (issue 20)."""
