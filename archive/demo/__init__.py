"""The demo: `samples.py` draws scanned pages (demo data, tests and the OCR benchmark use them);
`loading.py` fills an embedded instance with departments, a login per role and sample customers."""
