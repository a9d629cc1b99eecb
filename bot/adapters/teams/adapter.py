"""The Teams adapter: the Microsoft 365 Agents SDK's CloudAdapter turned into inputs, outcomes delivered,
and the outbox's way out.

Teams posts each activity to `POST /api/messages` with a token the SDK checks (bot/adapters/teams/serving.py);
the SDK's `CloudAdapter` runs one turn per activity and gives it a connector client for the activity's
`serviceUrl`. An activity is handled inside its turn: Teams waits for the HTTP answer (up to 15 s), so what
the bot answers is sent, and what changed is committed, before Teams hears "202". A press or a submit is an
`adaptiveCard/action` invoke: its answer for the presser alone goes in the invoke response (a message
only they see, or the form card again with its errors). An answer for one person in a channel is a
targeted message (Teams' private message in a shared conversation).

What the bot says by itself goes through the outbox to `send`: the channel of a role (NETWERKBOT_TEAMS_CHANNEL_…)
or a member's personal chat, proactively, with the conversation Teams described when the bot was installed
there (kept in the database, storage/teams.py). Teams' 429 with Retry-After and its 5xx are "later" for the outbox.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import ClientError, ClientResponseError
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    InvokeResponse,
    ResourceResponse,
)
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    ClaimsIdentity,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import AuthTypes
from microsoft_agents.hosting.core.authorization.connection_manager import ConnectionManager
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from bot.adapters.base import MAX_PROFILES_CHECKED, PROFILE_CHECK_SECONDS, AdapterBase
from bot.adapters.teams.events import PLATFORM, Origin, base_id, command_of, idea_of, origin_of, person
from bot.adapters.teams.render import FORM_VERB, attachment, card, form_card, form_of, form_values
from bot.adapters.teams.state import Known, TeamsState
from bot.core.inputs import Action, FormSubmission, MembershipChanged
from bot.core.port import DeliveryDelayed, DeliveryRefused, Port, Profile
from bot.core.reply import Audience, Form, FormRejected, Reply
from config.settings import CIRCLE_ROLES, Settings

log = logging.getLogger(__name__)

TokenProviders = Callable[[AgentAuthConfiguration], AccessTokenProviderBase]
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
IDEA_COMMAND = "idee"


def missing_settings(settings: Settings) -> list[str]:
    """The app id and secret come together, or not at all (then only unauthenticated local tests work)."""
    if bool(settings.teams_app_id) == bool(settings.teams_app_password):
        return []
    return ["TEAMS_APP_PASSWORD" if settings.teams_app_id else "TEAMS_APP_ID"]


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's configuration of the bot registration; without an app id every request is anonymous."""
    secret = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    return AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret, client_id=settings.teams_app_id or None,
        tenant_id=settings.teams_tenant_id or None, client_secret=secret,
        anonymous_allowed=not settings.teams_app_id)


def token_providers() -> TokenProviders:
    from microsoft_agents.authentication.msal import MsalAuth

    return MsalAuth


def delivery_error(error: Exception) -> Exception:
    """The Bot Connector's answer as the outbox reads it: 429, 5xx and no connection are for later."""
    if isinstance(error, ClientResponseError):
        if error.status == 429 or error.status >= 500:
            retry: float | None = None
            with contextlib.suppress(TypeError, ValueError):
                retry = max(float(str(error.headers.get("Retry-After", "") if error.headers else "")), 0.0)
            return DeliveryDelayed(f"Teams {error.status}", retry)
        return DeliveryRefused(f"Teams refused: {error.status}")
    if isinstance(error, ClientError | OSError | TimeoutError):
        return DeliveryDelayed(f"Teams unreachable: {error!r}")
    return error


