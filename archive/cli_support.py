"""The named system actor for operator commands run on the server host."""

from archive.actors import Actor
from archive.permissions import permission_keys_manage, permission_reference_manage, permission_user_manage

OPERATOR = Actor.system(
    "cli", frozenset({permission_user_manage, permission_reference_manage, permission_keys_manage})
)
