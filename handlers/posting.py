"""/post (one-shot form or guided conversation), /draft, and the preview's buttons."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    ConversationHandler,
)

from bot.context import BotContext
from bot.models import Draft, DraftOrigin, DraftPurpose, Incident, IncidentChange
from bot.newsroom.admins import Role
from bot.newsroom.changes import (
    AwaitingApproval,
    DraftAction,
    NewsroomError,
    NotYourDraft,
    Preview,
)
from bot.newsroom.extracted_form import fields_from_proposal
from bot.newsroom.extractor import propose_incident
from bot.newsroom.forms import FormError, parse_form
from bot.newsroom.guided_post import (
    DONE_WORDS,
    STEPS,
    AnswerError,
    Step,
    mark_answered,
    next_step,
)
from bot.outgoing import drop_buttons, edit_html, fits_one_message, send_html
from bot.render.incidents import esc
from bot.render.newsroom import (
    approvals_line,
    collected_sources,
    correction_done,
    editable_form,
    form_problems,
    pending_change,
    preview,
)
from handlers.incoming import (
    acting_user,
    acting_user_id,
    carries_button,
    links_in,
    message_of,
    pressed,
    shown_html,
    text_after_command,
)
from handlers.replies import UsageError, reply_html

log = logging.getLogger(__name__)

DRAFT_PREFIX = "draft"
BUTTON_PATTERN = rf"^{DRAFT_PREFIX}:(use|publish|edit|cancel):[0-9]+$"
CONVERSATION = "guided_post"  # the name its state is persisted under: keep it
ASKING = 1  # the guided conversation's one state: a question is waiting for its answer


async def post(update: Update, context: BotContext) -> int:
    """/post with a form shows its preview; /post alone starts (or resumes) the guided one."""
    form = text_after_command(message_of(update))
    user_id = acting_user_id(update)
    if form:
        parsed = parse_form(form)
        if parsed.problems:
            # Every problem in one reply: the fields' own, besides a misspelt key's.
            raise FormError(
                [*parsed.problems, *context.services.newsroom.problems_of(parsed.fields)]
            )
        shown = await context.services.newsroom.propose(user_id, parsed.fields, DraftOrigin.FORM)
        await show_preview(update, context, shown)
        return ConversationHandler.END
    draft = await context.services.newsroom.guided_draft(user_id)
    if draft.fields:
        await reply_html(update, "Carrying on with your unfinished draft (/cancel drops it).")
    else:
        await reply_html(update, "Let's post an incident, one question at a time. /cancel stops.")
    return await _ask_next(update, context)


async def guided_answer(update: Update, context: BotContext) -> int:
    newsroom = context.services.newsroom
    user_id = acting_user_id(update)
    if await context.services.admins.role_of(user_id) is Role.NOBODY:
        # Revoked mid-conversation: the answers stop counting, and the draft goes.
        await newsroom.drop_guided_draft(user_id)
        await reply_html(update, "You are no longer an editor: your unfinished draft is dropped.")
        return ConversationHandler.END
    draft = await newsroom.guided_draft(user_id)
    step = next_step(draft.fields)
    if step is None:
        return await _ask_next(update, context)
    text = message_of(update).text or ""
    if step.collects:
        return await _collect(update, context, draft, step, text)
    try:
        answers = step.to_fields(text)
    except AnswerError as error:
        await reply_html(update, esc(str(error)))
        return ASKING
    problem = await newsroom.answer(draft.id, {**answers, **mark_answered(draft.fields, step)})
    if problem:
        await reply_html(update, f"{esc(problem)}\nPlease answer again.")
        return ASKING
    return await _ask_next(update, context)


async def _collect(update: Update, context: BotContext, draft: Draft, step: Step, text: str) -> int:
    """A step answered over several messages (the sources) until the admin sends "done";
    each message adds to what was collected, and a bad one is refused on its own."""
    newsroom = context.services.newsroom
    collected = [value for value in draft.fields.get(step.name, []) if value.strip()]
    if text.strip().casefold() in DONE_WORDS:
        if not collected:
            await reply_html(update, "No source yet: send at least one before “done”.")
            return ASKING
        await newsroom.answer(draft.id, mark_answered(draft.fields, step))
        return await _ask_next(update, context)
    try:
        answers = step.to_fields(text)
    except AnswerError as error:
        await reply_html(update, f"{esc(str(error))}\nNothing was added; send it again.")
        return ASKING
    added = [value for value in answers[step.name] if value not in collected]
    problem = await newsroom.answer(draft.id, {step.name: [*collected, *added]})
    if problem:
        await reply_html(update, f"{esc(problem)}\nNothing was added; send it again.")
        return ASKING
    await reply_html(update, collected_sources([*collected, *added]))
    return ASKING


async def _ask_next(update: Update, context: BotContext) -> int:
    newsroom = context.services.newsroom
    draft = await newsroom.guided_draft(acting_user_id(update))
    step = next_step(draft.fields)
    if step is not None:
        number = STEPS.index(step) + 1
        question = step.question.format(timezone=context.services.settings.bot.timezone)
        await reply_html(update, f"<b>{number}/{len(STEPS)}</b> {esc(question)}")
        return ASKING
    try:
        shown = await newsroom.preview(draft.id)
    except FormError as error:
        # Each answer was valid alone; together they are not (rare). Start the form over.
        await newsroom.cancel(draft.id)
        await reply_html(update, form_problems(error.problems))
        return ConversationHandler.END
    await show_preview(update, context, shown)
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    draft = await context.services.newsroom.guided_draft(acting_user_id(update))
    await context.services.newsroom.cancel(draft.id)
    await reply_html(update, "Draft dropped. Nothing was published.")
    return ConversationHandler.END


async def propose_from_report(update: Update, context: BotContext) -> None:
    message = message_of(update)
    text = text_after_command(message)
    if not text and message.reply_to_message is not None:
        message = message.reply_to_message
        text = message.text or ""
    if not text.strip():
        raise UsageError("Paste the report after /draft, or reply /draft to a message holding it.")

    # Off the event loop: reading a long report takes a while, and other users wait for no one.
    proposal = await asyncio.to_thread(propose_incident, text, published=message.date.date())
    # The report's own links are its sources; without one, the form asks for a source.
    fields = fields_from_proposal(proposal) | {"source": links_in(message) or [""]}
    draft_id = await context.services.newsroom.keep_proposed(acting_user_id(update), fields)
    notes = (
        "Proposed from the report — check every line: “Use this draft” previews it as it "
        "is; or change it and send it back as /post."
    )
    if proposal.notes:
        notes += "\n" + "\n".join(f"• {note}" for note in proposal.notes)
    markup = InlineKeyboardMarkup([[_draft_button("Use this draft", "use", draft_id)]])
    await reply_html(update, editable_form("/post", fields, notes, blanks=True), markup)


async def draft_button(update: Update, context: BotContext) -> None:
    """Use, Publish (Approve), Edit or Cancel of a draft: what happens is decided from the
    draft as stored, never from the (possibly stale) message, so a double tap cannot
    contradict itself."""
    query, pressed_action, draft_id = pressed(update)
    action = DraftAction(pressed_action)
    await query.answer()
    newsroom = context.services.newsroom
    user_id = acting_user_id(update)
    try:
        if action is DraftAction.USE:
            shown = await newsroom.open_preview(draft_id, user_id)
        elif action is DraftAction.PUBLISH:
            outcome = await newsroom.approve(draft_id, user_id, acting_user(update).full_name)
        else:
            draft = await newsroom.withdraw(draft_id, user_id, action)
    except NotYourDraft:
        # Forged button data: refused and audited, and the message pressed on is left as is.
        await context.services.admins.record_refusal(user_id, f"{action} of draft {draft_id}")
        raise
    except NewsroomError as refusal:
        await _close_preview(query, str(refusal))
        raise
    if action is DraftAction.USE:
        await _close_preview(query, "👁 Preview below.")
        await show_preview(update, context, shown)
    elif action is DraftAction.PUBLISH:
        await _carried_out(update, context, outcome)
    elif action is DraftAction.EDIT:
        await _close_preview(query, "✏️ Being edited.")
        note = "Change what needs changing and send it back:"
        await reply_html(update, editable_form("/post", draft.fields, note))
    elif draft.changes_incident is not None:
        await _close_preview(query, f"✖️ Cancelled. #{draft.changes_incident} is unchanged.")
    else:
        await _close_preview(query, "✖️ Cancelled. Nothing was published.")


async def _carried_out(
    update: Update, context: BotContext, outcome: Incident | IncidentChange | AwaitingApproval
) -> None:
    query = update.callback_query
    assert query is not None
    if isinstance(outcome, AwaitingApproval):
        await ask_second_approval(update, context, outcome)
    elif isinstance(outcome, Incident):
        await _close_preview(query, f"✅ Published as #{outcome.id}.")
        await reply_html(update, f"Published as #{outcome.id}. /incident {outcome.id} shows it.")
    else:
        await _close_preview(query, f"✅ Applied to #{outcome.after.id}.")
        await reply_html(update, correction_done(outcome, context.services.timezone))


async def show_preview(update: Update, context: BotContext, shown: Preview) -> None:
    markup = InlineKeyboardMarkup(
        [[_draft_button(label, action, shown.draft_id)
          for label, action in (("Publish", "publish"), ("Edit", "edit"), ("Cancel", "cancel"))]]
    )  # fmt: skip
    await reply_html(update, preview(shown, context.services.timezone), markup)


async def ask_second_approval(
    update: Update, context: BotContext, waiting: AwaitingApproval
) -> None:
    """Two-person rule: every other admin gets the draft (a new incident's preview, or a
    correction or retraction) with "Approve and publish" (or "… apply") and "Cancel"."""
    newsroom = context.services.newsroom
    approved = approvals_line(waiting)
    others = [
        user_id
        for user_id in await context.services.admins.roles()
        if user_id not in waiting.approver_ids
    ]
    zone = context.services.timezone
    if waiting.purpose is DraftPurpose.PUBLISH:
        shown = preview(await newsroom.preview(waiting.draft_id), zone)
        approve_label, again, applied = "Approve and publish", "Publish", "published"
    else:
        shown = pending_change(await newsroom.pending_change(waiting.draft_id))
        approve_label, again, applied = "Approve and apply", "Approve and apply", "applied"
    markup = InlineKeyboardMarkup(
        [[_draft_button(approve_label, "publish", waiting.draft_id),
          _draft_button("Cancel", "cancel", waiting.draft_id)]]
    )  # fmt: skip
    text = f"<b>{esc(approved)}</b>\n\n{shown}"
    query = update.callback_query
    message = query.message if query is not None else None
    if query is None or not (query.data or "").startswith(f"{DRAFT_PREFIX}:"):
        # A correction or retraction typed as a command (or a feed proposal's Apply):
        # its author's own copy, with Cancel (and the approval, pressed again, sends it
        # to admins granted since).
        await reply_html(update, text, markup)
    elif waiting.newly and isinstance(message, Message) and (pressed_on := shown_html(message)):
        # Publish stays: pressed again, it sends the draft to admins granted since.
        again_markup = InlineKeyboardMarkup(
            [[_draft_button(again, "publish", waiting.draft_id),
              _draft_button("Cancel", "cancel", waiting.draft_id)]]
        )  # fmt: skip
        await edit_html(
            message.get_bot(), message.chat_id, message.message_id,
            f"{pressed_on}\n\n<b>{esc(approved)}</b>", reply_markup=again_markup,
        )  # fmt: skip
    if not others:
        await reply_html(
            update,
            f"{esc(approved)}. No other admin can give the second approval: grant an editor "
            f"with /grant USER_ID, then press {again} again to send it to them.",
        )
        return
    sent = 0
    for user_id in others:
        try:
            await send_html(context.bot, user_id, text, reply_markup=markup)
            sent += 1
        except (BadRequest, Forbidden) as error:
            log.warning(
                "could not ask %s to approve draft %s: %s", user_id, waiting.draft_id, error
            )
    await reply_html(
        update,
        f"{esc(approved)}. Sent to {sent} other admin(s); it is {applied} when one of them "
        "approves it.",
    )


def _draft_button(label: str, action: str, draft_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=f"{DRAFT_PREFIX}:{action}:{draft_id}")


async def _close_preview(query: CallbackQuery, status: str) -> None:
    # The buttons go, so that the preview no longer invites a press. Only a message that
    # carries the pressed button is a draft's: forged data pressed on another (/help, say)
    # leaves it as it is.
    message = query.message
    if not isinstance(message, Message) or (shown := shown_html(message)) is None:
        return
    if not carries_button(message, query.data):
        return
    closed = f"{shown}\n\n<b>{esc(status)}</b>"
    if fits_one_message(closed):
        await edit_html(message.get_bot(), message.chat_id, message.message_id, closed)
    else:
        # A preview near Telegram's limit has no room for the status line: it goes
        # below, and the preview loses only its buttons.
        await drop_buttons(message)
        await send_html(message.get_bot(), message.chat_id, f"<b>{esc(status)}</b>")
