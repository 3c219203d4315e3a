from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from critdesk.package.models import SupportPackage
from critdesk.package.service import calendar_of

Channel = Literal["web", "email", "phone"]


class PackageOut(BaseModel):
    id: int
    code: str
    name: str
    desk_access: bool
    availability: str
    calendar: dict[str, Any]
    channels: list[str]
    sla_targets: dict[str, int]
    queue_weight: float
    phone_number: str | None


# A start-investigating target longer than a year means nothing; a huge one would overflow
# the date arithmetic of every case reported under the package.
SlaSeconds = Annotated[int, Field(gt=0, le=366 * 24 * 3600)]


class PackageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    desk_access: StrictBool
    calendar: dict[str, Any]
    channels: list[Channel] = Field(min_length=1, max_length=3)
    sla_targets: dict[Literal["S1", "S2", "S3", "S4"], SlaSeconds] = {}
    queue_weight: Annotated[float, Field(ge=0, le=10)] = 1.0
    phone_number: Annotated[str, StringConstraints(max_length=40)] | None = None


class PackageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)] | None
    ) = None
    desk_access: StrictBool | None = None
    calendar: dict[str, Any] | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=3)
    sla_targets: dict[Literal["S1", "S2", "S3", "S4"], SlaSeconds] | None = None
    queue_weight: Annotated[float, Field(ge=0, le=10)] | None = None
    phone_number: Annotated[str, StringConstraints(max_length=40)] | None = None

    @model_validator(mode="after")
    def _no_null_but_the_phone_number(self) -> PackageUpdate:
        # Absent means "leave as it is"; only the phone number may be cleared with null.
        nulled = sorted(
            name for name in self.model_fields_set - {"phone_number"} if getattr(self, name) is None
        )
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null; leave them out instead")
        return self


def package_view(package: SupportPackage) -> dict[str, Any]:
    availability = calendar_of(package).describe() if package.desk_access else "no desk access"
    return {
        "id": package.id,
        "code": package.code,
        "name": package.name,
        "desk_access": package.desk_access,
        "availability": availability,
        "calendar": package.calendar,
        "channels": package.channels,
        "sla_targets": package.sla_targets,
        "queue_weight": package.queue_weight,
        "phone_number": package.phone_number,
    }
