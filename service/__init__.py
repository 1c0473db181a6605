"""idv: account registration and identity verification over HTTP."""
