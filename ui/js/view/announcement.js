// An announcement inside its message (`.announcement-box`): the "I've read it" button (`.ack-btn`) for whoever is
// asked to confirm it, "✓ Read" once they did, the tally (`.ack-tally`, "2 of 5 have read it") for everyone, and for
// the sender and moderators who has not read it yet (`.ack-missing`). The room's members come from `ctx.members`:
// someone who comes online later is "not yet" at once. The counting is announcements.js's.

import { ackTally, canAcknowledge, hasAcknowledged, missingText, seesMissing, tallyText } from '../announcements.js';
import { el, setText, show } from './dom.js';

/** The `.announcement-box` block, empty; `updateAnnouncement` fills it. */
export function createAnnouncement() {
  return el(
    'div',
    { class: 'announcement-box' },
    el('span', { class: 'announcement-label', text: 'Announcement' }),
    el('button', { type: 'button', class: 'btn small primary ack-btn', text: "I've read it", hidden: true }),
    el('span', { class: 'ack-done', text: '✓ Read', hidden: true }),
    el('span', { class: 'ack-tally' }),
    el('span', { class: 'ack-missing', hidden: true }),
  );
}

/**
 * Fills the box for stored (or `pending`) message `m`. `ctx`: `{ me, moderating, members }` (`members`: who is
 * online in the room now).
 */
export function updateAnnouncement(box, m, ctx, pending) {
  const [, ack, done, tally, missing] = box.children;
  show(ack, !pending && canAcknowledge(m, ctx.me));
  show(done, !pending && hasAcknowledged(m, ctx.me));
  if (pending) {
    setText(tally, 'Sending…');
    show(missing, false);
    return;
  }
  const t = ackTally(m, ctx.members || []);
  setText(tally, tallyText(t));
  const who = seesMissing(m, ctx.me, ctx.moderating) ? missingText(t) : '';
  setText(missing, who);
  show(missing, Boolean(who));
}
