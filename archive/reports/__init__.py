"""Reports: read-only aggregates (卷/件/页 counts, capture coverage, rescans, borrowing, disposition due,
access per user), one grouped query per figure, counting only what the viewer may see.

One module per report (holdings, coverage, rescan, borrowing, usage) returning frozen values
(views.py); services.py runs one (permission, audit) and exports it (excel.py); charts.py draws its
pictures as SVG. Other packages contribute reports through the registry (retention/reports.py).
"""
