"""Anomaly alerts over the audit trail: rules as configuration, a periodic scan, acknowledgement.

Rules come from ARCHIVE_AUDIT_ALERT_RULES (a JSON file; missing keys keep the defaults below), with
thresholds per role. The scan reads the events written since its cursor, raises at most one alert per
rule and subject and window (a fingerprint), keeps the evidence (event seqs, counts, addresses), and
records `audit.alert_raised` for each; an auditor acknowledges one with a comment (`audit.alert_
acknowledged`). Alerts are the desk's working state, not evidence: they live beside the chain, and every
change to them is itself a chained audit event.

Default rules:
  mass_access         more than N distinct documents viewed/downloaded by one user in one clock hour
  after_hours         document access outside working hours (local time, weekends too), per user per day
  repeated_denials    N or more denials for one user in one clock hour
  repeated_lookups    N or more exact ID-number or phone lookups by one user in one clock hour
  secret_access       any access to a document classified secret
  new_address         a person's account used from an address not seen for them in the lookback period
  failed_verification an `archive audit verify` that found a problem
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from archive import access, audit
from archive.actors import Actor
from archive.compliance.events import (
    event_audit_alert_acknowledged,
    event_audit_alert_raised,
    event_audit_verified,
)
from archive.compliance.models import AuditAlert, AuditAlertCursor
from archive.compliance.permissions import permission_audit_alert_scan, permission_audit_view
from archive.errors import NotFoundError, ValidationError
from archive.models import AuditEvent, Document, User, as_utc, utcnow
from archive.unit_of_work import UnitOfWork

ACCESS_EVENTS = ("document.viewed", "document.downloaded", "page.image_viewed")
LOOKUP_EVENTS = ("documents.identifier_lookup", "documents.identifier_lookup_refused")
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "mass_access": {"enabled": True, "threshold": 50, "per_role": {"clerk": 300, "system": None}},
    "after_hours": {"enabled": True, "start": "08:00", "end": "19:00", "utc_offset_hours": 8, "weekends": True,
                    "per_role": {"system": None}},
    "repeated_denials": {"enabled": True, "threshold": 5, "per_role": {}},
    # Exact ID-number / phone lookups (kept as keyed hashes): many in an hour is someone trying numbers.
    "repeated_lookups": {"enabled": True, "threshold": 10, "per_role": {"system": None}},
    "secret_access": {"enabled": True, "classification": "secret"},
    "new_address": {"enabled": True, "lookback_days": 90, "ignore": ["", "cli"], "per_role": {"system": None}},
    "failed_verification": {"enabled": True},
}
_BATCH = 100_000


@dataclass(frozen=True)
class AlertView:
    id: int
    rule: str
    subject: str
    summary: str
    evidence: dict[str, Any]
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comment: str | None


def load_rules(path: Path | None) -> dict[str, dict[str, Any]]:
    """The default rules, overridden key by key from a JSON file when one is given and exists."""
    rules = {name: dict(rule) for name, rule in DEFAULT_RULES.items()}
    if path is not None and Path(path).exists():
        try:
            custom = json.loads(Path(path).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValidationError(f"alert rules {path} are not JSON: {exc}") from None
        for name, values in custom.items():
            if name not in rules:
                raise ValidationError(f"alert rules {path}: unknown rule {name!r}")
            rules[name].update(values)
    return rules


def _threshold(rule: dict[str, Any], role: str) -> Any:
    """The rule's value for this role; None means the rule does not apply to it."""
    per_role = rule.get("per_role", {})
    return per_role[role] if role in per_role else rule.get("threshold", True)


def _view(row: AuditAlert) -> AlertView:
    return AlertView(row.id, row.rule, row.subject, row.summary, dict(row.evidence or {}), row.raised_at,
                     row.acknowledged_at, row.acknowledged_by, row.comment)


def _local(moment: datetime, offset_hours: float) -> datetime:
    return as_utc(moment).astimezone(UTC) + timedelta(hours=offset_hours)


