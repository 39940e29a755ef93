"""The archive's security vocabulary: every permission and which role holds it by default."""

permission_customer_view = "customer.view"
permission_customer_register = "customer.register"
permission_pii_view = "pii.view"
permission_document_view = "document.view"
permission_document_download = "document.download"
permission_document_capture = "document.capture"
permission_document_search = "document.search"
permission_audit_view = "audit.view"
permission_user_manage = "user.manage"
permission_reference_manage = "reference.manage"
permission_integrity_verify = "integrity.verify"  # run the fixity check and sweep uncommitted objects
permission_page_rescan = "page.rescan"  # see the rescan list, upload a replacement for a page
permission_document_reprocess = "document.reprocess"  # run OCR again over documents (`archive ocr rerun`)
# Approve or reject a role or clearance above staff/internal that an administrator asked for (三员分立).
permission_account_change_approve = "account_change.approve"

# Permissions that concern one customer's data are also scoped: department and clearance (access.py).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "clerk": frozenset(
        {
            permission_customer_view,
            permission_customer_register,
            permission_pii_view,
            permission_document_view,
            permission_document_download,
            permission_document_capture,
            permission_document_search,
            permission_page_rescan,
            permission_document_reprocess,
        }
    ),
    "staff": frozenset({permission_customer_view, permission_document_view, permission_document_search}),
    "approver": frozenset({permission_customer_view, permission_document_view, permission_document_search}),
    "compliance": frozenset({permission_audit_view, permission_integrity_verify}),
    "admin": frozenset({permission_user_manage, permission_reference_manage}),
    "security_admin": frozenset({permission_account_change_approve}),
}

# Held by no role: only named system actors (the CLI operator, retention's disposal job) get them.
permission_keys_manage = "keys.manage"  # rotate master keys, re-wrap data keys, retire unused keys
permission_document_shred = "document.shred"  # destroy a document's data key (crypto-shredding)
permission_text_reredact = "text.reredact"  # re-redact stored text after the redaction improved
