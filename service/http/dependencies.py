"""Names of the dependencies handlers ask for, declared explicitly as Litestar 3 requires."""

from __future__ import annotations

from litestar.di import NamedDependency

from service.runtime import Runtime
from service.sessions.sessions import Principal

CurrentRuntime = NamedDependency[Runtime]
SignedIn = NamedDependency[Principal]
