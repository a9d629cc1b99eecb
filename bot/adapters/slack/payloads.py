"""What a signed Slack request may look like, one schema per payload kind, checked before bolt routes it.

A signature says who sent a request, not that it is well formed: a command without `user_id`, a
press whose `user` is a string, `private_metadata` that is a JSON list, an event whose `item` is
a string. Each kind the bot listens to has a pydantic model of the fields the adapter reads (with
Slack's types, strictly: a number is no string; ids look like Slack ids; no NUL characters, which
PostgreSQL refuses, and no text longer than Slack allows). What does not fit is answered at the
edge and changes nothing: a command or a shortcut gets a Dutch message in the ack's body, a form
submission a modal saying so, a press or an event a plain 200 (Slack shows nothing for those,
and an event answered otherwise would only be sent again). Kinds nobody listens to (shortcuts,
closed modals, other events) are answered 200 here, so bolt never logs their bodies as unhandled.

`judge` takes the body as bolt parsed it (`AsyncBoltRequest.body`), so what is checked is exactly
what the listeners get.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,40}$")]
Name = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\x00]*$")]
Stamp = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,6})?$")]
MAX_TEXT = 40_000  # Slack's own limit of a message's text
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT, pattern=r"^[^\x00]*$")]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^(https?://[^\s\x00]*)?$")]

LISTENED_EVENTS = frozenset({"message", "reaction_added", "member_joined_channel", "member_left_channel",
                             "app_home_opened"})
LISTENED_INTERACTIONS = frozenset({"block_actions", "view_submission", "shortcut", "message_action"})


class Strict(BaseModel):
    """Slack's types as they are (no "1" for 1); fields the bot does not read may be anything."""

    model_config = ConfigDict(strict=True, extra="allow")


# -- slash commands (form fields, all strings) ---------------------------------------------------------


class SlashCommand(Strict):
    command: Annotated[str, StringConstraints(pattern=r"^/[^\s\x00]{1,32}$")]
    text: Text = ""
    user_id: SlackId
    user_name: Name = ""
    channel_id: SlackId | Literal[""] = ""
    response_url: Url = ""
    trigger_id: Name = ""


# -- interactions (the JSON of the `payload` field) ----------------------------------------------------


class User(Strict):
    id: SlackId
    name: Name = ""
    username: Name = ""


class Channel(Strict):
    id: SlackId


class Pressed(Strict):
    action_id: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]
    value: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")] = ""
    action_ts: Stamp | None = None


class BlockActions(Strict):
    type: Literal["block_actions"]
    user: User
    channel: Channel | None = None
    response_url: Url = ""
    trigger_id: Name = ""
    actions: list[Pressed] = Field(min_length=1, max_length=25)


class Option(Strict):
    value: Annotated[str, StringConstraints(max_length=150, pattern=r"^[^\x00]*$")]


class InputState(Strict):
    type: Name
    value: Annotated[str, StringConstraints(max_length=3000, pattern=r"^[^\x00]*$")] | None = None
    selected_option: Option | None = None


class ViewState(Strict):
    values: dict[Name, dict[Name, InputState]] = Field(default_factory=dict)


class Block(Strict):
    type: Name
    block_id: Name = ""


class Metadata(Strict):
    """What `modal()` put in `private_metadata`: the form's state and the channel to answer in."""

    state: Annotated[str, StringConstraints(max_length=3000, pattern=r"^[^\x00]*$")] = ""
    channel: SlackId | Literal[""] = ""


class View(Strict):
    type: Name  # bolt reads it (a workflow step's view is told apart by it)
    callback_id: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]
    private_metadata: str = ""
    state: ViewState = Field(default_factory=ViewState)
    blocks: list[Block] = Field(default_factory=list, max_length=100)

    @field_validator("private_metadata")
    @classmethod
    def _metadata(cls, value: str) -> str:
        if value:
            try:
                Metadata.model_validate(json.loads(value))
            except ValueError as error:  # json.JSONDecodeError and ValidationError are both ValueErrors
                raise ValueError("private_metadata is not the bot's") from error
        return value


class ViewSubmission(Strict):
    type: Literal["view_submission"]
    user: User
    trigger_id: Name = ""
    view: View


# -- events (JSON) -------------------------------------------------------------------------------------


