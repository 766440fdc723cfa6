"""Notifications' settings: ``GUILD_NOTIFICATIONS_*``, falling back to ``GUILD_*``."""

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from services.notifications.domain.links import DEFAULT_PORTAL_URL, check_portal_url
from shared.settings import GuildSettings


class NotificationsSettings(GuildSettings):
    SERVICE: ClassVar[str] = "notifications"
    SERVICE_PREFIX: ClassVar[str] = "GUILD_NOTIFICATIONS_"

    channels: list[Literal["inbox", "console"]] = Field(
        default_factory=lambda: ["inbox", "console"],
        description="Channels every member gets (JSON list); per-member choices come later.",
    )

    allow_loopback_receivers: bool = Field(
        default=False,
        description="Let members' webhooks point at 127.0.0.1 (plain http allowed there): for "
        "tests and the local demo only. Private, link-local and metadata addresses stay refused.",
    )
    delivery_first_retry: float = Field(
        default=5.0, gt=0, description="Seconds before the first retry of a failed delivery."
    )
    delivery_max_retry: float = Field(
        default=6 * 3600.0, gt=0, description="Longest wait between two delivery attempts (s)."
    )
    delivery_attempts: int = Field(
        default=15, ge=1, description="Attempts before a delivery is given up (about 3 days)."
    )
    smtp_host: str | None = Field(
        default=None, description="Mail relay for e-mail notifications; unset: no e-mail."
    )
    smtp_port: int = Field(default=587, description="Mail relay port.")
    smtp_starttls: bool = Field(default=True, description="Upgrade to TLS with STARTTLS.")
    smtp_username: str | None = Field(default=None, description="Login, if the relay needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="Password for the login.")
    smtp_ca_file: str | None = Field(
        default=None, description="CA bundle to trust for the relay (else the system's)."
    )
    mail_from: str = Field(
        default="Guild <guild@localhost>", description="From address of notification mail."
    )
    apprise_schemes: list[str] = Field(
        default_factory=list,
        description='Apprise URL schemes members may use (JSON list, e.g. ["ntfys", '
        '"mailto"]); empty turns the Apprise channel off. Needs guild[apprise].',
    )
    public_url: str = Field(
        default="",
        description="Address members reach this region's notifications API at, for the links "
        "in messages (unsubscribe, turn a reason off); empty: http://127.0.0.1:<http port>.",
    )
    portal_url: str = Field(
        default=DEFAULT_PORTAL_URL,
        description="Where members open a post in the company's portal, for the link in every "
        "message about one: a URL template with {post_id} and, if it needs it, {community_id}. "
        "Checked at start-up. The default suits the demo only.",
    )
    jwt_issuer: str | None = Field(
        default=None,
        description="Issuer ('iss') of the bearer tokens the member API accepts; unset: the "
        "API refuses every signed-in request (links in messages still work).",
    )
    jwt_audience: str = Field(default="guild", description="Audience ('aud') tokens must name.")
    jwks_url: str | None = Field(
        default=None, description="Where the issuer publishes its signing keys (JWKS)."
    )
    jwks_file: str | None = Field(
        default=None, description="Or: a JWKS file with the issuer's public keys."
    )
    jwks_timeout: float = Field(
        default=5.0, gt=0, description="Longest wait for the JWKS (s); then sign-in answers 503."
    )
    jwks_max_age: float = Field(
        default=300.0,
        gt=0,
        description="Seconds before the JWKS is fetched again, in the "
        "background (requests go on with the keys held).",
    )
    jwt_member_claim: str = Field(
        default="sub",
        description="Claim holding the person's HR id (the service finds their member id).",
    )
    fanout_part_size: int = Field(
        default=500, ge=1, le=5000, description="Members per part of a large fan-out (a "
        "question to a whole community), each routed and acked on its own (its ledger record, "
        "about 160 bytes per member, stays within nats-server's 1 MB message)."
    )  # fmt: skip
    chores_interval: float = Field(
        default=30.0, gt=0, description="Seconds between releases of held pushes and digests."
    )

    @field_validator("portal_url")
    @classmethod
    def _portal_url_makes_links(cls, value: str) -> str:
        return check_portal_url(value)

    def links_base(self) -> str:
        return self.public_url or f"http://127.0.0.1:{self.http_port or 8080}"
