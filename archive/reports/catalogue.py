"""The core's reports as the registry lists them (archive/reports/feature.py); retention adds the
disposition report from its own package (retention/reports.py)."""

from __future__ import annotations

from archive.reports.borrowing import build_borrowing
from archive.reports.coverage import build_coverage
from archive.reports.holdings import build_holdings
from archive.reports.permissions import permission_report_access, permission_report_view
from archive.reports.rescan import build_rescan
from archive.reports.usage import build_access
from archive.reports.views import ReportDefinition

REPORTS = (
    ReportDefinition("holdings", permission_report_view, build_holdings, order=10),
    ReportDefinition("coverage", permission_report_view, build_coverage, order=20),
    ReportDefinition("rescan", permission_report_view, build_rescan, order=30),
    ReportDefinition("borrowing", permission_report_view, build_borrowing, order=40),
    ReportDefinition("access", permission_report_access, build_access, takes_period=True, order=60),
)
