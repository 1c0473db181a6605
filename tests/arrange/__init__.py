"""How tests arrange the world they test: people verified to a level, operators, cases, consents.

Every arrangement goes through the service's HTTP API or the domain functions a capability itself
uses, against the test's real database. Test modules take their arrangements from here and never
import another test module (`tests/test_layout.py` checks that).
"""
