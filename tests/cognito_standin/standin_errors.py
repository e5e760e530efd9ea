"""Error answers of the stand-in's API and the request-member helpers shared by its operations."""

from typing import Optional


class ApiError(Exception):
    """An error answer: HTTP status, the error name (__type) and its message."""

    def __init__(self, name: str, message: str, status: int = 400):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.status = status


def invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message)


def not_authorized(message: str) -> ApiError:
    return ApiError("NotAuthorizedException", message)


def validation(value, member: str, constraint: str) -> ApiError:
    shown = "null" if value is None else f"'{value}'"
    return invalid(f"1 validation error detected: Value {shown} at '{member}' failed to satisfy constraint: "
                   f"{constraint}")


def member(body: dict, key: str, required: bool = False) -> Optional[str]:
    """A string member of a request body; missing and required is a validation error, another type a
    SerializationException (as the AWS JSON protocol answers)."""
    value = body.get(key)
    if value is None:
        if required:
            raise validation(None, key[0].lower() + key[1:], "Member must not be null")
        return None
    if not isinstance(value, str):
        raise ApiError("SerializationException", f"{key} must be a string")
    return value
