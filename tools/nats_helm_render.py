"""Render the nats.conf the official NATS Helm chart makes of deploy/nats/helm's values.

    python -m tools.nats_helm_render --chart PATH/TO/nats-io/k8s/helm/charts/nats

The chart is not part of this repository (nor reachable from CI), so its output for each
region is kept in deploy/nats/helm/rendered/, headed by the chart's version and a digest of
the values it was rendered from; tests/unit/test_deploy_helm.py checks that each rendered
file is accepted by nats-server and still matches the values (a stale one fails: render
again). Needs the helm-python-sdk package (Helm's Go SDK, rendering offline).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

import yaml

HELM = Path(__file__).resolve().parents[1] / "deploy" / "nats" / "helm"
REGIONS = ("eu", "us", "apac")


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, maps merged key by key (as helm merges ``-f`` files)."""
    out = dict(base)
    for key, value in override.items():
        both_maps = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both_maps else value
    return out


def values_digest(region: str) -> str:
    digest = hashlib.sha256()
    for name in ("values.yaml", f"values-{region}.yaml"):
        digest.update((HELM / name).read_bytes())
    return digest.hexdigest()


def region_values(region: str) -> dict[str, Any]:
    base = yaml.safe_load((HELM / "values.yaml").read_text())
    return merged(base, yaml.safe_load((HELM / f"values-{region}.yaml").read_text()))


def render(chart_dir: Path, region: str) -> str:
    import helm_python  # only here: the tests read the rendered files without it

    chart = helm_python.Chart.load(chart_dir)
    version = yaml.safe_load((chart_dir / "Chart.yaml").read_text())["version"]
    out = chart.render(region_values(region), name=f"nats-{region}",
                       namespace=f"guild-{region}", is_install=True)  # fmt: skip
    (config,) = [
        doc["data"]["nats.conf"]
        for text in out.values()
        for doc in yaml.safe_load_all(text)
        if doc and doc.get("kind") == "ConfigMap"
    ]
    return (
        f"# nats.conf of region {region} as the official NATS chart {version} renders\n"
        f"# deploy/nats/helm/values.yaml + values-{region}.yaml (tools/nats_helm_render.py)\n"
        f"# values-sha256: {values_digest(region)}\n{config}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart", type=Path, required=True, help="the nats chart's folder")
    args = parser.parse_args()
    (HELM / "rendered").mkdir(exist_ok=True)
    for region in REGIONS:
        target = HELM / "rendered" / f"nats-{region}.conf"
        target.write_text(render(args.chart, region))
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