def _hour(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def scan_alerts(uow: UnitOfWork, *, actor: Actor, rules: dict[str, dict[str, Any]]) -> list[AlertView]:
    """Raise the alerts the events since the last scan call for. Requires permission_audit_alert_scan."""
    with uow:
        access.require(actor, permission_audit_alert_scan)
        session = uow.session
        cursor = session.get(AuditAlertCursor, 1)
        if cursor is None:
            cursor = AuditAlertCursor(id=1, last_seq=0)
            session.add(cursor)
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > cursor.last_seq)
                                      .order_by(AuditEvent.seq).limit(_BATCH)))
        if not events:
            uow.commit()
            return []
        roles = dict(session.execute(select(User.id, User.role)).all())

        def role_of(event: AuditEvent) -> str:
            return roles.get(event.actor_id, "system" if event.actor_name.startswith("system:") else "unknown")

        found: dict[str, tuple[str, str, str, dict[str, Any]]] = {}  # fingerprint -> rule, subject, summary, evidence

        def raise_(fingerprint: str, rule: str, subject: str, summary: str, evidence: dict[str, Any]) -> None:
            known = found.get(fingerprint)
            if known is None:
                found[fingerprint] = (rule, subject, summary, evidence)
            elif len(known[3].get("seqs", [])) < 20:
                known[3].setdefault("seqs", []).extend(evidence.get("seqs", []))

        accesses = [e for e in events if e.event_type in ACCESS_EVENTS and e.target_type == "document"]
        rule = rules["secret_access"]
        if rule.get("enabled") and accesses:
            ids = {int(e.target_id) for e in accesses if e.target_id.isdigit()}
            secret = set(session.scalars(select(Document.id).where(
                Document.id.in_(ids), Document.classification == rule["classification"]))) if ids else set()
            for e in accesses:
                if e.target_id.isdigit() and int(e.target_id) in secret:
                    raise_(f"secret_access:{e.seq}", "secret_access", e.actor_name,
                           f"{e.actor_name}: {e.event_type} of {rule['classification']} document {e.target_id}",
                           {"seqs": [e.seq], "document_id": int(e.target_id), "address": e.remote_addr})
        rule = rules["after_hours"]
        if rule.get("enabled"):
            start, end = (datetime.strptime(rule[k], "%H:%M").time() for k in ("start", "end"))
            for e in accesses:
                if _threshold(rule, role_of(e)) is None:
                    continue
                local = _local(e.occurred_at, rule["utc_offset_hours"])
                weekend = rule.get("weekends") and local.weekday() >= 5
                if weekend or not start <= local.time() < end:
                    raise_(f"after_hours:{e.actor_name}:{local.date()}", "after_hours", e.actor_name,
                           f"{e.actor_name} read documents outside working hours on {local.date()} "
                           f"(first at {local:%H:%M} local time)", {"seqs": [e.seq], "date": str(local.date())})
        hours = sorted({_hour(e.occurred_at) for e in events})
        rule = rules["mass_access"]
        if rule.get("enabled") and accesses:
            for hour in sorted({_hour(e.occurred_at) for e in accesses}):
                rows = session.execute(
                    select(AuditEvent.actor_name, AuditEvent.actor_id,
                           func.count(func.distinct(AuditEvent.target_id)), func.min(AuditEvent.seq),
                           func.max(AuditEvent.seq))
                    .where(AuditEvent.occurred_at >= hour, AuditEvent.occurred_at < hour + timedelta(hours=1),
                           AuditEvent.event_type.in_(ACCESS_EVENTS), AuditEvent.target_type == "document")
                    .group_by(AuditEvent.actor_name, AuditEvent.actor_id)).all()
                for name, actor_id, distinct, first, last in rows:
                    role = roles.get(actor_id, "system" if name.startswith("system:") else "unknown")
                    limit = _threshold(rule, role)
                    if limit is not None and distinct > limit:
                        raise_(f"mass_access:{name}:{hour:%Y-%m-%dT%H}", "mass_access", name,
                               f"{name} ({role}) read {distinct} distinct documents in the hour from {hour:%Y-%m-%d %H:00} "
                               f"UTC (limit {limit})", {"distinct_documents": distinct, "limit": limit,
                                                        "first_seq": first, "last_seq": last})
        rule = rules["repeated_denials"]
        if rule.get("enabled") and any(e.outcome == "denied" for e in events):
            for hour in hours:
                rows = session.execute(
                    select(AuditEvent.actor_name, AuditEvent.actor_id, func.count(), func.min(AuditEvent.seq),
                           func.max(AuditEvent.seq))
                    .where(AuditEvent.occurred_at >= hour, AuditEvent.occurred_at < hour + timedelta(hours=1),
                           AuditEvent.outcome == "denied").group_by(AuditEvent.actor_name, AuditEvent.actor_id)).all()
                for name, actor_id, count, first, last in rows:
                    limit = _threshold(rule, roles.get(actor_id, "unknown"))
                    if limit is not None and count >= limit:
                        raise_(f"repeated_denials:{name}:{hour:%Y-%m-%dT%H}", "repeated_denials", name,
                               f"{name} was refused {count} times in the hour from {hour:%Y-%m-%d %H:00} UTC",
                               {"denials": count, "limit": limit, "first_seq": first, "last_seq": last})
        rule = rules["repeated_lookups"]
        if rule.get("enabled") and any(e.event_type in LOOKUP_EVENTS for e in events):
            for hour in hours:
                rows = session.execute(
                    select(AuditEvent.actor_name, AuditEvent.actor_id, func.count(), func.min(AuditEvent.seq),
                           func.max(AuditEvent.seq))
                    .where(AuditEvent.occurred_at >= hour, AuditEvent.occurred_at < hour + timedelta(hours=1),
                           AuditEvent.event_type.in_(LOOKUP_EVENTS))
                    .group_by(AuditEvent.actor_name, AuditEvent.actor_id)).all()
                for name, actor_id, count, first, last in rows:
                    limit = _threshold(rule, roles.get(actor_id, "unknown"))
                    if limit is not None and count >= limit:
                        raise_(f"repeated_lookups:{name}:{hour:%Y-%m-%dT%H}", "repeated_lookups", name,
                               f"{name} looked up {count} exact ID or phone numbers in the hour from "
                               f"{hour:%Y-%m-%d %H:00} UTC", {"lookups": count, "limit": limit, "first_seq": first,
                                                              "last_seq": last})
        rule = rules["new_address"]
        if rule.get("enabled"):
            seen: dict[tuple[str, str], int] = {}
            for e in events:
                if e.remote_addr in rule.get("ignore", []) or _threshold(rule, role_of(e)) is None:
                    continue
                seen.setdefault((e.actor_name, e.remote_addr), e.seq)
            lookback = timedelta(days=rule["lookback_days"])
            for (name, address), seq in seen.items():
                first = next(e for e in events if e.seq == seq)
                earlier = session.scalar(select(AuditEvent.seq).where(
                    AuditEvent.actor_name == name, AuditEvent.remote_addr == address, AuditEvent.seq < seq,
                    AuditEvent.occurred_at >= first.occurred_at - lookback).limit(1))
                ever = session.scalar(select(AuditEvent.seq).where(AuditEvent.actor_name == name,
                                                                   AuditEvent.seq < seq).limit(1))
                if earlier is None and ever is not None:  # a brand-new account has no usual address yet
                    raise_(f"new_address:{name}:{address}:{seq}", "new_address", name,
                           f"{name} acted from {address}, not seen for them in {rule['lookback_days']} days",
                           {"seqs": [seq], "address": address})
        if rules["failed_verification"].get("enabled"):
            for e in events:
                if e.event_type == event_audit_verified and e.outcome == "failed":
                    raise_(f"failed_verification:{e.seq}", "failed_verification", "audit trail",
                           f"audit verification by {e.actor_name} failed: {(e.detail or {}).get('first_problem', '')}",
                           {"seqs": [e.seq], "first_problem_seq": (e.detail or {}).get("first_problem_seq")})
        known = set(session.scalars(select(AuditAlert.fingerprint).where(AuditAlert.fingerprint.in_(list(found)))))
        raised = []
        now = utcnow()
        for fingerprint, (rule_name, subject, summary, evidence) in found.items():
            if fingerprint in known:
                continue
            alert = AuditAlert(fingerprint=fingerprint, rule=rule_name, subject=subject, summary=summary,
                               evidence=evidence, raised_at=now)
            session.add(alert)
            raised.append(alert)
        session.flush()
        for alert in raised:
            audit.record(session, actor, event_audit_alert_raised, target_type="audit_alert", target_id=alert.id,
                         rule=alert.rule, subject=alert.subject)
        cursor.last_seq = events[-1].seq
        uow.commit()
        return [_view(alert) for alert in raised]


