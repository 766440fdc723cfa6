"""deploy/helm renders, per region, into manifests Kubernetes accepts, with what Guild needs;
deploy/nats/helm's values make a nats.conf that nats-server accepts.

The chart is rendered by Helm itself (its Go SDK, offline: helm-python-sdk) after ``helm lint
--strict`` and the chart's values.schema.json; every manifest is then validated against the
Kubernetes API schemas (kubernetes-validate, strict: unknown fields refused)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml

from guild_cli.nats_server import nats_server_binary
from services.content.settings import ContentSettings
from services.matching.settings import MatchingSettings
from services.membership.settings import MembershipSettings
from services.notifications.settings import NotificationsSettings
from shared import access
from shared.credentials import Authority
from shared.settings import GuildSettings
from tests.tls import make_certificates
from tools.nats_helm_render import REGIONS, values_digest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "guild"
KUBERNETES = "1.30.0"
SETTINGS: dict[str, type[GuildSettings]] = {
    "membership": MembershipSettings,
    "content": ContentSettings,
    "matching": MatchingSettings,
    "notifications": NotificationsSettings,
}
PEERS = {region: [p for p in REGIONS if p != region] for region in REGIONS}


def region_values(region: str) -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "helm" / f"values-{region}.yaml").read_text())


def rendered(values: dict[str, Any], region: str) -> list[dict[str, Any]]:
    chart = helm_python.Chart.load(CHART)
    try:
        out = chart.render(values, name=f"guild-{region}", namespace=f"guild-{region}",
                           is_install=True)  # fmt: skip
    finally:
        chart.close()
    return [
        doc
        for path, text in sorted(out.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


@pytest.mark.parametrize("region", REGIONS)
def test_the_chart_lints_clean_and_each_manifest_is_valid_kubernetes(region):
    report = helm_python.lint(CHART, region_values(region), strict=True, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # warnings and errors
    assert report["errors"] == [], report
    assert problems == [], problems
    manifests = rendered(region_values(region), region)
    assert manifests
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_the_validator_refuses_what_kubernetes_would():
    """The validation above can fail: a field Kubernetes does not know is refused."""
    (deployment, *_) = of_kind(rendered(region_values("eu"), "eu"), "Deployment").values()
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_runs_every_service_with_probes_a_budget_and_its_secrets_as_files(region):
    manifests = rendered(region_values(region), region)
    deployments, budgets = (
        of_kind(manifests, "Deployment"),
        of_kind(manifests, "PodDisruptionBudget"),
    )
    assert set(deployments) == {f"guild-{region}-{s}" for s in SETTINGS}
    assert set(budgets) == set(deployments)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["resources"]["limits"]["memory"], name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        env = env_of(container)
        assert env["GUILD_REGION"] == region
        assert json.loads(env["GUILD_PEER_REGIONS"]) == PEERS[region]
        assert env["GUILD_PROVISION"] == "false"  # the Job provisions, as the admin
        assert env["GUILD_NATS_CREDENTIALS"].startswith("/run/secrets/")
        assert env["GUILD_SEALING_KEYS_FILE"].startswith("/run/secrets/")
        assert "GUILD_SEALING_KEYS" not in env  # secrets never inline in a manifest
        secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert f"guild-{name.removeprefix(f'guild-{region}-')}-creds" in secrets
        mounted = {m["mountPath"] for m in container["volumeMounts"]}  # a move's keyring
        assert "guild-handover-keys" in secrets
        assert env["GUILD_HANDOVER_KEYS_FILE"].startswith(next(
            path for path in mounted if path.endswith("/handover")))  # fmt: skip
    (job,) = of_kind(manifests, "Job").values()
    assert "pre-install" in job["metadata"]["annotations"]["helm.sh/hook"]
    (provisioner,) = job["spec"]["template"]["spec"]["containers"]
    assert provisioner["args"][:4] == ["python", "-m", "guild_cli", "provision"]
    assert env_of(provisioner)["GUILD_NATS_CREDENTIALS"].endswith("admin.creds")


@pytest.mark.parametrize("region", REGIONS)
def test_every_setting_the_chart_gives_a_service_is_one_it_accepts(region, monkeypatch):
    """Each Deployment's environment, read by that service's settings (a typo or a value
    it refuses fails here, not in the cluster)."""
    for name, deployment in of_kind(rendered(region_values(region), region), "Deployment").items():
        service = name.removeprefix(f"guild-{region}-")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        with monkeypatch.context() as patched:
            for variable in [v for v in os.environ if v.startswith(("GUILD_", "NATS_"))]:
                patched.delenv(variable)
            for variable, value in env_of(container).items():
                patched.setenv(variable, value)
            settings = SETTINGS[service]()
        assert settings.region == region
        assert settings.peer_regions == PEERS[region]
        assert settings.stream_replicas == 3
        unknown = {
            variable
            for variable in env_of(container)
            if variable.startswith("GUILD_") and not _is_setting(variable, SETTINGS[service])
        }
        assert unknown == set(), (service, unknown)


def _is_setting(variable: str, settings: type[GuildSettings]) -> bool:
    for prefix in (settings.SERVICE_PREFIX, "GUILD_"):
        if variable.startswith(prefix) and variable.removeprefix(prefix).lower() in (
            settings.model_fields
        ):
            return True
    return False


@pytest.mark.parametrize(
    "change",
    [
        {"services": {"matching": {"replicas": 2}}},  # one instance until the replicas issue
        {"env": {"GUILD_SEALING_KEYS": "k1:inline"}},  # a secret in the values
        {"region": "EU West"},
        {"nats": {"url": "http://nats:4222"}},
    ],
    ids=["two-instances", "inline-secret", "bad-region", "bad-url"],
)
def test_the_values_schema_refuses_what_would_deploy_wrongly(change):
    values = {**region_values("eu"), **change}
    with pytest.raises(helm_python.HelmValuesError):
        rendered(values, "eu")


@pytest.mark.parametrize("region", REGIONS)
def test_the_nats_chart_values_render_to_a_configuration_nats_server_accepts(region, tmp_path):
    """deploy/nats/helm/rendered/nats-<region>.conf is what the official chart renders of the
    values (kept current: its digest is the values'), and nats-server accepts it beside the
    authorization block and certificates an operator mounts."""
    shipped = DEPLOY / "nats" / "helm" / "rendered" / f"nats-{region}.conf"
    text = shipped.read_text()
    assert f"values-sha256: {values_digest(region)}" in text, (
        "the values changed: python -m tools.nats_helm_render --chart <nats chart>"
    )
    assert f'"domain": "{region}"' in text
    assert '"sync_interval": "always"' in text
    assert '"verify": true' in text
    for folder in ("certs/nats", "certs/cluster", "leaf", "auth", "data", "run"):
        (tmp_path / folder).mkdir(parents=True)
    certificates = make_certificates(tmp_path / "tls")
    for folder in ("certs/nats", "certs/cluster"):
        shutil.copy(certificates.ca, tmp_path / folder / "ca.crt")
        shutil.copy(certificates.server_cert, tmp_path / folder / "tls.crt")
        shutil.copy(certificates.server_key, tmp_path / folder / "tls.key")
    authority = Authority.create()
    (tmp_path / "auth" / "auth.conf").write_text(authority.server_config())
    (tmp_path / "leaf" / "leaf.creds").write_text(authority.issue(access.leaf()))
    local = tmp_path.as_posix()
    config = tmp_path / "nats.conf"
    config.write_text(
        text.replace("/etc/nats-certs/", f"{local}/certs/")
        .replace("/etc/nats-leaf/", f"{local}/leaf/")
        .replace('"/data"', f'"{local}/data"')
        .replace("/var/run/nats/", f"{local}/run/")
    )
    result = subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, "GUILD_ACCOUNT_KEY": authority.account_key,
             "SERVER_NAME": f"guild-{region}-0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
