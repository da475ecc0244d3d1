"""API errors carried as exceptions and rendered as the real server's Status bodies."""

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _group(res):
    return {"group": res.group} if res.group else {}


def _details(res, name):
    return {"name": name, "kind": res.plural, **_group(res)}


def _qualified(res):
    return f"{res.plural}.{res.group}" if res.group else res.plural


def not_found(res, name):
    return ApiError(404, f'{_qualified(res)} "{name}" not found', details=_details(res, name))


def already_exists(res, name):
    return ApiError(409, f'{_qualified(res)} "{name}" already exists', "AlreadyExists",
                    _details(res, name))


def conflict(res, name):
    return ApiError(409, f'Operation cannot be fulfilled on {_qualified(res)} "{name}": the object has been '
                         "modified; please apply your changes to the latest version and try again",
                    details=_details(res, name))


def apply_conflict(conflicts):
    """conflicts: list of (manager, field path); worded as the server's field manager does."""
    causes = [{"reason": "FieldManagerConflict", "message": f'conflict with "{manager}"', "field": path}
              for manager, path in conflicts]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f'Apply failed with 1 conflict: conflict with "{manager}": {path}'
    else:
        lines = []
        for manager in sorted({m for m, _path in conflicts}):
            lines.append(f'conflicts with "{manager}":')
            lines.extend(f"- {path}" for m, path in conflicts if m == manager)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, message, details={"causes": causes})


def invalid(res, name, causes):
    """causes: list of (field, message)."""
    text = ", ".join(f"{field}: {message}" for field, message in causes)
    details = {"name": name, "kind": res.kind, **_group(res),
               "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes]}
    return ApiError(422, f'{res.kind} "{name}" is invalid: {text}', details=details)


def forbidden_object(res, name, why):
    return ApiError(403, f'{_qualified(res)} "{name}" is forbidden: {why}', details=_details(res, name))


def forbidden(user, verb, res, namespace):
    scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    return ApiError(403, f'{_qualified(res)} is forbidden: User "{user}" cannot {verb} resource "{res.plural}" '
                         f'in API group "{res.group}"{scope}', details={"kind": res.plural, **_group(res)})
