"""The periodic account review (seed 000: disable people who no longer need access): accounts not used
in N days and accounts whose role or clearance changed; a review campaign in which the security
administrator confirms or disables each account and signs the campaign off as a kept record; and, when
ARCHIVE_ACCOUNT_INACTIVE_DAYS is set, a daily job that disables accounts unused that long."""
