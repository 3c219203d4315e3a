from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints

from critdesk.organisation.models import Environment, Organisation
from critdesk.package.schemas import PackageOut, package_view

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EnvironmentOut(BaseModel):
    id: int
    name: str
    type: Literal["on_premises", "gateway", "cloud"]
    production: bool
    product_version: str | None


class OrganisationOut(BaseModel):
    id: int
    name: str
    package: PackageOut
    environments: list[EnvironmentOut]


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    package: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class EnvironmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    type: Literal["on_premises", "gateway", "cloud"]
    production: StrictBool
    product_version: Annotated[str, StringConstraints(max_length=40)] | None = None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
    name: Name
    role: Literal["customer", "customer_admin"]
    password: Annotated[str, StringConstraints(min_length=12, max_length=1000)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    phone: str | None


def environment_view(env: Environment) -> dict[str, Any]:
    return {
        "id": env.id,
        "name": env.name,
        "type": env.type,
        "production": env.production,
        "product_version": env.product_version,
    }


def organisation_view(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "package": package_view(org.package),
        "environments": [environment_view(e) for e in org.environments],
    }
