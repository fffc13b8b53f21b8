"""Report text and task-breakdown spreadsheets -> draft plans (see README, 导入)."""
