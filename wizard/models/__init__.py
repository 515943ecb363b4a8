"""Database models: organizations, users, integrations, attempts, audit events,
presence, held contacts, notices."""

from wizard.models.audit import AuditEvent
from wizard.models.held import HeldContact
from wizard.models.integrations import TYPE_CONSTANT_CONTACT
from wizard.models.integrations import AuthorizationAttempt
from wizard.models.integrations import Integration
from wizard.models.notices import Notice
from wizard.models.people import PASSWORD_METHOD
from wizard.models.people import REFERENCE_ALPHABET
from wizard.models.people import ROLE_CUSTOMER
from wizard.models.people import ROLE_SUPPORT
from wizard.models.people import ROLES
from wizard.models.people import Organization
from wizard.models.people import User
from wizard.models.people import new_reference_code
from wizard.models.presence import Presence

__all__ = [
    "PASSWORD_METHOD",
    "REFERENCE_ALPHABET",
    "ROLES",
    "ROLE_CUSTOMER",
    "ROLE_SUPPORT",
    "TYPE_CONSTANT_CONTACT",
    "AuditEvent",
    "AuthorizationAttempt",
    "HeldContact",
    "Integration",
    "Notice",
    "Organization",
    "Presence",
    "User",
    "new_reference_code",
]
