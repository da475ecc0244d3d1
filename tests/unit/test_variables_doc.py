"""docs/variables.md is what scripts/variables_doc.py generates from the specs, and covers every variable."""
import importlib.util
import pathlib
import shutil

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


variables_doc = _load("variables_doc", REPO_ROOT / "scripts" / "variables_doc.py")
fleet_spec = variables_doc.fleet_spec


def test_docs_variables_md_is_up_to_date():
    current = (REPO_ROOT / "docs" / "variables.md").read_text(encoding="utf-8")
    assert current == variables_doc.generate(), "docs/variables.md is stale: run `make docs`"


def test_every_cluster_entry_role_and_job_variable_has_a_row():
    text = variables_doc.generate()
    options, set_by_site, _role_of = fleet_spec.hub_entry(str(REPO_ROOT))
    names = list(options) + list(set_by_site) + list(fleet_spec.cluster_options(str(REPO_ROOT)))
    for spec in (REPO_ROOT / "playbooks" / "specs").glob("*.yml"):
        if spec.stem not in ("cluster", "hub_entry"):
            names += list(variables_doc.role_docs.yaml.safe_load(spec.read_text())["hubfleet_job_spec"]["options"])
    assert [name for name in names if f"| `{name}` |" not in text] == []


def test_a_changed_spec_changes_the_page(tmp_path):
    for part in ("roles", "playbooks/specs"):
        shutil.copytree(REPO_ROOT / part, tmp_path / part)
    before = variables_doc.generate(tmp_path)
    spec = tmp_path / "roles" / "quotas" / "meta" / "argument_specs.yml"
    spec.write_text(spec.read_text().replace("quotas_requests_cpu:", "quotas_requests_cpus:"))
    after = variables_doc.generate(tmp_path)
    assert "`quotas_requests_cpus`" in after and "`quotas_requests_cpus`" not in before
