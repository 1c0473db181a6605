"""The manifest of avatars (service.manifest), listed in service.capabilities.

A person's profile picture.
"""

from __future__ import annotations

from service.avatars.routes import AvatarController
from service.lifecycle.personal_data import WHILE_THE_ACCOUNT_LIVES, Erasure, PersonalData, Sealed, Shape
from service.manifest import Capability
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "avatars",
        "avatar",
        "SELECT kind, byte_size, side, updated_at, content FROM avatars WHERE account_id = $1",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        sealed={"content": Sealed(VaultField.AVATAR_CONTENT, shape=Shape.BYTES)},
        erase=("DELETE FROM avatars WHERE account_id = $1",),
        single=True,
    ),
)


CAPABILITY = Capability(
    "avatars",
    routes=(AvatarController,),
    personal_data=PERSONAL_DATA,
)