def team_of(activity: Activity) -> str:
    """The team a channel activity came from (Teams says it in channelData)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    return str(data["team"].get("id") or "") if isinstance(data.get("team"), dict) else ""


class TeamsAdapter(AdapterBase[Origin]):
    platform = PLATFORM

    def __init__(self, port: Port, store: TeamsState, *, providers: TokenProviders | None = None) -> None:
        super().__init__(port)
        self.store = store
        settings = port.settings
        self.app_id = settings.teams_app_id
        self.auth = auth_configuration(settings)
        connections = ConnectionManager(providers or token_providers(),
                                        connections_configurations={"SERVICE_CONNECTION": self.auth})
        self.cloud = CloudAdapter(connection_manager=connections)
        self.cloud.on_turn_error = self.turn_failed
        if not self.app_id:  # without credentials (local tests) the SDK warns at every turn: once is enough
            logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client").setLevel(
                logging.ERROR)
        self.names: dict[str, str] = {}  # user id → the name Teams gave in their last activity
        self.remembered: dict[str, tuple[tuple[str, ...], float]] = {}  # conversation id → what was kept, when

    async def turn_failed(self, context: TurnContext, error: Exception) -> None:
        """A turn that raised: logged (no text, no traceback to the person), a short apology where it can go."""
        log.error("Teams turn (%s) failed", context.activity.type, exc_info=error)
        with contextlib.suppress(Exception):
            if context.activity.type == ActivityTypes.message:
                await self.post(context, self.activity(Reply.text(self.t("teams.sorry"), error=True)))
            elif context.activity.type == ActivityTypes.invoke:  # the presser hears it, not "501"
                await self.respond(context, 200, {"statusCode": 200, "type": MESSAGE_RESPONSE,
                                                  "value": self.t("teams.sorry")})

    # -- the turn (the SDK's Agent protocol) ------------------------------------------------------------

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        origin = origin_of(context)
        if origin.actor.user_id and origin.actor.name:
            if len(self.names) >= MAX_PROFILES_CHECKED:
                self.names.clear()
            self.names[origin.actor.user_id] = origin.actor.name
        if activity.type == ActivityTypes.message:
            await self.remember(activity)
            submitted = activity.value if isinstance(activity.value, dict) else None
            if submitted is not None and not activity.text:  # Action.Submit of an older card
                await self.pressed(submitted, origin)
            elif (command := command_of(activity, origin.actor)) is not None:
                await self.deliver(await self.dispatch(command), origin)
        elif activity.type in (ActivityTypes.conversation_update, ActivityTypes.installation_update):
            await self.installed(context)
        elif activity.type == ActivityTypes.invoke:
            await self.invoked(context, origin)

    async def invoked(self, context: TurnContext, origin: Origin) -> None:
        activity = context.activity
        value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
        if activity.name == "adaptiveCard/action":
            action: dict[str, Any] = value["action"] if isinstance(value.get("action"), dict) else {}
            data: dict[str, Any] = action["data"] if isinstance(action.get("data"), dict) else {}
            await self.pressed(data | {"verb": str(action.get("verb") or "")}, origin)
            body = origin.answered or {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": self.t("teams.done")}
        elif activity.name == "composeExtension/submitAction":
            body = await self.idea_action(activity, origin)
        else:
            await self.respond(context, 501, None)
            return
        await self.respond(context, 200, body)

    async def respond(self, context: TurnContext, status: int, body: Any) -> None:
        await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                             value=InvokeResponse(status=status, body=body)))

    async def pressed(self, data: dict[str, Any], origin: Origin) -> None:
        """A button (its action id and value) or a form's submit (its id, state and inputs)."""
        actor = origin.actor
        if data.get("verb") == FORM_VERB or ("form_id" in data and "action_id" not in data):
            submission = FormSubmission(str(data.get("form_id", "")), form_values(data), actor,
                                        state=str(data.get("state", "")), channel=origin.conversation,
                                        delivery_id=f"teams:{origin.activity_id}" if origin.activity_id else "")
            origin.closing_form = True
            await self.deliver(await self.dispatch(submission), origin)
            if origin.invoke and not origin.answered and (form := form_of(data)) is not None:
                done = Reply.text(self.t("teams.form_sent", title=form.title))  # the form card, filled in: closed
                origin.answered = {"statusCode": 200, "type": CARD_RESPONSE, "value": card(done, self.t)}
            return
        press = Action(str(data.get("action_id") or data.get("verb") or ""), str(data.get("value", "")), actor,
                       channel=origin.conversation,
                       delivery_id=f"teams:{origin.activity_id}" if origin.activity_id else "")
        await self.deliver(await self.dispatch(press), origin)

    async def idea_action(self, activity: Activity, origin: Origin) -> dict[str, Any]:
        """The message extension "Maak er een idee van": the message becomes an idea (as a 💡 would on Slack)."""
        reaction = idea_of(activity, origin.actor)
        if reaction is None:
            return {"composeExtension": {"type": "message", "text": self.t("teams.malformed")}}
        authors = (reaction.message_author,) if reaction.message_author is not None else ()
        origin.conversation = reaction.channel
        await self.deliver(await self.dispatch(reaction, *authors), origin)
        if origin.answered.get("type") == MESSAGE_RESPONSE:
            return {"composeExtension": {"type": "message", "text": origin.answered["value"]}}
        return {}

    # -- where the bot is: conversation references and circle rosters -----------------------------------

    async def remember(self, activity: Activity) -> None:
        conversation = activity.conversation
        if conversation is None or not conversation.id or not activity.service_url:
            return
        kind = str(conversation.conversation_type or "personal")
        team = team_of(activity)
        user = person(activity.from_property).user_id if kind == "personal" else ""
        found = (base_id(activity), kind, activity.service_url, str(conversation.tenant_id or ""), team,
                 str(activity.recipient.id if activity.recipient else ""), user)
        kept = self.remembered.get(found[0])
        if kept is not None and kept[0] == found and time.monotonic() - kept[1] < PROFILE_CHECK_SECONDS:
            return  # kept a moment ago by this process: no write per message (again after ten minutes, in case
            # the row went with a forgotten member)
        await self.store.remember(*found)
        if len(self.remembered) >= MAX_PROFILES_CHECKED:
            self.remembered.clear()
        self.remembered[found[0]] = (found, time.monotonic())

    async def installed(self, context: TurnContext) -> None:
        """The bot added to a team, channel or chat (or removed from it): its reference kept (or dropped).
        Whoever joins or leaves a team changes its channels' members: a circle's channel in that team has its
        roster read again."""
        activity = context.activity
        bot = activity.recipient.id if activity.recipient else ""
        removed = any(m.id == bot for m in activity.members_removed or []) or activity.action == "remove"
        conversation = base_id(activity)
        if removed:
            self.remembered.pop(conversation, None)
            await self.store.forget(conversation)
            return
        await self.remember(activity)
        team = team_of(activity)
        for role in CIRCLE_ROLES:
            channel = self.port.settings.channel(role, PLATFORM)
            found = await self.store.conversation(channel) if channel else None
            if found is not None and (channel == conversation or (team and found.team_id == team)):
                await self.read_roster(context, channel)

    async def read_roster(self, context: TurnContext, conversation: str) -> None:
        client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
        if client is None:
            return
        try:
            members = await client.conversations.get_conversation_members(conversation)
        except (ClientError, OSError, TimeoutError) as error:
            log.warning("roster of %s not read: %r", conversation, error)
            return
        ids = tuple(person(m).user_id for m in members if person(m).user_id)
        await self.port.membership(MembershipChanged(PLATFORM, conversation, members=ids))

    async def sync_circles(self) -> None:
        """At start: the circles' channels' members from the team roster, where the bot was installed."""
        for role in CIRCLE_ROLES:
            conversation = self.port.settings.channel(role, PLATFORM)
            if conversation and (found := await self.store.conversation(conversation)) is not None:
                async def read(context: TurnContext, channel: str = conversation) -> None:
                    await self.read_roster(context, channel)

                try:
                    await self.proactive(found, read)
                except Exception as error:  # a roster not read is logged, the bot serves on
                    log.warning("members of the %s channel not read: %r", role, error)

    # -- delivering (the table of bot/adapters/base.py) ------------------------------------------------------

    def activity(self, reply: Reply, *, targeted: str = "") -> Activity:
        found = Activity(type=ActivityTypes.message, summary=reply.plain()[:200],
                         attachments=[attachment(card(reply, self.t))])
        if targeted:
            found.with_targeted_recipient(ChannelAccount(id=targeted, role="user"))
        return found

    async def deliver_reply(self, reply: Reply, origin: Origin) -> None:
        assert origin.context is not None
        context = origin.context
        if reply.audience is Audience.GROUP:  # Teams bots cannot open group chats: each in their personal chat
            for member in reply.group:
                if (user := member.user_id(PLATFORM)) and user != origin.actor.user_id:
                    try:
                        await self.send(f"teams-user:{user}", reply)
                    except (DeliveryRefused, DeliveryDelayed) as error:
                        log.warning("group answer not delivered to %s: %s", user, error)
        if reply.audience in (Audience.CHANNEL, Audience.THREAD) or not origin.shared:
            if origin.invoke and reply.audience is Audience.ACTOR and not origin.answered:
                origin.answered = self.invoke_answer(reply, origin)
                return
            sent = self.activity(reply)
            if reply.audience is Audience.THREAD and origin.activity_id:
                sent.reply_to_id = origin.activity_id
            await self.post(context, sent)
            return
        if origin.invoke and not origin.answered:
            origin.answered = self.invoke_answer(reply, origin)
            return
        sent_to = context.activity.from_property.id if context.activity.from_property else ""
        await self.post(context, self.activity(reply, targeted=str(sent_to or "")))

    async def post(self, context: TurnContext, activity: Activity) -> ResourceResponse | None:
        """Send one activity of ours in the turn's conversation (as `TurnContext.send_activity` does, without
        its deep copy of the activity: a card of a long list took milliseconds to copy)."""
        reply_to = activity.reply_to_id
        TurnContext.apply_conversation_reference(activity, context.activity.get_conversation_reference())
        if reply_to:
            activity.reply_to_id = reply_to  # in a thread of our choosing (a proactive post)
        [response] = await self.cloud.send_activities(context, [activity])
        return response

    def invoke_answer(self, reply: Reply, origin: Origin) -> dict[str, Any]:
        """A press's answer for the presser alone: a plain message when it is one text, else the card (which
        takes the place of the pressed card: a filled-in form, a page of results)."""
        if len(reply.parts) == 1 and not reply.replace_original and not origin.closing_form and reply.plain():
            return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": reply.plain()}
        return {"statusCode": 200, "type": CARD_RESPONSE, "value": card(reply, self.t)}

    async def deliver_form(self, form: Form, origin: Origin) -> None:
        """A form is a card with inputs of its own (for the asker alone in a channel); its submit is a press."""
        assert origin.context is not None
        sent = Activity(type=ActivityTypes.message, attachments=[attachment(form_card(form, self.t))])
        sender = origin.context.activity.from_property
        if origin.shared and sender is not None:
            sent.with_targeted_recipient(ChannelAccount(id=sender.id, role="user"))
        await self.post(origin.context, sent)
        if origin.invoke and not origin.answered:
            origin.answered = {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": self.t("teams.form_below")}

    async def deliver_rejected(self, rejected: FormRejected, origin: Origin) -> None:
        """A refused submit: the same form again, each error above its field, what was typed kept."""
        activity = origin.context.activity if origin.context else None
        value = activity.value if activity is not None and isinstance(activity.value, dict) else {}
        data = value["action"].get("data") if isinstance(value.get("action"), dict) else value
        shown = form_of(data) if isinstance(data, dict) else None
        if shown is not None and origin.invoke:
            origin.answered = {"statusCode": 200, "type": CARD_RESPONSE,
                               "value": form_card(shown, self.t, rejected.errors, form_values(data or {}))}
            return
        await super().deliver_rejected(rejected, origin)

    # -- the outbox's way out (bot/outbox.py) ------------------------------------------------------------

    async def conversation_of(self, channel: str) -> Known:
        """A channel role, `member:<id>` or `teams-user:<id>` as the conversation the bot keeps for it."""
        if channel.startswith("member:"):
            channel = "teams-user:" + await self.member_account(channel, "teams.member_not_on_teams")
        if channel.startswith("teams-user:"):
            user = channel.removeprefix("teams-user:")
            return await self.store.personal(user) or await self.open_personal(user)
        target = self.port.settings.channel(channel, PLATFORM)
        if not target:
            raise DeliveryRefused(self.t("teams.channel_not_set", role=channel))
        found = await self.store.conversation(target)
        if found is None:
            raise DeliveryRefused(self.t("teams.not_installed", role=channel))
        return found

    async def open_personal(self, user: str) -> Known:
        """A personal chat with `user` created through the connector (Teams allows it where the app is
        installed for them, e.g. in a team they are in), and kept."""
        seed = await self.store.latest()
        if seed is None:
            raise DeliveryRefused(self.t("teams.no_personal_chat"))
        created: list[str] = []

        async def create(context: TurnContext) -> None:
            client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
            assert client is not None
            result = await client.conversations.create_conversation(ConversationParameters(
                is_group=False, agent=ChannelAccount(id=seed.bot_id), members=[ChannelAccount(id=user)],
                tenant_id=seed.tenant_id or None))
            created.append(str(result.id or ""))

        async with self.sorted_failures():
            await self.proactive(seed, create)
        if not created or not created[0]:
            raise DeliveryRefused(self.t("teams.no_personal_chat"))
        await self.store.remember(created[0], "personal", seed.service_url, seed.tenant_id, "", seed.bot_id, user)
        found = await self.store.conversation(created[0])
        assert found is not None
        return found

    async def proactive(self, found: Known, work: Callable[[TurnContext], Awaitable[None]]) -> None:
        """Run `work` in a proactive turn in the conversation; what it raises is raised here."""
        reference = Activity(type=ActivityTypes.event, name="ContinueConversation", channel_id="msteams",
                             service_url=found.service_url,
                             conversation=ConversationAccount(id=found.conversation_id, conversation_type=found.kind,
                                                              tenant_id=found.tenant_id or None),
                             recipient=ChannelAccount(id=found.bot_id or self.app_id or "bot", role="bot"),
                             from_property=ChannelAccount(id=found.bot_id or self.app_id or "bot", role="bot"))
        failed: list[Exception] = []

        async def run(context: TurnContext) -> None:
            try:
                await work(context)
            except Exception as error:  # handed back to the caller below
                failed.append(error)

        identity = ClaimsIdentity({}) if not self.app_id else self.cloud.create_claims_identity(self.app_id)
        await self.cloud.continue_conversation_with_claims(identity, reference, run)
        if failed:
            raise failed[0]

    @contextlib.asynccontextmanager
    async def sorted_failures(self) -> AsyncIterator[None]:
        try:
            yield
        except Exception as error:
            raise delivery_error(error) from error

    async def send(self, channel: str, reply: Reply) -> str:
        """One proactive message (in the thread of `reply.thread` when set); its ref is `conversation/activity`."""
        found = await self.conversation_of(channel)
        sent: list[str] = []

        async def post(context: TurnContext) -> None:
            activity = self.activity(reply)
            if reply.thread:
                activity.reply_to_id = reply.thread.rpartition("/")[2]
            response = await self.post(context, activity)
            sent.append(str(response.id if response else ""))

        async with self.sorted_failures():
            await self.proactive(found, post)
        return f"{found.conversation_id}/{sent[0] if sent else ''}"

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        """Replace a message `send` posted (a vote's tally): updateActivity of its conversation and id."""
        conversation, _, activity_id = ref.rpartition("/")
        found = await self.store.conversation(conversation) or await self.conversation_of(channel)

        async def replace(context: TurnContext) -> None:
            activity = self.activity(reply)
            activity.id = activity_id
            activity.conversation = ConversationAccount(id=conversation)
            client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
            assert client is not None
            await client.conversations.update_activity(conversation, activity_id, activity)

        async with self.sorted_failures():
            await self.proactive(found, replace)

    async def fetch_profile(self, user_id: str) -> Profile | None:
        """The name Teams gave with the person's activity (Teams sends it with every message)."""
        name = self.names.get(user_id)
        return Profile(name=name) if name else None
