"""What borrowing's inbox entries say (archive.services.inbox.notify), in Chinese and English; params are
formatted in (numbers and codes only, never PII)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "borrow.to_decide": ("借阅申请 {number} 待您审批", "Borrow request {number} awaits your decision"),
    "borrow.approved": ("您的借阅申请 {number} 已批准,{until} 到期", "Your borrow request {number} was approved "
                                                                  "until {until}"),
    "borrow.rejected": ("您的借阅申请 {number} 被驳回:{comment}", "Your borrow request {number} was rejected: "
                                                             "{comment}"),
    "borrow.escalated": ("借阅申请 {number} 无人审批,已升级给您", "Borrow request {number} had no approver and "
                                                             "was escalated to you"),
    "borrow.ended": ("借阅 {number} 已结束({reason})", "Borrowing {number} has ended ({reason})"),
    "loan.due_soon": ("借出原件 {code} 将于 {due} 到期,请按时归还", "The original {code} you borrowed is due back "
                                                               "on {due}"),
    "loan.overdue": ("借出原件 {code} 已逾期 {days} 天(应还 {due})", "The original {code} you borrowed is "
                                                               "{days} days overdue (due {due})"),
}
