"""Typed settings. Each service has one class with its own prefix; the region must be given.

A setting is looked up, first match wins, as ``GUILD_<SERVICE>_<NAME>`` (only that service),
then ``GUILD_<NAME>`` (every service of the deployment). ``nats_url`` also honours the
conventional ``NATS_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from shared.naming import check_region
from shared.sealing import Keyring

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def _nats_url_from_environment() -> str:
    return os.environ.get("NATS_URL", DEFAULT_NATS_URL)


class GuildSettings(BaseSettings):
    """What every Guild service needs to know about its deployment."""

    model_config = SettingsConfigDict(env_prefix="GUILD_", extra="ignore", frozen=True)

    SERVICE: ClassVar[str] = "guild"
    """The service's name, as used in logs."""
    SERVICE_PREFIX: ClassVar[str] = "GUILD_"
    """Environment prefix of settings for this service only, e.g. ``GUILD_MEMBERSHIP_``."""

    region: str = Field(description="This deployment's region, e.g. 'eu'. Required.")
    nats_url: str = Field(
        default_factory=_nats_url_from_environment,
        description="NATS server URL(s), comma-separated.",
    )
    nats_credentials: Path | None = Field(
        default=None,
        description="The service's NATS credentials file (user JWT and seed, owner-readable "
        "only), issued by 'guild identity issue'; unset: connect without (a server without "
        "authorization only).",
    )
    nats_tls_ca: Path | None = Field(
        default=None,
        description="CA certificate (PEM) that signed the NATS servers' certificates; set: "
        "connect over TLS.",
    )
    nats_tls_cert: Path | None = Field(
        default=None, description="This service's client certificate (PEM), for mutual TLS."
    )
    nats_tls_key: Path | None = Field(
        default=None, description="The client certificate's private key (PEM)."
    )
    peer_regions: list[str] = Field(
        default_factory=list,
        description="Other regions whose public events this region sources (JSON list).",
    )
    provision: bool = Field(
        default=True,
        description="Create or update this service's streams, consumers and buckets at start-up. "
        "Turn off where an operator provisions them with admin credentials.",
    )
    stream_replicas: int = Field(default=1, ge=1, le=5, description="Replicas (R3 in production).")
    event_retention_days: int = Field(default=30, ge=1, description="How long events are kept.")
    retry_first_delay: float = Field(
        default=1.0, gt=0, description="Seconds before the first retry of a failed message."
    )
    retry_max_delay: float = Field(default=300.0, gt=0, description="Longest retry delay (s).")
    retry_max_deliver: int = Field(
        default=10, ge=2, description="Deliveries before a failing message is dead-lettered."
    )
    ack_wait: float = Field(default=60.0, gt=0, description="Seconds before unacked redelivery.")
    consumer_window: int = Field(
        default=100,
        ge=1,
        le=1_000,
        description="Messages each consumer handles at once; each is settled as it finishes "
        "(see shared.messaging.window).",
    )
    request_workers: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Commands and queries each subject answers at once (as replicas do: see "
        "shared.messaging.rpc.answer).",
    )
    handler_time_limit: float = Field(
        default=600.0,
        gt=0,
        description="Seconds a handler may run, kept from redelivery by in-progress acks; then "
        "it is cancelled and its message delivered again after ack_wait.",
    )
    http_host: str = Field(default="127.0.0.1", description="Address of the health endpoints.")
    http_port: int | None = Field(
        default=None, ge=0, le=65535, description="Port of /healthz and /readyz; unset = off."
    )
    loop_stall_after: float = Field(
        default=10.0,
        gt=0,
        description="Seconds the event loop may go without turning before /healthz answers 503.",
    )
    consumer_check_interval: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between looks at the consumers; one with messages waiting and "
        "room for more that, from one look to the next, neither fetched (nothing new "
        "delivered) nor acked (ack floor and messages in hand unchanged) is stalled (/readyz "
        "503). One working through a batch in hand, acking as it goes, is not.",
    )
    sealing_keys_file: Path | None = Field(
        default=None,
        description="The keyring that seals secrets and addresses at rest (lines of "
        "'<id>:<32-byte key, base64>', newest first; owner-readable only; 'guild sealing-key "
        "add' writes one). Services with sealed buckets (membership, notifications) do not "
        "start without a keyring.",
    )
    sealing_keys: SecretStr | None = Field(
        default=None,
        description="The keyring itself, for an environment secret (used when "
        "sealing_keys_file is unset).",
    )
    handover_keys_file: Path | None = Field(
        default=None,
        description="The handover keyring, the same in every region (lines like the sealing "
        "keys'): it seals a moving member's data on its way to their new home region. Unset: "
        "a move from or to this region is refused (dead-lettered, saying so).",
    )
    handover_keys: SecretStr | None = Field(
        default=None,
        description="The handover keyring itself, for an environment secret (used when "
        "handover_keys_file is unset).",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="Secret that keys the pseudonym of a member erased by a notice carrying "
        "none (an older membership); unset: a random one per process.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["json", "text"] = Field(default="json", description="Log line format.")
    otel_exporter: Literal["none", "console", "otlp"] = Field(
        default="none",
        description="Where traces go; 'otlp' uses the standard OTEL_EXPORTER_OTLP_* variables.",
    )
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="asyncio",
        description="The event loop the service runs on: the standard library's, or 'uvloop' "
        "(libuv; about a fifth less CPU per event in the hop benchmark, but on a 2-core "
        "machine under a 50,000-member set-up it left nats-server's JetStream API unanswered "
        "for over a minute, twice in two runs; see docs/performance.md). Where uvloop is not "
        "installed (Windows) the service warns and runs on asyncio.",
    )

    def keyring(self) -> Keyring | None:
        """The sealing keys (None: neither setting given). Raises SealingError if they are
        unreadable or malformed."""
        return _keyring_from(self.sealing_keys_file, self.sealing_keys, "GUILD_SEALING_KEYS")

    def handover_keyring(self) -> Keyring | None:
        """The handover keys (None: neither setting given)."""
        return _keyring_from(self.handover_keys_file, self.handover_keys, "GUILD_HANDOVER_KEYS")

    def pseudonym_secret(self) -> bytes | None:
        """The ``pseudonym_key`` setting as bytes (None: unset)."""
        key = self.pseudonym_key
        return key.get_secret_value().encode() if key is not None else None

    @field_validator("region")
    @classmethod
    def _region_is_valid(cls, value: str) -> str:
        return check_region(value)

    @field_validator("peer_regions")
    @classmethod
    def _peers_are_valid(cls, value: list[str]) -> list[str]:
        return [check_region(peer) for peer in value]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        service_env = EnvSettingsSource(settings_cls, env_prefix=cls.SERVICE_PREFIX)
        deployment_env = EnvSettingsSource(settings_cls, env_prefix="GUILD_")
        return init_settings, service_env, deployment_env, file_secret_settings


def _keyring_from(path: Path | None, text: SecretStr | None, variable: str) -> Keyring | None:
    """The keyring in the file ``path``, else in the secret ``text`` (from ``variable``)."""
    if path is not None:
        return Keyring.read(path)
    if text is not None:
        return Keyring.parse(text.get_secret_value(), variable)
    return None
