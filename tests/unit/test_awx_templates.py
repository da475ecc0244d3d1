"""The AWX job templates of awx/ agree with the playbooks they run and their argument specs.

awx/job_templates.yml holds one job template per playbook in awx.awx.job_template's format;
each survey question must name a variable of playbooks/specs/<playbook>.yml with a matching
type, the same `required`, and a default the spec accepts, and every required job variable is
asked or fixed by the template. The checks are plain functions returning problems, so the tests
at the end can show that each one fails on a broken copy of the data.
"""
import copy
import pathlib
import subprocess
import sysconfig

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO_ROOT / "playbooks"
AWX_DIR = REPO_ROOT / "awx"
AWX_COLLECTION = pathlib.Path(sysconfig.get_paths()["purelib"]) / "ansible_collections" / "awx" / "awx"
NOT_JOB_PLAYBOOKS = {"awx_config.yml"}
TEXT_TYPES = {"text", "textarea", "password"}
BOOL_CHOICES = {"true", "false"}


class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """A YAML loader that reads Ansible's !unsafe tag as the plain string it marks."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # nosec B506 - a SafeLoader subclass


def job_templates():
    return load(AWX_DIR / "job_templates.yml")["hubfleet_awx_job_templates"]


def spec_path(template):
    return PLAYBOOKS / "specs" / pathlib.PurePosixPath(template["playbook"]).name


def choices_of(question):
    """A question's choices as a list: the API takes a list or one choice per line."""
    choices = question.get("choices") or []
    if isinstance(choices, str):
        choices = [line for line in choices.splitlines() if line.strip()]
    return [str(choice) for choice in choices]


def accepted(option, name, value):
    """Whether ansible-core's argument validation takes value for the option (None if it does)."""
    option = {key: val for key, val in option.items() if key not in ("required", "description")}
    result = ArgumentSpecValidator({name: option}).validate({name: value})
    return "; ".join(str(error) for error in result.errors) or None


def type_problem(question, option):
    """Why the question's type does not suit the option, or None."""
    kind, spec_type = question.get("type"), option.get("type", "str")
    spec_choices = sorted(str(choice) for choice in option.get("choices", []))
    choices = sorted(choices_of(question))
    if kind in TEXT_TYPES:
        if spec_type != "str":
            return f"a {kind} question gives str, the spec wants {spec_type}"
        if spec_choices:
            return f"the spec allows only {spec_choices}: ask with a multiplechoice question"
        return None
    if kind in ("integer", "float"):
        wanted = {"integer": "int", "float": "float"}[kind]
        return None if spec_type == wanted else f"an {kind} question gives {wanted}, the spec wants {spec_type}"
    if kind == "multiplechoice":
        if spec_type == "bool":
            return None if set(choices) == BOOL_CHOICES and len(choices) == 2 else (
                f"a bool is asked with the choices true and false only, not {choices}")
        if spec_type != "str" or not spec_choices:
            return f"a multiplechoice question needs a str option with choices, the spec has {spec_type}"
        return None if choices == spec_choices else f"choices {choices} differ from the spec's {spec_choices}"
    if kind == "multiselect":
        if spec_type != "list" or not spec_choices:
            return f"a multiselect question needs a list option with choices, the spec has {spec_type}"
        return None if choices == spec_choices else f"choices {choices} differ from the spec's {spec_choices}"
    return f"unknown question type {kind!r}"


def default_problem(question, option, name):
    """Why the question's default is not a value the spec accepts, or None."""
    if "default" not in question:
        return None
    default, kind = question["default"], question["type"]
    if default == "" and not question.get("required"):
        return None  # an empty optional answer: the controller sends the default given
    if kind in ("multiplechoice", "multiselect"):
        values = str(default).split("\n") if kind == "multiselect" else [str(default)]
        outside = [value for value in values if value not in choices_of(question)]
        if outside:
            return f"default {outside} is not among the question's choices"
        value = values if kind == "multiselect" else values[0]
    elif kind == "integer" and (isinstance(default, bool) or not isinstance(default, int)):
        return f"default {default!r} is not an integer"
    elif kind == "float" and (isinstance(default, bool) or not isinstance(default, (int, float))):
        return f"default {default!r} is not a number"
    elif kind in TEXT_TYPES and not isinstance(default, str):
        return f"default {default!r} is not a string"
    else:
        value = default
    error = accepted(option, name, value)
    return f"default {default!r} is refused by the spec: {error}" if error else None


