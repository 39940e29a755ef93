"""Retention: schedules from the document's class, trigger dates and events, legal holds 冻结,
appraisal 鉴定, destruction 销毁 with its permanent register, and transfer 移交.

It sits above archive (it may import archive; archive never imports it) and plugs in through the
registry: `feature.py` is its entry (the records_manager role, permissions, events, the daily job and
HoldGuard, the archive.ports.DispositionGuard that makes holds block shredding). models.py,
services/ (schedules, dispositions, holds), tasks.py, views.py and cli.py (`archive retention`, named
under the `archive.commands` entry points) sit beside it. Still to come: filing as its own step,
appraisal batches, destruction runs with the register, transfer with receipts, and the web pages.
"""
