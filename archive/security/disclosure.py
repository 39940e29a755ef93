"""Say no more about a record than the actor may know (ASVS 4.2, 8.3): duplicates of what they cannot
see, and document types below their minimum classification."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive import access
from archive.actors import Actor
from archive.errors import DuplicateDocumentError, ValidationError
from archive.models import ClassificationLevel, Document, DocumentType
from archive.permissions import permission_document_view

ASK_THE_ARCHIVE_ROOM = "重复采集: 档案中已有相同内容，请咨询档案室 / already in the archive; ask the archive room"


def duplicate_error(session: Session, actor: Actor, existing_id: int) -> DuplicateDocumentError:
    """Name the existing document only to someone who may view it."""
    existing = session.get(Document, existing_id)
    if existing is not None and access.allows(actor, permission_document_view, existing):
        return DuplicateDocumentError(
            f"重复采集: 该客户已有相同内容的文件 / duplicate: this customer already has this content "
            f"({existing.archive_code}, document {existing.id})",
            existing.id, code="duplicate_document", params={"archive_code": existing.archive_code},
        )
    return DuplicateDocumentError(ASK_THE_ARCHIVE_ROOM, 0, code="duplicate_ask_archive_room")


def check_minimum_classification(session: Session, doc_type: DocumentType, classification: str | None) -> None:
    """Refuse a classification below the type's minimum (reference data: an ID copy is never public)."""
    if not classification or not doc_type.minimum_classification:
        return
    chosen = session.get(ClassificationLevel, classification)
    minimum = session.get(ClassificationLevel, doc_type.minimum_classification)
    if chosen is not None and minimum is not None and chosen.rank < minimum.rank:
        raise ValidationError(
            f"{doc_type.code} 的密级不得低于 {minimum.name_zh} / a {doc_type.name_en} is classified at least "
            f"{minimum.name_en}", code="below_type_minimum",
            params={"type_zh": doc_type.name_zh, "type_en": doc_type.name_en, "minimum_zh": minimum.name_zh,
                    "minimum_en": minimum.name_en}, field="classification",
        )
