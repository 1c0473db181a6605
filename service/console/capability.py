"""The manifest of the console (service.manifest), listed in service.capabilities.

The operator console in the browser (issue 20): pages over the operators' and cases' own domain
functions. It holds no personal data of its own: its session is an operator session."""

from __future__ import annotations

from service.console.accounts import ConsoleAccountsController
from service.console.admin import ConsoleAdminController
from service.console.passkeys import ConsolePasskeyCeremonyController, ConsolePasskeysController
from service.console.routes import ConsoleAssetsController, ConsoleController
from service.manifest import Capability

CAPABILITY = Capability(
    "console",
    routes=(
        ConsoleController,
        ConsoleAdminController,
        ConsoleAccountsController,
        ConsolePasskeysController,
        ConsolePasskeyCeremonyController,
        ConsoleAssetsController,
    ),
)
