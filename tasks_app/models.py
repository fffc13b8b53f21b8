"""Every feature's models in one place: Django loads the one app `tasks_app` from here, and the
rest of the code imports models as `from tasks_app.models import X`."""

from tasks_app.audit.models import (  # noqa: F401
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    ExportFormat,
    ExportJob,
    ExportKind,
    ExportState,
)
from tasks_app.bulletins.models import (  # noqa: F401
    Bulletin,
    BulletinSeries,
)
from tasks_app.importer.models import (  # noqa: F401
    DepartmentAlias,
    ImportDraft,
    ImportDraftStatus,
)
from tasks_app.plans.models import (  # noqa: F401
    DEPARTMENT_ROLES,
    CalendarDay,
    Comparator,
    Department,
    Government,
    GovernmentLevel,
    Indicator,
    IndicatorKind,
    KeyArea,
    Light,
    Milestone,
    Plan,
    PlanKind,
    PlanStatus,
    ReportFrequency,
    Role,
    Section,
    Task,
    TaskKind,
    TaskStatus,
    User,
    chinese_numeral,
)
from tasks_app.public.models import PublicSnapshot  # noqa: F401
from tasks_app.reminders.models import (  # noqa: F401
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    DepartmentWebhook,
    Digest,
    DigestItem,
    ManualChase,
    Notification,
    Reminder,
    ReminderLevel,
    ReminderRepeat,
    ReminderStep,
)
from tasks_app.reporting.models import (  # noqa: F401
    ChangeRequest,
    Contribution,
    Evidence,
    IdempotencyRecord,
    IndicatorValue,
    Instruction,
    InstructionFeedback,
    Review,
    ReviewState,
    SignOff,
    StatusUpdate,
)
from tasks_app.stats.models import (  # noqa: F401
    DEFAULT_WEIGHTS,
    SCORE_KEYS,
    RankingRule,
)
from tasks_app.stocktakes.models import (  # noqa: F401
    CONFIDENCE_PROBABILITY,
    Confidence,
    ConfidenceRating,
    PackState,
    RatingQuarterClose,
    StocktakeDecision,
    StocktakePack,
)
from tasks_app.workbench.models import SavedFilter  # noqa: F401