def survey_problems(template, options):
    """Everything wrong between a template's survey and extra_vars and the playbook's spec options."""
    problems = []
    survey = template.get("survey_spec") or {}
    questions = survey.get("spec", [])
    if questions and not template.get("survey_enabled"):
        problems.append("the template has questions but survey_enabled is not true")
    if questions and not ("name" in survey and "description" in survey):
        problems.append("a survey needs a name and a description")
    asked = [question.get("variable") for question in questions]
    problems += [f"{name}: asked twice" for name in sorted(set(asked)) if asked.count(name) > 1]
    for question in questions:
        name = question.get("variable")
        where = f"question {name!r}"
        missing = [key for key in ("question_name", "variable", "type") if not question.get(key)]
        if missing:
            problems.append(f"{where}: no {', '.join(missing)}")
            continue
        if name not in options:
            problems.append(f"{where}: not a job variable of the playbook's spec ({', '.join(sorted(options))})")
            continue
        option = options[name]
        for problem in (
                type_problem(question, option),
                None if bool(question.get("required")) == bool(option.get("required")) else
                f"required is {bool(question.get('required'))}, the spec says {bool(option.get('required'))}",
                None if question["type"] == "password" or not option.get("no_log") else
                "the spec marks it no_log: ask with a password question",
                default_problem(question, option, name)):
            if problem:
                problems.append(f"{where}: {problem}")
    fixed = template.get("extra_vars") or {}
    for name, value in fixed.items():
        if name not in options:
            problems.append(f"extra_vars {name!r}: not a job variable of the playbook's spec")
        elif accepted(options[name], name, value):
            problems.append(f"extra_vars {name!r}: {accepted(options[name], name, value)}")
    for name, option in options.items():
        if option.get("required") and name not in asked and name not in fixed:
            problems.append(f"{name}: required by the spec, but neither asked nor set in extra_vars")
    return problems


def missing_templates(playbook_names, templates):
    """The job playbooks that no template runs."""
    run = {pathlib.PurePosixPath(template["playbook"]).name for template in templates}
    return sorted(set(playbook_names) - NOT_JOB_PLAYBOOKS - run)


def drift_problems(templates):
    """Unless exactly one template runs site.yml in check mode with diffs, why not."""
    drift = [t for t in templates if pathlib.PurePosixPath(t["playbook"]).name == "site.yml"
             and t.get("job_type") == "check"]
    if len(drift) != 1:
        return [f"{len(drift)} templates run site.yml with job_type check, not 1"]
    return [] if drift[0].get("diff_mode") is True else ["the drift template does not set diff_mode: true"]


def job_template_options():
    """The option names of the installed awx.awx.job_template module."""
    source = (AWX_COLLECTION / "plugins" / "modules" / "job_template.py").read_text(encoding="utf-8")
    documentation = source.split("DOCUMENTATION = '''", 1)[1].split("'''", 1)[0]
    return set(yaml.safe_load(documentation)["options"])


def awx_config_task(module):
    """The task of playbooks/awx_config.yml that calls the module."""
    play = load(PLAYBOOKS / "awx_config.yml")[0]
    return next(task for task in play["tasks"] if module in task)


# The checks on the real data.

@pytest.mark.parametrize("template", job_templates(), ids=lambda template: template["name"])
def test_each_survey_agrees_with_its_playbook_spec(template):
    assert (REPO_ROOT / template["playbook"]).is_file(), f"{template['name']}: no playbook {template['playbook']}"
    path = spec_path(template)
    if not path.is_file() and path.name in ("build_images.yml", "teardown.yml"):
        pytest.skip(f"{path.relative_to(REPO_ROOT)} is not written yet (another change)")
    options = load(path)["hubfleet_job_spec"]["options"]
    assert survey_problems(template, options) == []


def test_every_playbook_has_a_template():
    playbooks = [path.name for path in PLAYBOOKS.glob("*.yml")]
    assert {"site.yml", "render.yml", "reset_user_storage.yml", "precreate_user_projects.yml"} <= set(playbooks)
    assert missing_templates(playbooks, job_templates()) == []
    names = [template["name"] for template in job_templates()]
    assert len(names) == len(set(names)), "two templates share a name"


def test_the_drift_template_runs_site_in_check_mode_with_diffs():
    assert drift_problems(job_templates()) == []
    deploy = [t for t in job_templates() if t["playbook"] == "playbooks/site.yml" and t.get("job_type") == "run"]
    assert len(deploy) == 1 and not deploy[0].get("diff_mode")


