from tasks_app import selectors


def sample_data(request):
    """Tells every page whether the data it may show includes sample (示例) records."""
    return {"has_sample_data": selectors.has_sample_data()}
