"""Sample data for `archive demo`: departments, users, customers and generated scans."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from archive import registry
from archive.actors import OPERATOR
from archive.bootstrap import Archive
from archive.capture.recognition import ocr_progress
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.errors import DuplicateDocumentError, ValidationError
from archive.identity import resident_id_check_digit, uscc_check_char
from archive.saved_searches import services as saved_searches
from archive.services import indexing, reference, users
from archive.services.filing import file_documents

DEPARTMENTS = [("YX", "营销部 Marketing"), ("KF", "客户服务中心 Customer service")]
LOGINS = [
    ("admin", "admin-demo-pass", "sysadmin: accounts, departments, configuration (三员分立)"),
    ("clerk", "clerk-demo-pass", "clerk, 营销部 YX, clearance confidential"),
    ("staff", "staff-demo-pass", "staff, 营销部 YX, clearance internal"),
    ("staff_kf", "staff-demo-pass", "staff, 客户服务中心 KF, clearance secret"),
    ("approver", "approver-demo-pass", "approver, 营销部 YX, clearance secret"),
    ("auditor", "auditor-demo-pass", "auditor: reads and exports the audit trail (三员分立)"),
    ("secadmin", "secadmin-demo-pass", "security_admin: approves roles and clearances (三员分立)"),
]
_ACCOUNTS = [
    ("admin", "sysadmin", None, "public"),
    ("clerk", "clerk", "YX", "confidential"),
    ("staff", "staff", "YX", "internal"),
    ("staff_kf", "staff", "KF", "secret"),
    ("approver", "approver", "YX", "secret"),
    ("auditor", "auditor", None, "public"),
    ("secadmin", "security_admin", None, "public"),
]


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


def credit_code(first17: str) -> str:
    return first17 + uscc_check_char(first17)


CUSTOMERS = [
    (resident_id("11010819850312004"), "张伟", [
        ("application_form", ["低压居民用电申请书", "申请人 张伟", "用电地址 北京市海淀区中关村大街27号",
                              "联系电话 13812345678", "申请容量 8千瓦"]),
        ("supply_contract", ["低压供用电合同", "合同编号 HT-2024-0107", "供电人 国网北京市电力公司",
                             "用电人 张伟", "电费结算方式 银行代扣"]),
    ]),
    (resident_id("31010419900621328"), "李娜", [
        ("id_copy", ["居民身份证复印件", "姓名 李娜", "公民身份号码 " + resident_id("31010419900621328"),
                     "仅供办理用电业务使用"]),
    ]),
    (credit_code("91110108MA01ABCD1"), "北京华电科技有限公司", [
        ("supply_contract", ["高压供用电合同", "合同编号 HT-2024-0311", "用电人 北京华电科技有限公司",
                             "受电容量 1250千伏安", "供电方式 10千伏单电源"]),
        ("business_licence", ["营业执照", "名称 北京华电科技有限公司", "类型 有限责任公司",
                              "法定代表人 王强", "经营范围 电力技术开发"]),
    ]),
]


# The organisation's file is one business case: a high-voltage new connection (the work-order view).
WORK_ORDERS = {"北京华电科技有限公司": ("GD-2024-0311", "高压新装")}


def load_demo(archive: Archive, *, echo: Callable[[str], None] = print) -> list[registry.Login]:
    """Initialise the instance and capture sample customers' scans, run OCR and indexing, then let every
    feature add its sample data (registry.Feature.demo). Returns every demo login."""
    archive.migrate()
    reference.seed_reference_data(archive.uow())
    for code, name in DEPARTMENTS:
        reference.ensure_department(archive.uow(), actor=OPERATOR, code=code, name=name)
    existing = {u.username for u in users.list_users(archive.uow(), actor=OPERATOR)}
    passwords = {name: password for name, password, _ in LOGINS}
    for username, role, department, clearance in _ACCOUNTS:
        if username not in existing:
            users.create_user(archive.uow(), actor=OPERATOR, username=username, password=passwords[username],
                              role=role, department=department, clearance=clearance)
    clerk = users.resolve_actor(archive.uow(), username="clerk", remote_addr="demo")
    captured: list[int] = []
    captured_codes: list[tuple[int, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for customer_number, (identifier, name, documents) in enumerate(CUSTOMERS, start=1):
            for number, (doc_type, lines) in enumerate(documents, start=1):
                path = Path(tmp) / f"customer{customer_number}-scan{number}.png"
                write_scan(path, lines, format="PNG", seed=number)
                work_order, step = WORK_ORDERS.get(name, (None, None))
                request = CaptureRequest(path=path, filename=path.name, customer=identifier, customer_name=name,
                                         document_type=doc_type, dossier="客户档案", work_order=work_order,
                                         business_step=step)
                try:
                    result = capture_document(archive.uow(), actor=clerk, request=request)
                except DuplicateDocumentError:
                    continue
                except ValidationError as error:
                    echo(f"sample refused: {error}")
                    continue
                captured.append(result.document_id)
                captured_codes.append((result.document_id, result.archive_code))
                echo(f"captured {result.archive_code} for {name}")
    if captured:
        echo(f"recognising {ocr_progress(archive.uow(), captured, actor=clerk).pages_total} pages ...")
        archive.jobs.run_until(lambda: ocr_progress(archive.uow(), captured, actor=clerk).finished, timeout=900)
        indexing.drain_outbox(archive.uow())
        codes = [code for document_id, code in captured_codes if document_id in captured]
        filed = file_documents(archive.uow(), actor=clerk, archive_codes=codes[1:])  # one left pending filing
        echo(f"filed {len(filed.filed)} documents")
    staff = users.resolve_actor(archive.uow(), username="staff", remote_addr="demo")
    if not saved_searches.list_saved_searches(archive.uow(), actor=staff):  # on staff's home page
        saved_searches.save_search(archive.uow(), actor=staff, name="合同检索", query="合同")
    logins = list(LOGINS)
    for feature in registry.features():
        if feature.demo is not None:
            logins += feature.demo(archive.uow)
    echo(f"demo archive ready in {archive.settings.home}")
    return logins
