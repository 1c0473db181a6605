"""Personal-data vault: per-owner data keys wrapped by master keys, and keyed blind indexes."""

from service.vault.blind_index import BlindIndex
from service.vault.cipher import OwnerCipher
from service.vault.keyring import MasterKeyRing
from service.vault.vault import DataKeyDestroyed, Vault, VaultError

__all__ = ["BlindIndex", "DataKeyDestroyed", "MasterKeyRing", "OwnerCipher", "Vault", "VaultError"]