def list_alerts(uow: UnitOfWork, *, actor: Actor, include_acknowledged: bool = False,
                limit: int = 200, before_id: int | None = None) -> list[AlertView]:
    """Newest first (older than `before_id` when given). Requires permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        query = select(AuditAlert).order_by(AuditAlert.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditAlert.id < before_id)
        if not include_acknowledged:
            query = query.where(AuditAlert.acknowledged_at.is_(None))
        return [_view(row) for row in uow.session.scalars(query)]


def acknowledge_alert(uow: UnitOfWork, *, actor: Actor, alert_id: int, comment: str) -> AlertView:
    """Mark an alert dealt with, saying how. Requires permission_audit_view; ValidationError without a
    comment or when already acknowledged; NotFoundError for an unknown alert."""
    comment = comment.strip()
    with uow:
        access.require(actor, permission_audit_view)
        alert = uow.session.get(AuditAlert, alert_id)
        if alert is None:
            raise NotFoundError(f"no alert {alert_id}")
        if not comment:
            raise ValidationError("a comment is required to acknowledge an alert", code="acknowledge_comment_required",
                                  field="comment")
        if alert.acknowledged_at is not None:
            raise ValidationError(f"alert {alert_id} was already acknowledged by {alert.acknowledged_by}",
                                  code="alert_already_acknowledged", params={"who": alert.acknowledged_by})
        alert.acknowledged_at, alert.acknowledged_by, alert.comment = utcnow(), actor.username, comment[:2000]
        audit.record(uow.session, actor, event_audit_alert_acknowledged, target_type="audit_alert",
                     target_id=alert_id, rule=alert.rule, comment=comment[:2000])
        uow.commit()
        return _view(alert)
