"""Everything under ``/tenant/v1``: each request is routed to its tenant's own database."""

from litestar import Router
from litestar.di import Provide

from kitehub.provisioning.router import (
    provide_tenant,
    provide_tenant_login_session,
    provide_tenant_public_session,
    provide_tenant_session,
)
from kitehub.tenant.audit.controllers import TenantAuditController
from kitehub.tenant.audit.dependencies import provide_tenant_actor
from kitehub.tenant.auth import provide_tenant_caller, provide_tenant_identity
from kitehub.tenant.courses.controllers import CourseController
from kitehub.tenant.enrollments.controllers import EnrollmentController
from kitehub.tenant.grades.controllers import GradeController
from kitehub.tenant.guests.controllers import AnalyticsController, GuestController
from kitehub.tenant.health.controllers import TenantHealthController
from kitehub.tenant.lessons.controllers import CourseLessonController, LessonController
from kitehub.tenant.media.controllers import MediaController
from kitehub.tenant.students.controllers import StudentController
from kitehub.tenant.users.controllers import TenantAuthController, UserController

tenant_router = Router(
    path="/tenant/v1",
    route_handlers=[
        TenantHealthController,
        TenantAuthController,
        UserController,
        TenantAuditController,
        CourseController,
        StudentController,
        EnrollmentController,
        CourseLessonController,
        LessonController,
        GradeController,
        MediaController,
        GuestController,
        AnalyticsController,
    ],
    dependencies={
        "tenant": Provide(provide_tenant),
        "tenant_identity": Provide(provide_tenant_identity),
        "tenant_caller": Provide(provide_tenant_caller),
        "tenant_actor": Provide(provide_tenant_actor),
        "tenant_session": Provide(provide_tenant_session),
        "tenant_public_session": Provide(provide_tenant_public_session),
        "tenant_login_session": Provide(provide_tenant_login_session),
    },
)
