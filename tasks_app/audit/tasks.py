from celery import shared_task

# --- Audit ledger ---


@shared_task(name="tasks_app.audit_checkpoint", acks_late=True)
def audit_checkpoint() -> int:
    """Hourly: record each government's chain head (seq, hash, time) as a checkpoint; how many
    chains moved."""
    from tasks_app.audit import ledger

    return len(ledger.checkpoints_record_all(created_by="beat"))


# Large exports take longer than the default five-minute limit.
@shared_task(name="tasks_app.run_export_job", acks_late=True, time_limit=3600, soft_time_limit=3540)
def run_export_job(job_id: int) -> str:
    """Write one background export (ledger or progress log) and its manifest."""
    from tasks_app.audit import export_jobs as exports

    return exports.export_job_run(job_id=job_id).state
