"""The Python control worker's app: the suite's ``celery_config`` (t/integration/conftest.py)
with Celery's own t/integration/tasks.py, for ``celery -A celery_suite_pyapp worker``."""
import os

from celery import Celery

app = Celery('celery.tests')
app.conf.update(
    broker_url=os.environ['CELERY_BROKER_URL'],
    result_backend=os.environ['CELERY_RESULT_BACKEND'],
    result_extended=True,
    task_create_missing_queues=False,
)
import t.integration.tasks  # noqa: E402,F401  (shared_task: binds to this app)
from t.integration.tasks import ClassBasedAutoRetryTask  # noqa: E402

app.register_task(ClassBasedAutoRetryTask)
