"""Capture: a scanned file becomes an encrypted, recorded document; its pages are OCRed and indexed.

`runner.py` is the step contract and its one runner; `steps.py` the steps; `services.py` the use
cases (capture a file, replace a page, list pages to rescan); `recognition.py` OCR of one page and
`ocr_runs.py` OCR again on request; `tasks.py` the queued and periodic jobs; `feature.py` what the
package adds to the registry.
"""
