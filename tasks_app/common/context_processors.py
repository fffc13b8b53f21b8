from tasks_app.common import clock, permissions
from tasks_app.plans import selectors


def sample_data(request):
    """Tells every page whether it may show sample (示例) records, and who is looking."""
    user = getattr(request, "user", None)
    return {
        "has_sample_data": selectors.has_sample_data(),
        "fixed_today": clock.fixed_today(),
        "is_office": bool(user and user.is_authenticated and permissions.is_office(user)),
        "sees_dashboard": bool(user and user.is_authenticated and permissions.sees_stats(user)),
    }
