"""Imports every model stored in a tenant database, so its metadata is complete."""

from kitehub.tenant.attendance.models import AttendanceRecord
from kitehub.tenant.audit.models import TenantAuditEntry
from kitehub.tenant.base import TenantBase
from kitehub.tenant.config.models import InstanceConfig
from kitehub.tenant.courses.models import Course, Lesson
from kitehub.tenant.grades.models import Grade
from kitehub.tenant.guests.models import GuestEvent, GuestSession
from kitehub.tenant.media.models import MediaFile
from kitehub.tenant.students.models import Enrollment, Student
from kitehub.tenant.users.login_attempts import StaffLoginAttempts
from kitehub.tenant.users.models import TenantUser

tenant_metadata = TenantBase.metadata

__all__ = [
    "AttendanceRecord",
    "Course",
    "Enrollment",
    "Grade",
    "GuestEvent",
    "GuestSession",
    "InstanceConfig",
    "Lesson",
    "MediaFile",
    "StaffLoginAttempts",
    "Student",
    "TenantAuditEntry",
    "TenantUser",
    "tenant_metadata",
]
