"""Password hashing with Argon2 (pwdlib)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from voronka.config import get_settings

MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=2)
def _hasher(cost: str) -> PasswordHash:
    if cost == "light":  # tests only; the settings refuse it in production
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher(get_settings().password_hash_cost).hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password; with no hash a dummy check keeps the timing the same."""
    hasher = _hasher(get_settings().password_hash_cost)
    if password_hash is None:
        hasher.hash(password)
        return False
    return hasher.verify(password, password_hash)