def test_templates_use_only_job_template_options_that_awx_config_passes_on():
    known = job_template_options()
    passed = set(awx_config_task("awx.awx.job_template")["awx.awx.job_template"])
    assert {"survey_spec", "job_type", "diff_mode", "playbook"} <= known
    for template in job_templates():
        assert set(template) <= known, (template["name"], set(template) - known)
        assert set(template) <= passed, (template["name"], "dropped by awx_config.yml", set(template) - passed)


def test_job_specs_are_checked_first_by_their_playbooks():
    shared = load(PLAYBOOKS / "tasks" / "check_job_vars.yml")[0]["block"]
    assert [task["ansible.builtin.validate_argument_spec"]["argument_spec"] for task in shared] == [
        "{{ hubfleet_job_spec.options }}"]
    for spec_path in sorted((PLAYBOOKS / "specs").glob("*.yml")):
        name = spec_path.stem
        if name in ("cluster", "hub_entry"):
            continue
        spec = load(spec_path)["hubfleet_job_spec"]
        required = sorted(n for n, o in spec["options"].items() if o.get("required"))
        assert spec["short_description"], name
        assert ArgumentSpecValidator(spec["options"]).validate({}).error_messages == (
            [f"missing required arguments: {', '.join(required)}"] if required else []), name
        assert ArgumentSpecValidator(spec["options"]).validate({n: "x" for n in required}).error_messages == [], name
        first = load(PLAYBOOKS / f"{name}.yml")[0]
        assert f"specs/{name}.yml" in first["vars_files"], name
        checks = [index for index, task in enumerate(first["tasks"])
                  if task.get("ansible.builtin.import_tasks") == "tasks/check_job_vars.yml"]
        assert len(checks) == 1, name
        # nothing before the check reaches a cluster: the first play runs on localhost, or the check is
        # its very first task
        assert first["hosts"] == "localhost" or checks == [0], name


def test_credential_types_inject_only_their_own_inputs():
    types = load(AWX_DIR / "credential_types.yml")["hubfleet_awx_credential_types"]
    by_name = {t["name"]: t for t in types}
    kubeconfig = by_name["hubfleet kubeconfig"]
    assert kubeconfig["injectors"]["env"] == {"K8S_AUTH_KUBECONFIG": "{{ tower.filename.kubeconfig }}"}
    assert kubeconfig["injectors"]["file"] == {"template.kubeconfig": "{{ kubeconfig }}"}
    assert by_name["hubfleet JupyterHub API token"]["injectors"]["extra_vars"] == {
        "hub_api_token": "{{ hub_api_token }}"}
    for ctype in types:
        ids = {field["id"] for field in ctype["inputs"]["fields"]}
        assert all(field.get("secret") for field in ctype["inputs"]["fields"]), ctype["name"]
        assert set(ctype["inputs"]["required"]) <= ids
        templates = [v for section in ctype["injectors"].values() for v in section.values()]
        used = {t.strip("{} ") for t in templates if not t.startswith("{{ tower.")}
        assert used <= ids, (ctype["name"], used - ids)
    reset = next(t for t in job_templates() if t["playbook"].endswith("reset_user_storage.yml"))
    token = load(PLAYBOOKS / "specs" / "reset_user_storage.yml")["hubfleet_job_spec"]["options"]["hub_api_token"]
    assert token["no_log"] is True
    assert "hub_api_token" not in [q["variable"] for q in reset["survey_spec"]["spec"]]


