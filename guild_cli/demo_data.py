"""A small, realistic company: four communities, thirty people in four regions and nineteen
timezones, each with skills. Newcomers and questions are taken one per demo run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str
    region: str
    timezone: str
    skills: tuple[tuple[str, str], ...]
    languages: tuple[str, ...] = ("en",)
    title: str = "Engineer"

    @property
    def email(self) -> str:
        return self.name.lower().replace(" ", ".").replace("'", "") + "@example.com"


@dataclass(frozen=True)
class CommunitySeed:
    community_id: str
    name: str
    description: str
    topics: tuple[str, ...]
    facilitators: tuple[str, ...]
    members: tuple[str, ...]


@dataclass(frozen=True)
class QuestionSeed:
    community_id: str
    asker_id: str
    title: str
    text: str
    tags: tuple[str, ...]


def _p(
    pid: str, name: str, region: str, tz: str, skills: str, langs: str = "en", title: str = ""
) -> Person:
    pairs = tuple(tuple(item.split(":")) for item in skills.split())
    return Person(pid, name, region, tz, pairs, tuple(langs.split()), title or "Engineer")  # type: ignore[arg-type]


# fmt: off
PEOPLE = (
    _p("e1001", "Lena Vogel", "eu", "Europe/Berlin", "kubernetes:expert etcd:advanced go:advanced helm:advanced", "en de", "Platform Lead"),
    _p("e1002", "David Okafor", "eu", "Europe/London", "appsec:expert threat-modeling:expert python:advanced owasp:advanced", "en", "Security Architect"),
    _p("e1003", "Sofia Rossi", "eu", "Europe/Rome", "abap:expert sap-hana:advanced fiori:advanced", "en it", "SAP Lead Developer"),
    _p("e1004", "Julien Moreau", "eu", "Europe/Paris", "kafka:expert spark:advanced scala:advanced", "en fr", "Data Engineer"),
    _p("e1005", "Agnieszka Nowak", "eu", "Europe/Warsaw", "kubernetes:advanced networking:expert terraform:advanced", "en pl", "Site Reliability Engineer"),
    _p("e1006", "Erik Lindqvist", "eu", "Europe/Stockholm", "airflow:advanced sql:expert python:expert", "en sv", "Data Engineer"),
    _p("e1007", "Carmen Ruiz", "eu", "Europe/Madrid", "fiori:expert abap:intermediate javascript:advanced", "en es", "UX Developer"),
    _p("e1008", "Tom Byrne", "eu", "Europe/Dublin", "helm:expert kubernetes:intermediate argo-cd:advanced", "en", "DevOps Engineer"),
    _p("e1009", "Hannah Schulz", "eu", "Europe/Berlin", "owasp:intermediate java:expert spring:advanced", "en de", "Backend Engineer"),
    _p("e1010", "Marco Bianchi", "eu", "Europe/Rome", "sap-hana:expert sql:advanced", "en it", "Database Engineer"),
    _p("e2001", "Marcus Johnson", "us", "America/Chicago", "kubernetes:expert networking:advanced terraform:expert", "en", "Principal SRE"),
    _p("e2002", "Emily Chen", "us", "America/Los_Angeles", "spark:expert python:expert airflow:advanced", "en zh", "Staff Data Engineer"),
    _p("e2003", "Jamal Wright", "us", "America/New_York", "appsec:advanced threat-modeling:advanced go:advanced", "en", "Security Engineer"),
    _p("e2004", "Olivia Martinez", "us", "America/Denver", "kafka:advanced java:expert", "en es", "Backend Engineer"),
    _p("e2005", "Noah Patel", "us", "America/New_York", "etcd:expert kubernetes:advanced go:expert", "en hi", "Infrastructure Engineer"),
    _p("e2006", "Ava Thompson", "us", "America/Los_Angeles", "fiori:advanced abap:advanced", "en", "SAP Developer"),
    _p("e2007", "Ethan Brooks", "us", "America/Chicago", "sql:advanced airflow:intermediate dbt:advanced", "en", "Analytics Engineer"),
    _p("e2008", "Mia Robinson", "us", "America/Toronto", "owasp:expert appsec:advanced javascript:advanced", "en fr", "Application Security Lead"),
    _p("e2009", "Lucas Silva", "latam", "America/Sao_Paulo", "kubernetes:intermediate helm:advanced python:advanced", "en pt", "Cloud Engineer"),
    _p("e2010", "Grace Lee", "us", "America/New_York", "terraform:advanced networking:intermediate", "en ko", "Cloud Architect"),
    _p("e3001", "Aiko Tanaka", "apac", "Asia/Tokyo", "spark:expert kafka:advanced sql:advanced", "en ja", "Data Platform Lead"),
    _p("e3002", "Wei Zhang", "apac", "Asia/Singapore", "kubernetes:expert networking:advanced etcd:advanced", "en zh", "Platform Engineer"),
    _p("e3003", "Arjun Mehta", "apac", "Asia/Kolkata", "abap:expert sap-hana:advanced", "en hi", "SAP Consultant"),
    _p("e3004", "Chloe Nguyen", "apac", "Australia/Sydney", "threat-modeling:advanced appsec:intermediate python:advanced", "en vi", "Security Engineer"),
    _p("e3005", "Min-jun Park", "apac", "Asia/Seoul", "airflow:expert python:advanced sql:advanced", "en ko", "Data Engineer"),
    _p("e3006", "Rahul Iyer", "apac", "Asia/Kolkata", "java:expert kafka:intermediate spring:expert", "en hi ta", "Backend Lead"),
    _p("e3007", "Hiroshi Sato", "apac", "Asia/Tokyo", "helm:advanced argo-cd:expert kubernetes:advanced", "en ja", "DevOps Engineer"),
    _p("e3008", "Jessica Wong", "apac", "Asia/Singapore", "fiori:advanced javascript:expert", "en zh", "Frontend Engineer"),
    _p("e3009", "Liam O'Connor", "apac", "Australia/Sydney", "terraform:expert kubernetes:intermediate", "en", "Cloud Engineer"),
    _p("e3010", "Ananya Rao", "apac", "Asia/Kolkata", "owasp:advanced java:advanced", "en hi kn", "Security Champion"),
)
# fmt: on

COMMUNITIES = (
    CommunitySeed(
        "k8s-ops", "Kubernetes Operators",
        "Everyone who runs Kubernetes in production: upgrades, networking, etcd, GitOps.",
        ("kubernetes", "etcd", "helm", "networking", "argo-cd"),
        ("e1001", "e2001"),
        ("e1001", "e1005", "e1008", "e2001", "e2005", "e2009", "e3002", "e3007", "e3009"),
    ),
    CommunitySeed(
        "data-eng", "Data Engineering",
        "Pipelines, streaming and warehouses: Spark, Kafka, Airflow, SQL.",
        ("spark", "kafka", "airflow", "sql", "dbt"),
        ("e3001",),
        ("e3001", "e1004", "e1006", "e2002", "e2004", "e2007", "e3005", "e3006"),
    ),
    CommunitySeed(
        "sap-dev", "SAP Developers",
        "ABAP, HANA and Fiori developers across the company.",
        ("abap", "sap-hana", "fiori"),
        ("e1003",),
        ("e1003", "e1007", "e1010", "e2006", "e3003", "e3008"),
    ),
    CommunitySeed(
        "sec-champions", "Security Champions",
        "Application security in every team: threat modelling, OWASP, secure defaults.",
        ("appsec", "threat-modeling", "owasp"),
        ("e1002", "e2008"),
        ("e1002", "e1009", "e2003", "e2008", "e3004", "e3010"),
    ),
)  # fmt: skip

# fmt: off
NEWCOMERS = (
    (_p("e4001", "Priya Raman", "apac", "Asia/Kolkata", "kubernetes:beginner python:advanced terraform:intermediate", "en hi ta", "Cloud Engineer"), "k8s-ops"),
    (_p("e4002", "Tomás Díaz", "eu", "Europe/Madrid", "kafka:intermediate spark:beginner python:advanced", "en es", "Data Engineer"), "data-eng"),
    (_p("e4003", "Zoe Adams", "us", "America/Los_Angeles", "appsec:beginner javascript:advanced", "en", "Frontend Engineer"), "sec-champions"),
    (_p("e4004", "Kenji Watanabe", "apac", "Asia/Tokyo", "abap:intermediate sap-hana:beginner", "en ja", "SAP Developer"), "sap-dev"),
)
# fmt: on

QUESTIONS = (
    QuestionSeed("k8s-ops", "e2009", "How do we rotate etcd certificates without downtime?",
                 "Our etcd peer and client certificates expire next month. What is the safe order "
                 "of steps on a three-node control plane, and how do you verify each step?",
                 ("kubernetes", "etcd")),
    QuestionSeed("data-eng", "e2007", "Kafka consumer lag spikes after every rebalance: what to check?",
                 "Lag jumps to minutes whenever a consumer restarts. We use cooperative sticky "
                 "assignment and Spark structured streaming downstream.",
                 ("kafka", "spark")),
    QuestionSeed("sec-champions", "e1009", "Threat-modelling a webhook receiver: where to start?",
                 "We are adding a public webhook endpoint. Which threats matter most (replay, "
                 "SSRF, signature checks) and how do you structure the session?",
                 ("threat-modeling", "appsec")),
    QuestionSeed("sap-dev", "e3008", "Fiori elements: extend a list report without breaking upgrades?",
                 "We need one custom column and an action. Which extension points survive S/4 "
                 "upgrades, and is ABAP CDS annotation enough?",
                 ("fiori", "abap")),
)  # fmt: skip
