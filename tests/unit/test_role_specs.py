"""Each role's argument spec, defaults/main.yml and README agree, and scripts/role_docs.py keeps them so.

For every role with a meta/argument_specs.yml (entry point ``main``):
- the spec is complete: every option has a type and a description, lists say their
  ``elements``, lists of dicts describe their items' ``options``;
- public names carry the role's prefix, and every optional variable has an explicit default;
- defaults/main.yml holds exactly the optional variables, each with the spec's default and a
  comment line above it, and those defaults pass the spec the way ansible-core validates a role;
- the README opens with an example play that uses the role by FQCN and its variable table is
  the one `make docs` generates.

Each check returns a list of problems that names the role, the variable and the fix; the
tests at the end run the checks and the script on small roles built in a temporary directory,
to show that each check fails where it should.
"""
import copy
import importlib.util
import pathlib
import re

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES_DIR = REPO_ROOT / "roles"
COLLECTION = "hubfleet.jupyterhub"


def _import_role_docs():
    spec = importlib.util.spec_from_file_location("role_docs", REPO_ROOT / "scripts" / "role_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


role_docs = _import_role_docs()
ROLES = role_docs.discover_roles(ROLES_DIR)

# The keys ansible-lint's role-arg-spec schema allows in an option.
OPTION_KEYS = {"apply_defaults", "choices", "default", "description", "elements", "example", "fallback",
               "mutually_exclusive", "no_log", "option-name", "options", "required", "required_by", "required_if",
               "required_one_of", "required_together", "type", "version_added"}
TYPES = sorted(DEFAULT_TYPE_VALIDATORS)
TOP_LEVEL_KEY = re.compile(r"""^(?P<quote>["']?)(?P<name>[^\s"'#:][^"':]*)(?P=quote)\s*:(\s|$)""")
COMMENT = re.compile(r"^\s*#\s*\S")


# --- reading a role ---------------------------------------------------------------------------

def _options(role_dir):
    return role_docs.load_entry_point(role_dir).get("options") or {}


def _defaults_path(role_dir):
    return pathlib.Path(role_dir) / "defaults" / "main.yml"


def _load_defaults(role_dir):
    """The mapping in defaults/main.yml ({} when the file is absent or empty)."""
    path = _defaults_path(role_dir)
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {} if data is None else data


def _is_template(value):
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _same(left, right):
    """Equal and of the same YAML type all the way down (``1``, ``1.0``, ``true`` and ``'1'`` all differ)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    return left == right


def _show(value):
    return role_docs.compact_yaml(value)


# --- the checks -------------------------------------------------------------------------------

def spec_problems(role_dir):
    """meta/argument_specs.yml: the entry point is described and every option is complete."""
    role = pathlib.Path(role_dir).name
    where = f"{role}: meta/argument_specs.yml"
    try:
        entry = role_docs.load_entry_point(role_dir)
    except role_docs.RoleDocsError as exc:
        return [f"{role}: {exc}"]
    problems = [f"{where}: argument_specs.main has no '{key}': add one"
                for key in ("short_description", "description") if not entry.get(key)]
    options = entry.get("options") or {}
    for name, option in options.items():
        if name.startswith("__"):
            problems.append(f"{where}: {name}: internal '__' variables do not belong in the spec: remove it")
        elif not name.startswith(f"{role}_") or name == f"{role}_":
            problems.append(f"{where}: {name}: public variables are named '{role}_<what>': rename it")
        elif not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            problems.append(f"{where}: {name}: use lower-case letters, digits and '_' only")
        if not option.get("required") and "default" not in option:
            problems.append(f"{where}: {name}: optional, so it needs an explicit 'default' "
                            f"(the value it has in defaults/main.yml), or 'required: true'")
    for name, option in role_docs.iter_options(options):
        problems.extend(f"{where}: {name}: {problem}" for problem in _option_problems(option))
    return problems


def _option_problems(option):
    problems = [f"unknown key '{key}' (allowed: {', '.join(sorted(OPTION_KEYS))})"
                for key in sorted(set(option) - OPTION_KEYS, key=str)]
    kind = option.get("type")
    if kind is None:
        problems.append(f"has no 'type': add one of {', '.join(TYPES)}")
    elif kind not in TYPES:
        problems.append(f"type '{kind}' is not one of {', '.join(TYPES)}")
    description = option.get("description")
    if not description or not (isinstance(description, str)
                               or all(isinstance(line, str) and line.strip() for line in description)):
        problems.append("has no 'description': add a sentence (or a list of them) saying what it does")
    elements = option.get("elements")
    if kind == "list" and elements is None:
        problems.append("is a list without 'elements': say what its items are (e.g. 'elements: str')")
    if elements is not None and kind != "list":
        problems.append(f"has 'elements' but is a {kind}: drop 'elements' or make it 'type: list'")
    if elements is not None and elements not in TYPES:
        problems.append(f"elements '{elements}' is not one of {', '.join(TYPES)}")
    if kind == "list" and elements == "dict" and not option.get("options"):
        problems.append("is a list of dicts without 'options': describe the keys of an item under 'options'")
    if option.get("options") and (kind not in ("dict", "list") or kind == "list" and elements not in (None, "dict")):
        problems.append("has 'options' but is neither a dict nor a list of dicts: drop them or fix 'type'")
    if option.get("required") and "default" in option:
        problems.append("is required and has a default: drop one of them")
    return problems


def defaults_problems(role_dir):
    """defaults/main.yml holds exactly the optional variables, each with the spec's default."""
    role = pathlib.Path(role_dir).name
    try:
        options = _options(role_dir)
        defaults = _load_defaults(role_dir)
    except (role_docs.RoleDocsError, yaml.YAMLError) as exc:
        return [f"{role}: {exc}"]
    if not isinstance(defaults, dict):
        return [f"{role}: defaults/main.yml: must be a mapping of variable names to values"]
    problems = []
    for name, option in options.items():
        if option.get("required"):
            if name in defaults:
                problems.append(f"{role}: defaults/main.yml: {name}: the spec says 'required: true', so it has no "
                                "default: remove it from defaults/main.yml or make it optional in the spec")
        elif name not in defaults:
            problems.append(f"{role}: defaults/main.yml: {name}: missing: add '{name}: {_show(option.get('default'))}' "
                            "(the spec's default) with a comment line above it")
        elif "default" in option and not _same(defaults[name], option["default"]):
            problems.append(f"{role}: defaults/main.yml: {name}: is {_show(defaults[name])} but the spec's default is "
                            f"{_show(option['default'])}: make the two the same (same YAML type too)")
    problems.extend(f"{role}: defaults/main.yml: {name}: not in meta/argument_specs.yml: add it to the spec, "
                    f"or rename it '__{role}_...' and move it to vars/ if it is internal"
                    for name in defaults if name not in options)
    return problems


def comment_problems(role_dir):
    """Every variable in defaults/main.yml has a comment line directly above it."""
    role = pathlib.Path(role_dir).name
    path = _defaults_path(role_dir)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    problems, seen = [], set()
    for number, line in enumerate(lines):
        match = TOP_LEVEL_KEY.match(line)
        if not match or line.startswith(("---", "...")):
            continue
        name = match.group("name").strip()
        seen.add(name)
        if number == 0 or not COMMENT.match(lines[number - 1]):
            problems.append(f"{role}: defaults/main.yml line {number + 1}: {name}: add a one-line comment directly "
                            "above it saying what it does")
    try:
        defaults = _load_defaults(role_dir)
    except yaml.YAMLError:
        return problems  # defaults_problems reports it
    if isinstance(defaults, dict):
        problems.extend(f"{role}: defaults/main.yml: {name}: write it as '{name}:' at the start of a line, "
                        "with its comment above" for name in defaults if str(name) not in seen)
    return problems


def validation_problems(role_dir):
    """The defaults pass the role's own spec, validated as ansible-core validates a role's arguments.

    ansible-core prepends ansible.builtin.validate_argument_spec to the role with the entry point's
    ``options`` unchanged as the argument spec, and the role's variables (defaults included) as the
    parameters, templated. Here the parameters are defaults/main.yml alone, so required options
    (which have no default) are left out of the spec, and a default that is a Jinja template,
    only known at run time, is left out of the parameters.
    """
    role = pathlib.Path(role_dir).name
    try:
        options = _options(role_dir)
        defaults = _load_defaults(role_dir)
    except (role_docs.RoleDocsError, yaml.YAMLError) as exc:
        return [f"{role}: {exc}"]
    if not isinstance(defaults, dict):
        return []  # defaults_problems reports it
    spec = {name: copy.deepcopy(option) for name, option in options.items() if not option.get("required")}
    parameters = {name: copy.deepcopy(value) for name, value in defaults.items()
                  if name in spec and not _is_template(value)}
    try:
        result = ArgumentSpecValidator(spec).validate(parameters, validate_role_argument_spec=True)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # a malformed spec can raise anything
        return [f"{role}: meta/argument_specs.yml cannot be used to validate: {exc!r}: fix the spec"]
    return [f"{role}: defaults/main.yml does not pass meta/argument_specs.yml: {message}: fix the default or the spec"
            for message in result.error_messages]


def readme_problems(role_dir, roles_dir=None):
    """The README opens with a YAML example play using the role by FQCN; its table is not stale."""
    role_dir = pathlib.Path(role_dir)
    role = role_dir.name
    try:
        if role_docs.stale_readmes(roles_dir or role_dir.parent, [role]):
            problems = [f"{role}: README.md: the variable table differs from meta/argument_specs.yml: "
                        "run `make docs` (python scripts/role_docs.py)"]
        else:
            problems = []
    except role_docs.RoleDocsError as exc:
        return [f"{role}: {exc}"]
    text = (role_dir / "README.md").read_text(encoding="utf-8")
    fence = re.search(r"^(?P<fence>```+|~~~+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", text, flags=re.M | re.S)
    if not fence:
        return problems + [f"{role}: README.md: open with an example play in a ```yaml block"]
    if fence.group("info").strip() != "yaml":
        return problems + [f"{role}: README.md: the first code block is '{fence.group('info').strip()}', not 'yaml': "
                           "open with an example play in a ```yaml block"]
    try:
        plays = yaml.safe_load(fence.group("body"))
    except yaml.YAMLError as exc:
        return problems + [f"{role}: README.md: the example play is not valid YAML: {exc}"]
    if not isinstance(plays, list) or not plays or not all(isinstance(play, dict) and "hosts" in play for play in plays):
        return problems + [f"{role}: README.md: the first code block must be a playbook: a list of plays with 'hosts'"]
    fqcn = f"{COLLECTION}.{role}"
    if fqcn not in _roles_used(plays):
        problems.append(f"{role}: README.md: the example play does not use the role as '{fqcn}' "
                        "(in 'roles:' or with ansible.builtin.include_role / import_role)")
    options = _options(role_dir)
    keys = _keys(plays)
    problems.extend(f"{role}: README.md: the example play does not set the required variable {name}: set it "
                    "(in the role's or the play's vars)" for name, option in options.items()
                    if option.get("required") and name not in keys)
    problems.extend(f"{role}: README.md: the example play sets {name}, which is not in meta/argument_specs.yml: "
                    "use the spec's name" for name in sorted(keys)
                    if name.startswith(f"{role}_") and name not in options)
    return problems


def _roles_used(plays):
    used = set()
    for play in plays:
        for entry in play.get("roles") or []:
            used.add(entry if isinstance(entry, str) else (entry or {}).get("role") or (entry or {}).get("name"))
        for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            used.update(_roles_included(play.get(section) or []))
    return used


def _roles_included(tasks):
    for task in tasks:
        if not isinstance(task, dict):
            continue
        for section in ("block", "rescue", "always"):
            yield from _roles_included(task.get(section) or [])
        for key, value in task.items():
            if key.rsplit(".", 1)[-1] in ("include_role", "import_role") and isinstance(value, dict):
                yield value.get("name")


def _keys(data):
    """Every mapping key anywhere in ``data``."""
    if isinstance(data, dict):
        return set(map(str, data)).union(*(_keys(value) for value in data.values()))
    if isinstance(data, list):
        return set().union(*(_keys(value) for value in data))
    return set()


def _assert_none(problems):
    assert not problems, "\n".join(problems)


# --- the collection's roles -------------------------------------------------------------------

def test_roles_are_discovered_in_the_collections_roles_directory(tmp_path):
    assert role_docs.ROLES_DIR == ROLES_DIR
    for role in ("zeta", "alpha"):
        (tmp_path / role / "meta").mkdir(parents=True)
        (tmp_path / role / "meta" / "argument_specs.yml").write_text("argument_specs: {}\n", encoding="utf-8")
    (tmp_path / "no_spec" / "tasks").mkdir(parents=True)
    assert role_docs.discover_roles(tmp_path) == ["alpha", "zeta"]
    assert role_docs.discover_roles(tmp_path / "absent") == []


def test_every_role_has_an_argument_spec():
    # A role without a spec would escape every check below.
    roles = sorted(path.name for path in ROLES_DIR.iterdir() if path.is_dir()) if ROLES_DIR.is_dir() else []
    missing = [role for role in roles if role not in ROLES]
    assert not missing, f"roles without meta/argument_specs.yml: {', '.join(missing)}: add one"


@pytest.mark.parametrize("role", ROLES)
def test_spec_is_complete(role):
    _assert_none(spec_problems(ROLES_DIR / role))


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_the_spec(role):
    _assert_none(defaults_problems(ROLES_DIR / role))


@pytest.mark.parametrize("role", ROLES)
def test_every_default_has_a_comment(role):
    _assert_none(comment_problems(ROLES_DIR / role))


@pytest.mark.parametrize("role", ROLES)
def test_defaults_pass_the_spec(role):
    _assert_none(validation_problems(ROLES_DIR / role))


@pytest.mark.parametrize("role", ROLES)
def test_readme_example_and_table(role):
    _assert_none(readme_problems(ROLES_DIR / role, ROLES_DIR))


# --- the checks and the script, on small roles ------------------------------------------------

SPEC = """\
---
argument_specs:
  main:
    short_description: Apply a quota to a hub.
    description:
      - Creates a ResourceQuota in the hub's namespace.
    options:
      demo_namespace:
        type: str
        required: true
        description: Namespace of the hub.
      demo_limits:
        type: dict
        default:
          pods: 10
        description: Limits of the quota, see C(ResourceQuota).
        options:
          pods:
            type: int
            description: Most pods at once.
          storage:
            type: dict
            description: Storage limits.
            options:
              size:
                type: str
                description: Total size of claims.
      demo_users:
        type: list
        elements: dict
        default: []
        description: One item per user.
        options:
          name:
            type: str
            required: true
            description: The user's name.
      demo_mode:
        type: str
        choices: [strict, relaxed]
        default: strict
        description: Whether a user over quota is stopped (strict) or warned (relaxed).
      demo_label:
        type: str
        default: "{{ demo_namespace }}-quota"
        description: Label value put on the quota.
"""

DEFAULTS = """\
---
# Limits of the quota.
demo_limits:
  pods: 10
# One item per user.
demo_users: []
# Whether a user over quota is stopped or warned.
demo_mode: strict
# Label value put on the quota.
demo_label: "{{ demo_namespace }}-quota"
"""

README = f"""\
# demo

```yaml
- name: Apply the quota
  hosts: clusters
  roles:
    - role: hubfleet.jupyterhub.demo
      vars:
        demo_namespace: jupyterhub
```

Some prose the script must keep.

## Variables

{role_docs.BEGIN_MARKER}
{role_docs.END_MARKER}

## Facts set

None.
"""


def make_role(roles_dir, name="demo", spec=SPEC, defaults=DEFAULTS, readme=README, generate=True):
    """A role under ``roles_dir`` (spec, defaults and README); with ``generate``, its table written."""
    role_dir = pathlib.Path(roles_dir) / name
    for relative, text in (("meta/argument_specs.yml", spec), ("defaults/main.yml", defaults), ("README.md", readme)):
        if text is not None:
            (role_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (role_dir / relative).write_text(text.replace("demo", name), encoding="utf-8")
    if generate:
        assert role_docs.main(["--roles-dir", str(roles_dir), name]) == 0
    return role_dir


def _edit_spec(role_dir, change):
    path = role_dir / "meta" / "argument_specs.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["argument_specs"]["main"]["options"])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _edit_text(role_dir, relative, old, new):
    path = role_dir / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _change_default(role_dir, name, value, old, new):
    """The same new default in the spec and in defaults/main.yml."""
    _edit_spec(role_dir, lambda options: options[name].update(default=value))
    _edit_text(role_dir, "defaults/main.yml", old, new)


CHECKS = {"spec": spec_problems, "defaults": defaults_problems, "comments": comment_problems,
          "validation": validation_problems, "readme": readme_problems}


def test_a_complete_role_passes_every_check(tmp_path):
    role_dir = make_role(tmp_path)
    for check in CHECKS.values():
        _assert_none(check(role_dir))


# (check, how the role is broken, what the problem must say)
BROKEN_ROLES = {
    "no description": ("spec", lambda r: _edit_spec(r, lambda o: o["demo_mode"].pop("description")),
                       "demo_mode: has no 'description'"),
    "no type": ("spec", lambda r: _edit_spec(r, lambda o: o["demo_limits"]["options"]["storage"]["options"]["size"]
                                             .pop("type")),
                "demo_limits.storage.size: has no 'type'"),
    "list without elements": ("spec", lambda r: _edit_spec(r, lambda o: o["demo_users"].pop("elements")),
                              "demo_users: is a list without 'elements'"),
    "list of dicts without options": ("spec", lambda r: _edit_spec(r, lambda o: o["demo_users"].pop("options")),
                                      "demo_users: is a list of dicts without 'options'"),
    "misspelt key": ("spec", lambda r: _edit_spec(r, lambda o: o["demo_mode"].update(defualt="x")),
                     "demo_mode: unknown key 'defualt'"),
    "unprefixed name": ("spec", lambda r: _edit_spec(r, lambda o: o.update(mode=o.pop("demo_mode"))),
                        "mode: public variables are named 'demo_<what>'"),
    "internal name": ("spec", lambda r: _edit_spec(r, lambda o: o.update(__demo_mode=o.pop("demo_mode"))),
                      "__demo_mode: internal '__' variables do not belong in the spec"),
    "optional without default": ("spec", lambda r: _edit_spec(r, lambda o: o["demo_mode"].pop("default")),
                                 "demo_mode: optional, so it needs an explicit 'default'"),
    "required with default": ("spec", lambda r: _edit_spec(r, lambda o: o["demo_namespace"].update(default="x")),
                              "demo_namespace: is required and has a default"),
    "default missing": ("defaults", lambda r: _edit_text(r, "defaults/main.yml", "demo_mode: strict\n", ""),
                        "demo_mode: missing: add 'demo_mode: strict'"),
    "default not in spec": ("defaults", lambda r: _edit_text(r, "defaults/main.yml", "demo_users: []",
                                                             "demo_users: []\n# Extra.\ndemo_extra: 1"),
                            "demo_extra: not in meta/argument_specs.yml"),
    "required variable defaulted": ("defaults", lambda r: _edit_text(r, "defaults/main.yml", "demo_users: []",
                                                                     "demo_users: []\n# Namespace.\ndemo_namespace: x"),
                                    "demo_namespace: the spec says 'required: true'"),
    "default differs": ("defaults", lambda r: _edit_text(r, "defaults/main.yml", "demo_mode: strict", "demo_mode: relaxed"),
                        "demo_mode: is relaxed but the spec's default is strict"),
    "default of another type": ("defaults", lambda r: _edit_text(r, "defaults/main.yml", "pods: 10", "pods: '10'"),
                                "demo_limits: is {pods: '10'} but the spec's default is {pods: 10}"),
    "no comment": ("comments", lambda r: _edit_text(r, "defaults/main.yml", "# One item per user.\n", ""),
                   "line 5: demo_users: add a one-line comment"),
    "first variable without comment": ("comments", lambda r: _edit_text(r, "defaults/main.yml",
                                                                        "# Limits of the quota.\n", ""),
                                       "line 2: demo_limits: add a one-line comment"),
    "default outside choices": ("validation", lambda r: _change_default(r, "demo_mode", "lax", "strict", "lax"),
                                "value of demo_mode must be one of: strict, relaxed, got: lax"),
    "default of a wrong type": ("validation", lambda r: _change_default(r, "demo_limits", {"pods": "many"},
                                                                        "pods: 10", "pods: many"),
                                "argument 'pods' is of type str found in 'demo_limits'"),
    "default key not in options": ("validation", lambda r: _change_default(r, "demo_limits", {"pods": 10, "cpu": 2},
                                                                           "pods: 10", "pods: 10\n  cpu: 2"),
                                   "demo_limits.cpu. Supported parameters include: pods, storage"),
    "stale table": ("readme", lambda r: _edit_spec(r, lambda o: o["demo_mode"].update(description="Changed.")),
                    "the variable table differs from meta/argument_specs.yml: run `make docs`"),
    "no markers": ("readme", lambda r: _edit_text(r, "README.md", role_docs.END_MARKER, ""),
                   "README.md: lacks the marker line '<!-- END VARIABLES -->'"),
    "example not yaml": ("readme", lambda r: _edit_text(r, "README.md", "```yaml", "```yml"),
                         "the first code block is 'yml', not 'yaml'"),
    "example without the role's FQCN": ("readme", lambda r: _edit_text(r, "README.md", "role: hubfleet.jupyterhub.demo",
                                                                       "role: demo"),
                                        "does not use the role as 'hubfleet.jupyterhub.demo'"),
    "example without a required variable": ("readme", lambda r: _edit_text(r, "README.md", "demo_namespace: jupyterhub",
                                                                           "other: jupyterhub"),
                                            "does not set the required variable demo_namespace"),
    "example with an unknown variable": ("readme", lambda r: _edit_text(r, "README.md", "demo_namespace: jupyterhub",
                                                                        "demo_namespace: jupyterhub\n        demo_nmae: x"),
                                         "sets demo_nmae, which is not in meta/argument_specs.yml"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_ROLES))
def test_a_broken_role_fails_its_check(tmp_path, case):
    check, breaks, expected = BROKEN_ROLES[case]
    role_dir = make_role(tmp_path)
    breaks(role_dir)
    problems = CHECKS[check](role_dir)
    assert any(expected in problem for problem in problems), "\n".join(problems) or "no problem found"
    assert all(problem.startswith("demo: ") for problem in problems), problems


def test_an_example_including_the_role_from_a_task_passes(tmp_path):
    example = """\
- name: Apply the quota
  hosts: clusters
  tasks:
    - name: Quota
      block:
        - name: Include the role
          ansible.builtin.include_role:
            name: hubfleet.jupyterhub.demo
          vars:
            demo_namespace: jupyterhub
"""
    readme = re.sub(r"```yaml\n.*?```", lambda _match: f"```yaml\n{example}```", README, flags=re.S)
    _assert_none(readme_problems(make_role(tmp_path, readme=readme)))


def _cells(line):
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def _rows(table):
    return {cells[0]: cells for cells in map(_cells, table.splitlines()[2:])}


def test_check_names_the_stale_readme_and_writes_nothing(tmp_path, capsys):
    make_role(tmp_path, "fresh")
    stale_dir = make_role(tmp_path, "stale")
    _edit_spec(stale_dir, lambda o: o["stale_mode"].update(default="relaxed"))
    before = (stale_dir / "README.md").read_text(encoding="utf-8")
    capsys.readouterr()

    assert role_docs.main(["--roles-dir", str(tmp_path), "--check"]) == 1
    output = capsys.readouterr().out
    assert "stale/README.md: variable table is stale" in output
    assert "fresh" not in output
    assert (stale_dir / "README.md").read_text(encoding="utf-8") == before
    assert role_docs.stale_readmes(tmp_path) == [stale_dir / "README.md"]

    assert role_docs.main(["--roles-dir", str(tmp_path)]) == 0
    assert role_docs.stale_readmes(tmp_path) == []
    assert role_docs.main(["--roles-dir", str(tmp_path), "--check"]) == 0


def test_regeneration_is_idempotent_and_keeps_the_rest(tmp_path, capsys):
    role_dir = make_role(tmp_path, generate=False)
    assert role_docs.main(["--roles-dir", str(tmp_path)]) == 0
    first = (role_dir / "README.md").read_text(encoding="utf-8")
    assert role_docs.main(["--roles-dir", str(tmp_path)]) == 0
    assert (role_dir / "README.md").read_text(encoding="utf-8") == first
    assert capsys.readouterr().out.splitlines()[-1] == "role_docs: 0 of 1 README variable table(s) regenerated"

    head, rest = README.split(role_docs.BEGIN_MARKER)
    tail = rest.split(role_docs.END_MARKER)[1]
    assert first.startswith(head + role_docs.BEGIN_MARKER + "\n\n| Variable | Type |")
    assert first.endswith("|\n\n" + role_docs.END_MARKER + tail)


def test_nested_options_get_rows_of_their_own():
    options = yaml.safe_load(SPEC)["argument_specs"]["main"]["options"]
    table = role_docs.render_table(options)
    assert list(_rows(table)) == ["`demo_namespace`", "`demo_limits`", "`demo_limits.pods`", "`demo_limits.storage`",
                                  "`demo_limits.storage.size`", "`demo_users`", "`demo_users[].name`", "`demo_mode`",
                                  "`demo_label`"]
    assert _cells(table.splitlines()[0]) == ["Variable", "Type", "Required", "Default", "Choices", "Description"]


def test_cells_say_type_required_default_and_choices():
    options = yaml.safe_load(SPEC)["argument_specs"]["main"]["options"]
    rows = _rows(role_docs.render_table(options))
    assert rows["`demo_namespace`"] == ["`demo_namespace`", "str", "yes", "", "", "Namespace of the hub."]
    assert rows["`demo_limits`"][1:4] == ["dict", "no", "`{pods: 10}`"]
    assert rows["`demo_limits`"][5] == "Limits of the quota, see `ResourceQuota`."
    assert rows["`demo_users`"][1:4] == ["list of dict", "no", "`[]`"]
    assert rows["`demo_users[].name`"][1:3] == ["str", "yes"]
    assert rows["`demo_mode`"][3:5] == ["`strict`", "`strict`, `relaxed`"]
    assert rows["`demo_label`"][3] == "`'{{ demo_namespace }}-quota'`"


def test_pipes_are_escaped_and_descriptions_joined():
    options = {"demo_filter": {
        "type": "str", "default": "a|b", "choices": ["a|b", "c"],
        "description": ["Pipe one | into another.", "A second\nline, with `code`."],
    }}
    table = role_docs.render_table(options)
    row = table.splitlines()[2]
    assert len(_cells(row)) == 6, row
    assert _cells(row)[3:] == [r"`a\|b`", r"`a\|b`, `c`", r"Pipe one \| into another. A second line, with `code`."]


def test_a_readme_without_markers_fails_naming_it_and_nothing_is_written(tmp_path, capsys):
    good_dir = make_role(tmp_path, "good", generate=False)
    bad_dir = make_role(tmp_path, "bad", readme=README.replace(role_docs.BEGIN_MARKER, ""), generate=False)
    assert role_docs.main(["--roles-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "bad/README.md: lacks the marker line '<!-- BEGIN VARIABLES" in error
    assert (good_dir / "README.md").read_text(encoding="utf-8") == README.replace("demo", "good")
    assert (bad_dir / "README.md").read_text(encoding="utf-8") == README.replace("demo", "bad").replace(
        role_docs.BEGIN_MARKER, "")