class Posted(Strict):
    """A message inside a message event (`message`, `previous_message`)."""

    user: SlackId | None = None
    text: Text | None = None
    ts: Stamp | None = None
    thread_ts: Stamp | None = None
    bot_id: Name | None = None
    subtype: Name | None = None
    edited: dict[str, Any] | None = None


class MessageEvent(Posted):
    type: Literal["message"]
    channel: SlackId
    message: Posted | None = None
    previous_message: Posted | None = None
    deleted_ts: Stamp | None = None


class Item(Strict):
    type: Name
    channel: SlackId | None = None
    ts: Stamp | None = None


class ReactionEvent(Strict):
    type: Literal["reaction_added"]
    user: SlackId
    reaction: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
    item: Item


class EventCallback(Strict):
    type: Literal["event_callback"]
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    event: dict[str, Any]


class MembershipEvent(Strict):
    type: Literal["member_joined_channel", "member_left_channel"]
    user: SlackId
    channel: SlackId


class HomeOpened(Strict):
    """The member opened the app's Home (or Messages, or About) tab (issue 17)."""

    type: Literal["app_home_opened"]
    user: SlackId
    tab: Name = "home"


EVENT_MODELS: dict[str, type[Strict]] = {"message": MessageEvent, "reaction_added": ReactionEvent,
                                         "member_joined_channel": MembershipEvent,
                                         "member_left_channel": MembershipEvent, "app_home_opened": HomeOpened}


# -- shortcuts (issue 17) ------------------------------------------------------------------------------

CallbackId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]


class GlobalShortcut(Strict):
    type: Literal["shortcut"]
    user: User
    callback_id: CallbackId
    trigger_id: Name


class MessageShortcut(Strict):
    """A shortcut on a message: the message as Slack gives it (its text may be empty: a file, a bot's blocks)."""

    type: Literal["message_action"]
    user: User
    callback_id: CallbackId
    trigger_id: Name
    channel: Channel
    response_url: Url = ""
    message_ts: Stamp
    message: Posted


# -- the verdict ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """How the edge answers a signed request it does not hand to bolt.

    `status` 200 with `tell` set: the ack carries a Dutch message (as ephemeral text, or as a modal
    for a form submission); without `tell`, an empty 200 (nothing to show, nothing to send again)."""

    status: int = 200
    tell: Literal["", "text", "modal"] = ""
    reason: str = ""  # for the log: the kind and what failed, never a value


def _errors(error: ValidationError) -> str:
    """Where validation failed (field paths), without the values that were sent; a path through a
    sender's own keys (the blocks of a form) shows them as "*"."""
    return ", ".join(".".join(p if isinstance(p, str) and p.isidentifier() and len(p) <= 40 else "*"
                              for p in e["loc"]) or "body" for e in error.errors()[:5])


def is_slash_command(body: Mapping[str, Any]) -> bool:
    """Whether a parsed body is a slash command (form fields with `command` and no `type`)."""
    return "command" in body and body.get("type") is None


def judge(body: Any) -> Refusal | None:
    """None when bolt may route `body` to a listener; otherwise how to answer it."""
    if not isinstance(body, Mapping):
        return Refusal(400, reason="body is not an object")
    kind = body.get("type")
    named = kind if isinstance(kind, str) and len(kind) <= 40 and kind.replace("_", "").isalnum() else "?"
    try:
        if is_slash_command(body):
            SlashCommand.model_validate(dict(body))
            return None
        if kind == "block_actions":
            BlockActions.model_validate(dict(body))
            return None
        if kind == "view_submission":
            ViewSubmission.model_validate(dict(body))
            return None
        if kind in ("shortcut", "message_action"):
            (GlobalShortcut if kind == "shortcut" else MessageShortcut).model_validate(dict(body))
            return None
        if kind == "event_callback":
            callback = EventCallback.model_validate(dict(body))
            model = EVENT_MODELS.get(str(callback.event.get("type")))
            if model is None:
                return Refusal(reason="an event not listened to")
            model.model_validate(callback.event)
            return None
    except ValidationError as error:
        tell: Literal["", "text", "modal"] = "text" if kind in (None, "shortcut", "message_action") \
            else "modal" if kind == "view_submission" else ""
        return Refusal(tell=tell, reason=f"{named if kind is not None else 'command'}: {_errors(error)}")
    if kind == "url_verification" and isinstance(body.get("challenge"), str) and len(body["challenge"]) <= 200:
        return None
    if body.get("ssl_check") == "1":
        return None
    return Refusal(reason=f"kind {named!r} not listened to")
