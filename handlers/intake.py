"""/feeds, /queue, the feed-reading job, and the buttons of proposed drafts."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden

from bot.context import BotContext
from bot.intake.records import Proposal, ProposalStatus
from bot.models import DraftOrigin
from bot.newsroom.admins import Role
from bot.newsroom.forms import FormError
from bot.numbers import bounded_int
from bot.outgoing import edit_html, send_html
from bot.render.incidents import esc
from bot.render.intake import (
    feed_added,
    feed_detail,
    feed_list,
    proposal_decided,
    proposal_text,
    queue_list,
)
from bot.render.newsroom import editable_form, form_problems
from bot.services import Services
from handlers.corrections import changed_or_waiting
from handlers.incoming import acting_user, acting_user_id, pressed
from handlers.posting import show_preview
from handlers.replies import UsageError, reply_html

log = logging.getLogger(__name__)

PROPOSAL_PREFIX = "prop"
BUTTON_PATTERN = rf"^{PROPOSAL_PREFIX}:(use|edit|discard|apply):\d+$"
FEED_READER = "feed-reader"
FEEDS_USAGE = (
    "/feeds lists the feeds; /feeds add URL adds one (/feeds add example: the bundled "
    "example feed); /feeds remove N removes one; /feeds N shows what it skipped and why."
)
_DECIDED = {
    ProposalStatus.USED: "✅ Used",
    ProposalStatus.EDITED: "✏️ Taken to edit",
    ProposalStatus.APPLIED: "✅ Applied",
    ProposalStatus.DISCARDED: "✖️ Discarded",
}


async def feeds(update: Update, context: BotContext) -> None:
    intake = context.services.intake
    zone = context.services.timezone
    args = context.args or []
    actor = acting_user_id(update)
    number = bounded_int(args[-1]) if args else None
    if not args:
        await reply_html(update, feed_list(await intake.feeds(), zone))
    elif args[0] == "add" and len(args) == 2:
        feed, read = await intake.add_feed(args[1], actor)
        await reply_html(update, feed_added(feed, read, zone))
        await send_proposals(context.bot, context.services, read.proposals)
    elif args[0] == "remove" and len(args) == 2 and number is not None:
        removed = await intake.remove_feed(number, actor)
        await reply_html(update, f"Feed {removed.id} removed: {esc(removed.url)}")
    elif len(args) == 1 and number is not None:
        feed, skipped = await intake.feed(number)
        await reply_html(update, feed_detail(feed, skipped, zone))
    else:
        raise UsageError(FEEDS_USAGE)


async def queue(update: Update, context: BotContext) -> None:
    intake = context.services.intake
    args = context.args or []
    if not args:
        waiting = await context.services.newsroom.awaiting_approval()
        required = context.services.newsroom.approvals_required
        await reply_html(
            update,
            queue_list(await intake.pending(), waiting, required, context.services.timezone),
        )
        return
    number = bounded_int(args[0].upper().removeprefix("P")) if len(args) == 1 else None
    if number is None:
        raise UsageError("/queue lists the proposals waiting; /queue N shows proposal N again.")
    proposal = await intake.proposal(number)
    markup = _buttons(proposal) if proposal.status is ProposalStatus.PENDING else None
    await reply_html(update, await _proposal_html(context.services, proposal), markup)


async def set_queue(update: Update, context: BotContext, value: str) -> None:
    """/settings queue on|off: whether this admin receives proposals in their private chat."""
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        raise UsageError("/settings queue is set in your private chat with the bot.")
    if await context.services.admins.role_of(acting_user_id(update)) is Role.NOBODY:
        raise UsageError("The review queue is for the bot's editors and owners.")
    if value not in ("on", "off"):
        raise UsageError("Give on or off, e.g. /settings queue off")
    await context.services.intake.set_queue(acting_user_id(update), value == "on")
    if value == "on":
        await reply_html(update, "✅ Saved. Proposed drafts from the feeds will come here.")
    else:
        await reply_html(update, "✅ Saved. No proposals will come here; /queue still lists them.")


async def read_feeds(context: BotContext) -> None:
    """The job: read the feeds that are due and send each new proposal to the admins."""
    for read in await context.services.intake.read_due_feeds():
        await send_proposals(context.bot, context.services, read.proposals)


async def send_proposals(bot: Bot, services: Services, proposals: list[Proposal]) -> None:
    if not proposals:
        return
    opted_out = await services.intake.opted_out()
    admins = [user for user in await services.admins.roles() if user not in opted_out]
    for proposal in proposals:
        html = await _proposal_html(services, proposal)
        for user_id in admins:
            try:
                sent, *_ = await send_html(bot, user_id, html, reply_markup=_buttons(proposal))
            except (BadRequest, Forbidden) as error:
                # An admin who never opened a chat with the bot cannot be written to.
                log.warning("could not send proposal P%s to %s: %s", proposal.id, user_id, error)
                continue
            await services.intake.remember_message(proposal.id, user_id, sent.message_id)


async def proposal_button(update: Update, context: BotContext) -> None:
    query, action, proposal_id = pressed(update)
    intake = context.services.intake
    actor = acting_user_id(update)
    await query.answer()
    if action == "apply":
        change = await intake.apply_update(proposal_id, actor, acting_user(update).full_name)
        await changed_or_waiting(update, context, change)
        decided = await intake.proposal(proposal_id)
        if decided.status is ProposalStatus.PENDING:
            return  # a correction waiting for a second approval: the proposal waits too
    elif action == "discard":
        decided = await intake.decide(proposal_id, ProposalStatus.DISCARDED, actor)
        await reply_html(update, f"P{proposal_id} discarded. Nothing was published.")
    elif action == "edit":
        decided = await intake.decide(proposal_id, ProposalStatus.EDITED, actor)
        note = "Change what needs changing and send it back:"
        await reply_html(update, editable_form("/post", decided.fields, note))
    else:
        decided = await intake.decide(proposal_id, ProposalStatus.USED, actor)
        await _open_preview(update, context, decided)
    await _close_copies(context, decided, acting_user(update).full_name)


async def _open_preview(update: Update, context: BotContext, proposal: Proposal) -> None:
    """The normal preview, with Publish: nothing reaches subscribers before someone presses it."""
    try:
        shown = await context.services.newsroom.propose(
            acting_user_id(update), proposal.fields, DraftOrigin.ARTICLE
        )
    except FormError as error:
        await reply_html(update, form_problems(error.problems))
        note = "Complete the proposal and send it back:"
        await reply_html(update, editable_form("/post", proposal.fields, note, blanks=True))
        return
    await show_preview(update, context, shown)


async def _close_copies(context: BotContext, proposal: Proposal, actor: str) -> None:
    """Every admin's copy loses its buttons and says who decided it, so no one decides twice."""
    html = proposal_decided(
        await _proposal_html(context.services, proposal), _DECIDED[proposal.status], actor
    )
    for chat_id, message_id in await context.services.intake.messages_of(proposal.id):
        try:
            await edit_html(context.bot, chat_id, message_id, html)
        except (BadRequest, Forbidden) as error:
            log.warning("could not close the copy of P%s in %s: %s", proposal.id, chat_id, error)


async def _proposal_html(services: Services, proposal: Proposal) -> str:
    feed_name = "a feed that was since removed"
    if proposal.feed_id is not None:
        feed, _ = await services.intake.feed(proposal.feed_id)
        feed_name = feed.name
    # Once decided, the differences are history: an applied update differs no more.
    differences = (
        await services.intake.differences(proposal)
        if proposal.status is ProposalStatus.PENDING
        else None
    )
    return proposal_text(proposal, feed_name, differences, services.timezone, services.clock.now())


def _buttons(proposal: Proposal) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        data = f"{PROPOSAL_PREFIX}:{action}:{proposal.id}"
        return InlineKeyboardButton(label, callback_data=data)

    if proposal.update_of is not None:
        row = [button("Apply", "apply"), button("Use as new", "use"), button("Discard", "discard")]
    else:
        row = [button("Use", "use"), button("Edit", "edit"), button("Discard", "discard")]
    return InlineKeyboardMarkup([row])
