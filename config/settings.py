"""All settings in one place, read from the environment and `.env`.

Names follow the interface contract in DESIGN.md: the standard Slack names, `DATABASE_URL`,
and `NETWERKBOT_…` for everything else. Nothing here is built at import time: the composition
root calls `Settings()` once and passes the object on.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///netwerkbot.db"
WEEKDAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


CIRCLE_ROLES = ("consultants", "inner_circle", "outer_circle")  # channels whose members the bot keeps


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NETWERKBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        populate_by_name=True, env_ignore_empty=True,
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias=AliasChoices("DATABASE_URL", "NETWERKBOT_DATABASE_URL")
    )
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = "https://slack.com/api/"
    matrix_homeserver: str = Field(default="", validation_alias="MATRIX_HOMESERVER")
    matrix_user_id: str = Field(default="", validation_alias="MATRIX_USER_ID")
    matrix_password: SecretStr | None = Field(default=None, validation_alias="MATRIX_PASSWORD")
    matrix_access_token: SecretStr | None = Field(default=None, validation_alias="MATRIX_ACCESS_TOKEN")
    # who may invite the bot into a room: user ids (@anna:swv.nl) or whole servers (:swv.nl);
    # empty: everyone on the bot's own homeserver
    matrix_allowed: Annotated[frozenset[str], NoDecode] = frozenset()
    matrix_room_consultants: str = ""
    matrix_room_inner_circle: str = ""
    matrix_room_outer_circle: str = ""
    matrix_room_proposals: str = ""
    matrix_device_name: str = "netwerkbot"
    # Microsoft Teams (issue 20): the Azure bot registration's app id, client secret and tenant
    teams_app_id: str = Field(default="", validation_alias="TEAMS_APP_ID")
    teams_app_password: SecretStr | None = Field(default=None, validation_alias="TEAMS_APP_PASSWORD")
    teams_tenant_id: str = Field(default="", validation_alias="TEAMS_TENANT_ID")
    teams_channel_consultants: str = ""
    teams_channel_inner_circle: str = ""
    teams_channel_outer_circle: str = ""
    teams_channel_proposals: str = ""
    # end-to-end encryption: the crypto store's folder (empty: beside the SQLite database, else ./matrix-store),
    # and whom room keys go to: every device of the room's members (tofu) or only verified ones
    matrix_store_path: str = Field(default="", validation_alias=AliasChoices("MATRIX_STORE_PATH",
                                                                             "NETWERKBOT_MATRIX_STORE_PATH"))
    matrix_trust: Literal["tofu", "verified"] = Field(default="tofu", validation_alias=AliasChoices(
        "MATRIX_TRUST", "NETWERKBOT_MATRIX_TRUST"))
    # with MATRIX_TRUST=verified: the session keys (Element: Settings → Sessions) of the verified devices
    matrix_verified_keys: Annotated[frozenset[str], NoDecode] = Field(default=frozenset(), validation_alias=(
        AliasChoices("MATRIX_VERIFIED_KEYS", "NETWERKBOT_MATRIX_VERIFIED_KEYS")))

    language: Literal["nl", "en"] = "nl"
    timezone: str = "Europe/Amsterdam"
    coordinators: Annotated[frozenset[str], NoDecode] = frozenset()
    channel_consultants: str = ""
    channel_inner_circle: str = ""
    channel_outer_circle: str = ""
    channel_proposals: str = ""
    calendar_token: SecretStr | None = None
    vote_nudge_hours: int = Field(default=24, ge=0, le=24 * 14)
    idea_themes: Annotated[tuple[str, ...], NoDecode] = (
        "thuiszitters", "groeiklas", "gedrag", "hoogbegaafdheid", "dyslexie", "inclusie", "jeugdhulp")
    question_channels: Annotated[frozenset[str], NoDecode] = frozenset()
    digest_hours_before: int = Field(default=24, ge=0, le=24 * 14)
    digest_weekday: str = "maandag"
    digest_time: str = "09:00"
    synonyms_file: Path = CONFIG_DIR / "synonyms.toml"
    meetings_file: Path = CONFIG_DIR / "meetings.toml"
    school_holidays_file: Path = CONFIG_DIR / "school_holidays.toml"
    # the Rijksoverheid open-data feed of school holidays; `/<school year>?output=json` is added
    holidays_api_url: str = "https://opendata.rijksoverheid.nl/v1/sources/rijksoverheid/infotypes/schoolholidays/schoolyear/"
    # retention (PRIVACY.md), applied every day at retention_time by one occurrence
    retain_idea_texts_days: int = Field(default=365, ge=1)  # copied message text of a finished idea
    retain_outbox_days: int = Field(default=30, ge=1)  # the text of a message the bot sent by itself
    retain_deliveries_days: int = Field(default=7, ge=1)  # ids of handled deliveries (retries, replays)
    retain_ballots_days: int = Field(default=90, ge=0)  # who chose what in an open vote, after its close
    inactive_after_months: int = Field(default=24, ge=1)  # members not seen this long: listed for coordinators
    retention_time: str = "03:30"
    expertise_stale_months: int = Field(default=12, ge=1, le=120)
    expertise_page_size: int = Field(default=8, ge=1, le=20)
    profile_refresh_hours: int = Field(default=24, ge=1)
    ack_budget_seconds: float = Field(default=2.0, gt=0, lt=3)
    startup_wait_seconds: float = Field(default=120.0, ge=0)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line, for log collectors

    @field_validator("coordinators", "question_channels", "matrix_allowed", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("matrix_verified_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):  # Element shows a key in groups of four: the spaces are not part of it
            return frozenset(part.replace(" ", "") for part in value.split(",") if part.strip())
        return value

    @field_validator("idea_themes", mode="before")
    @classmethod
    def _split_themes(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().lstrip("#") for part in value.split(",") if part.strip())
        return value

    @field_validator("digest_weekday")
    @classmethod
    def _known_weekday(cls, value: str) -> str:
        if value.strip().lower() not in WEEKDAY_NAMES:
            raise ValueError(f"a Dutch weekday: {', '.join(WEEKDAY_NAMES)}")
        return value.strip().lower()

    @field_validator("digest_time", "retention_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        time.fromisoformat(value.strip())  # raises for anything but HH:MM
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone name
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def channel(self, target: str, platform: str = "slack") -> str:
        """A channel role of the meeting series ("consultants", …) as this deployment's channel id on
        `platform` (Slack: NETWERKBOT_CHANNEL_…, Matrix: NETWERKBOT_MATRIX_ROOM_…); anything else is taken
        as a channel id already. Empty when the role has no channel set on that platform."""
        if platform == "matrix":
            roles = {"consultants": self.matrix_room_consultants, "inner_circle": self.matrix_room_inner_circle,
                     "outer_circle": self.matrix_room_outer_circle, "proposals": self.matrix_room_proposals}
        elif platform == "teams":
            roles = {"consultants": self.teams_channel_consultants, "inner_circle": self.teams_channel_inner_circle,
                     "outer_circle": self.teams_channel_outer_circle, "proposals": self.teams_channel_proposals}
        else:
            roles = {"consultants": self.channel_consultants, "inner_circle": self.channel_inner_circle,
                     "outer_circle": self.channel_outer_circle, "proposals": self.channel_proposals}
        return roles.get(target, target)

    def listens_for_questions(self, channel: str, platform: str) -> bool:
        """Whether the bot answers questions with experts in this channel (`NETWERKBOT_QUESTION_CHANNELS`:
        channel roles or ids)."""
        return bool(channel) and any(self.channel(c, platform) == channel for c in self.question_channels)

    @property
    def matrix_store(self) -> Path:
        """The folder of the Matrix crypto store (device keys, Olm and Megolm sessions)."""
        if self.matrix_store_path:
            return Path(self.matrix_store_path)
        url = self.database_url
        if url.startswith("sqlite") and "///" in url and ":memory:" not in url:
            database = Path(url.partition("///")[2].partition("?")[0])
            return database.with_name(database.stem + "-matrix-store")
        return Path("matrix-store")

    def matrix_may_invite(self, user_id: str) -> bool:
        """Whether the bot accepts an invitation from this Matrix user (NETWERKBOT_MATRIX_ALLOWED)."""
        allowed = self.matrix_allowed or frozenset({":" + self.matrix_user_id.partition(":")[2]})
        return user_id in allowed or any(entry.startswith(":") and user_id.endswith(entry) for entry in allowed)

    def is_coordinator(self, platform: str, user_id: str) -> bool:  # seeds the coordinators table only
        """`NETWERKBOT_COORDINATORS` lists platform user ids, bare (`U0123`) or as `platform:id`."""
        return user_id in self.coordinators or f"{platform}:{user_id}" in self.coordinators