def test_awx_config_passes_syntax_check_and_hides_secrets():
    done = subprocess.run(["ansible-playbook", "--syntax-check", "playbooks/awx_config.yml"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert awx_config_task("awx.awx.credential")["no_log"] is True


# The checks fail where they should: broken copies of the real data.

def reset_template():
    template = next(t for t in job_templates() if t["playbook"] == "playbooks/reset_user_storage.yml")
    return copy.deepcopy(template)


def reset_options():
    return load(PLAYBOOKS / "specs" / "reset_user_storage.yml")["hubfleet_job_spec"]["options"]


def question(template, name):
    return next(q for q in template["survey_spec"]["spec"] if q["variable"] == name)


def _rename_user(t):
    question(t, "user")["variable"] = "usr"


def _drop_hub(t):
    t["survey_spec"]["spec"].remove(question(t, "hub"))


def _set(name, key, value):
    def mutate(template):
        question(template, name)[key] = value
    return mutate


def _ask_token_as(kind):
    def mutate(template):
        template["survey_spec"]["spec"].append(
            {"question_name": "Token", "variable": "hub_api_token", "type": kind, "required": False})
    return mutate


@pytest.mark.parametrize("mutate, expected", [
    (_rename_user, "question 'usr': not a job variable"),
    (_rename_user, "user: required by the spec, but neither asked nor set in extra_vars"),
    (_drop_hub, "hub: required by the spec, but neither asked nor set in extra_vars"),
    (_set("backup", "type", "text"), "question 'backup': the spec allows only ['none', 'snapshot']"),
    (_set("backup", "choices", ["none"]), "question 'backup': choices ['none'] differ from the spec's"),
    (_set("backup", "choices", "none\nsnapshot\ntape"), "choices ['none', 'snapshot', 'tape'] differ"),
    (_set("backup", "default", "tape"), "question 'backup': default ['tape'] is not among the question's choices"),
    (_set("stop_server", "choices", ["yes", "no"]), "a bool is asked with the choices true and false only"),
    (_set("stop_server", "type", "text"), "a text question gives str, the spec wants bool"),
    (_set("user", "type", "integer"), "question 'user': an integer question gives int, the spec wants str"),
    (_set("user", "type", "multiselect"), "a multiselect question needs a list option with choices"),
    (_set("user", "required", False), "question 'user': required is False, the spec says True"),
    (_set("backup", "required", True), "question 'backup': required is True, the spec says False"),
    (_set("server_name", "default", 3), "question 'server_name': default 3 is not a string"),
    (_ask_token_as("text"), "question 'hub_api_token': the spec marks it no_log: ask with a password question"),
    (_set("user", "type", "dropdown"), "unknown question type 'dropdown'"),
])
def test_survey_checks_fail_on_a_broken_survey(mutate, expected):
    template = reset_template()
    assert survey_problems(template, reset_options()) == []
    mutate(template)
    problems = survey_problems(template, reset_options())
    assert any(expected in problem for problem in problems), problems


def test_survey_checks_accept_what_is_right_and_check_fixed_values():
    template = reset_template()
    _drop_hub(template)
    template["extra_vars"] = {"hub": "research"}
    _ask_token_as("password")(template)
    assert survey_problems(template, reset_options()) == []
    template["extra_vars"] = {"hub": "research", "backup": "tape", "colour": "blue"}
    problems = survey_problems(template, reset_options())
    assert any("extra_vars 'backup'" in problem and "tape" in problem for problem in problems), problems
    assert any("extra_vars 'colour': not a job variable" in problem for problem in problems), problems
    template["survey_enabled"] = False
    assert "the template has questions but survey_enabled is not true" in survey_problems(template, reset_options())


def test_numeric_and_multiselect_questions_are_checked_against_the_spec():
    options = {"count": {"type": "int", "default": 2}, "ratio": {"type": "float"},
               "images": {"type": "list", "elements": "str", "choices": ["base", "gpu"]}}
    template = {"survey_enabled": True, "survey_spec": {"name": "n", "description": "d", "spec": [
        {"question_name": "c", "variable": "count", "type": "integer", "default": 3},
        {"question_name": "r", "variable": "ratio", "type": "float", "default": 0.5},
        {"question_name": "i", "variable": "images", "type": "multiselect", "choices": ["gpu", "base"],
         "default": "base\ngpu"}]}}
    assert survey_problems(template, options) == []
    template["survey_spec"]["spec"][0]["default"] = "3"
    template["survey_spec"]["spec"][1]["type"] = "integer"
    template["survey_spec"]["spec"][2]["default"] = "base\ncuda"
    problems = survey_problems(template, options)
    assert problems == ["question 'count': default '3' is not an integer",
                        "question 'ratio': an integer question gives int, the spec wants float",
                        "question 'ratio': default 0.5 is not an integer",
                        "question 'images': default ['cuda'] is not among the question's choices"]


def test_coverage_and_drift_checks_fail_on_broken_template_lists():
    templates = copy.deepcopy(job_templates())
    playbooks = [path.name for path in PLAYBOOKS.glob("*.yml")]
    without_render = [t for t in templates if not t["playbook"].endswith("render.yml")]
    assert missing_templates(playbooks, without_render) == ["render.yml"]
    assert missing_templates(playbooks + ["new_job.yml"], templates) == ["new_job.yml"]
    drift = next(t for t in templates if t.get("job_type") == "check")
    drift["diff_mode"] = False
    assert drift_problems(templates) == ["the drift template does not set diff_mode: true"]
    drift["job_type"] = "run"
    assert drift_problems(templates) == ["0 templates run site.yml with job_type check, not 1"]
