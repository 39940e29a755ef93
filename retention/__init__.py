"""Retention: schedules from the document's class, trigger dates and events, legal holds 冻结,
appraisal 鉴定, destruction 销毁 with its permanent register, and transfer 移交.

It sits above archive (it may import archive; archive never imports it) and plugs in through the
registry: `feature.py` is its entry, with permissions.py and events.py beside it. Still to come:
models.py, services.py, tasks.py (the daily due run), views.py, cli.py (`archive retention`, named
under the `archive.commands` entry points) and the DispositionGuard that makes holds block
destruction (archive.ports).
"""
