"""The core's permissions and which role holds each by default (features add their own: registry)."""

from __future__ import annotations

from archive.roles import APPROVER, AUDITOR, CLERK, SECURITY_ADMIN, STAFF, SYSTEM_ADMIN

permission_customer_view = "customer.view"
permission_customer_register = "customer.register"
permission_pii_view = "pii.view"
permission_document_view = "document.view"
permission_document_download = "document.download"
permission_document_search = "document.search"
permission_audit_view = "audit.view"
permission_user_manage = "user.manage"
permission_reference_manage = "reference.manage"
permission_integrity_verify = "integrity.verify"  # run the fixity check and sweep uncommitted objects
permission_document_file = "document.file"  # 归档: make a captured document an archived record
# Approve or reject a role or clearance above staff/internal that an administrator asked for (三员分立).
permission_account_change_approve = "account_change.approve"
permission_classification_request = "classification.request"  # ask to raise or lower a record's 密级
permission_classification_approve = "classification.approve"  # decide it (the security administrator)
permission_document_edit = "document.edit"  # correct a document's metadata (never its identity key)
permission_customer_supersede = "customer.supersede"  # replace a wrong identity key by a new customer (seed 004)

# Held by no role: only named system actors (archive.actors; retention's disposal job) get them.
permission_keys_manage = "keys.manage"  # rotate master keys, re-wrap data keys, retire unused keys
permission_document_shred = "document.shred"  # destroy a document's data key (crypto-shredding)
permission_text_reredact = "text.reredact"  # re-redact stored text after the redaction improved

# Permissions that concern one customer's data are also scoped: department and clearance (access.py).
GRANTS: dict[str, frozenset[str]] = {
    CLERK: frozenset({permission_customer_view, permission_customer_register, permission_pii_view,
                      permission_document_view, permission_document_download, permission_document_search,
                      permission_document_file, permission_classification_request, permission_document_edit,
                      permission_customer_supersede}),
    STAFF: frozenset({permission_customer_view, permission_document_view, permission_document_search}),
    APPROVER: frozenset({permission_customer_view, permission_document_view, permission_document_search,
                         permission_classification_request}),
    AUDITOR: frozenset({permission_audit_view, permission_integrity_verify}),
    SYSTEM_ADMIN: frozenset({permission_user_manage, permission_reference_manage}),
    SECURITY_ADMIN: frozenset({permission_account_change_approve, permission_classification_approve}),
}

# 三员分立: the permissions that make each of the three duties (access.check_separation), and those that
# read customers' documents, which none of the three administrator roles may hold.
DUTIES: dict[str, frozenset[str]] = {
    "system": frozenset({permission_user_manage, permission_reference_manage}),
    "security": frozenset({permission_account_change_approve, permission_classification_approve}),
    "audit": frozenset({permission_audit_view}),
}
READING = frozenset({permission_customer_view, permission_pii_view, permission_document_view,
                     permission_document_download, permission_document_search})
