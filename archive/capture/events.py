"""Audit event types that capture, OCR and the rescan loop record."""

event_document_captured = "document.captured"
event_document_capture_refused = "document.capture_refused"
event_page_replaced = "page.replaced"  # a rescan became the page; the previous version is kept
event_page_replacement_refused = "page.replacement_refused"
event_documents_reprocessed = "documents.reprocessed"  # OCR queued again (`archive ocr rerun`)
event_page_ocr_failed = "page.ocr_failed"  # a page's OCR failed for good, with the reason
