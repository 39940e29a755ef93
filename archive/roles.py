"""The core's roles, in one place (a feature may add roles of its own: registry.Feature.roles)."""

from __future__ import annotations

CLERK = "clerk"  # captures scans for their department, may see full ID numbers
STAFF = "staff"  # reads their department's documents up to their clearance
APPROVER = "approver"  # a department head: approves borrow requests for the department's records
RECORDS_MANAGER = "records_manager"  # 档案管理员: the archive room (borrowing's second step, retention)
LEADER = "leader"  # 领导: the last step for secret records; approves destruction batches

# 三员分立: three administrators, none of whom reads documents by virtue of the role, and no account
# ever holds two of them (access.check_role_change; access.check_separation over every feature's grants).
SYSTEM_ADMIN = "sysadmin"  # 系统管理员: accounts, departments, configuration
SECURITY_ADMIN = "security_admin"  # 安全保密管理员: roles, clearances, classification, approval chains
AUDITOR = "auditor"  # 安全审计员: reads and exports the audit log, runs the fixity check

SEPARATED_ROLES = (SYSTEM_ADMIN, SECURITY_ADMIN, AUDITOR)

ROLES = (CLERK, STAFF, APPROVER, RECORDS_MANAGER, LEADER, SYSTEM_ADMIN, SECURITY_ADMIN, AUDITOR)
