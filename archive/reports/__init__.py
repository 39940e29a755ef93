"""Reports: read-only aggregates (卷/件/页 counts, capture coverage, rescans, borrowing, disposition due,
access per user), each one grouped query per figure that counts only what the viewer may see, with
charts and Excel exports built in web/.

Empty for now: one module per report, each returning frozen dataclasses (views.py).
"""
