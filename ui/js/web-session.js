// One browser connection to a Parlor server, kept alive across drops: the part of the desktop app's client core the
// web bridge needs, written from docs/PROTOCOL.md (§5 handshake, §11 reconnecting and resuming, §13 errors).
//
// It reconnects with exponential backoff and jitter, resumes every joined room from the last `seq` it holds
// (`join` with `after`, and `after_rev` for the messages that changed meanwhile), replays direct conversations that
// grew or changed while it was away, resends unacknowledged messages (polls and replies included) with their
// original `client_id` (the server acknowledges a duplicate instead of posting it twice), and drops `message`s it
// has already delivered. It reports to `onEvent` in the bridge's event shapes (docs/APP-BRIDGE.md).
// The WebSocket and the timers are injected, so the logic runs in Node without a browser.

/** Reconnect waits (PROTOCOL.md §11): 1 s doubling up to 30 s, ±20 % random jitter. */
export const BACKOFF = Object.freeze({ initialMs: 1000, maxMs: 30000, jitter: 0.2 });

/** How long the connection may stay silent before a `ping` checks it, and how long the answer may take. */
const QUIET_MS = 25000;
const PING_TIMEOUT_MS = 10000;

/** `hello` refusals that retrying cannot fix: the user must change something (PROTOCOL.md §13). */
const FINAL_HELLO_ERRORS = new Set([
  'unsupported_version', 'password_required', 'wrong_password', 'invalid_nick', 'sign_in_required',
  'wrong_credentials', 'nick_claimed', 'bad_message',
]);

/** Refusals of a `join` after which the room is not held: a reconnect must not ask for it again by itself. */
const JOIN_REFUSALS = new Set(['room_password_required', 'wrong_room_password', 'no_such_room', 'removed_from_room', 'invalid_room']);

/** Refusals of a `send` after which the message stays pending and goes out again later. */
const RETRIED_SEND_ERRORS = new Set(['storage_failed', 'rate_limited', 'unavailable']);

/** The wait before reconnect attempt `attempt` (1, 2, …), with `random` in [0, 1) choosing the jitter. */
export function backoffDelay(attempt, random = Math.random(), backoff = BACKOFF) {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + backoff.jitter * (2 * random - 1)));
}

/**
 * A fresh random UUID (version 4) for a `client_id`. `crypto.randomUUID` exists only in secure contexts (https, or
 * a page from localhost), and a student on the LAN usually opens plain `http://ADDRESS:PORT/`: there the same UUID
 * is made from `crypto.getRandomValues`, which every context has.
 */
export function newClientId(cryptoApi = globalThis.crypto) {
  if (typeof cryptoApi.randomUUID === 'function') return cryptoApi.randomUUID();
  const b = cryptoApi.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Why the connection ended, as a short phrase for the banner. */
function closeReason(event) {
  if (event && event.code === 1001) return 'the server is restarting';
  if (event && event.reason) return event.reason;
  return 'the connection to the server was lost';
}

/** The `send` frame of a pending message (PROTOCOL.md §6.8), with its poll or the `seq` it answers. */
function sendFrame(clientId, { room, text, poll, replyTo }) {
  const frame = { type: 'send', room, text, client_id: clientId };
  if (poll) frame.poll = { options: [...poll.options], multiple: Boolean(poll.multiple) };
  if (replyTo != null) frame.reply_to = replyTo;
  return frame;
}

export class WebSession {
  /**
   * `url`: the `ws(s)://…/ws` to open. `credentials`: `{ password, accountPassword, token }` (any may be empty).
   * `onEvent`: receives bridge events. `options`: `openSocket(url)` (a WebSocket), `saveToken(token)` (keeps a
   * new session token where the bridge decides), `clientName`, and `timers` (`setTimeout`/`clearTimeout`).
   */
  constructor({ url, nick, credentials, onEvent, options }) {
    this.url = url;
    this.nick = nick;
    this.password = credentials.password || '';
    this.accountPassword = credentials.accountPassword || '';
    this.token = credentials.token || '';
    this.onEvent = onEvent;
    this.openSocket = options.openSocket;
    this.saveToken = options.saveToken || (() => {});
    this.clientName = options.clientName || 'parlor-web';
    this.timers = options.timers || { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t) };
    this.random = options.random || Math.random;
    /** Joined rooms → the highest `seq` held (null until the first `joined`). */
    this.rooms = new Map();
    /** Direct conversations → the highest `seq` held. */
    this.dms = new Map();
    /** Rooms whose newest history page was asked for: its last `seq` counts as held. */
    this.newestAsked = new Set();
    /** Per room, the `seq`s already delivered, so a replayed or repeated `message` is shown once. */
    this.delivered = new Map();
    /**
     * Per room and DM, the highest revision seen (`joined.last_rev`, `message_updated.rev`): a resume asks with
     * `after_rev` for the earlier messages that changed since (votes, reactions, edits, deletions).
     */
    this.revs = new Map();
    /**
     * Room → the password of a `join` not answered yet. The server remembers who entered, so the password goes
     * only with that join (and its repeat, should the connection drop before `joined`), never with a resume.
     */
    this.roomPasswords = new Map();
    /** Unacknowledged sends, `client_id` → `{ room, text, poll, replyTo }`, in the order they were sent. */
    this.pending = new Map();
    this.ws = null;
    this.online = false;
    this.welcomed = false;
    this.stopped = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.resendTimer = null;
    this.lastHeard = 0;
  }

  /** Opens the first connection. */
  start() {
    this.emit({ kind: 'state', state: 'connecting' });
    this.open();
  }

  /** Closes for good (the user disconnected); pending messages are dropped with the session. */
  stop() {
    this.stopped = true;
    this.online = false;
    for (const timer of [this.retryTimer, this.pingTimer, this.resendTimer]) if (timer) this.timers.clearTimeout(timer);
    if (this.ws) this.ws.close(1000, 'bye');
    this.ws = null;
  }

  emit(event) {
    if (this.stopped) return;
    try {
      this.onEvent(event);
    } catch (err) {
      // A rendering bug must not break the stream for the events that follow.
      console.error('parlor: event handler failed', err, event);
    }
  }

  open() {
    if (this.stopped) return;
    let ws;
    try {
      ws = this.openSocket(this.url);
    } catch (err) {
      this.lost(String((err && err.message) || err));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.heard();
      this.write(this.hello());
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      this.heard();
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch {
        return; // Not ours to understand; the protocol only sends JSON objects.
      }
      if (ev && typeof ev === 'object' && typeof ev.type === 'string') this.receive(ev);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.lost(closeReason(e));
    };
    ws.onerror = () => {}; // A close event always follows and says what to do.
  }

  hello() {
    const hello = { type: 'hello', protocol: 1, nick: this.nick, client: this.clientName };
    if (this.password) hello.password = this.password;
    const auth = {};
    if (this.token) auth.token = this.token;
    if (this.accountPassword) auth.password = this.accountPassword;
    if (Object.keys(auth).length) hello.auth = auth;
    return hello;
  }

  /** Sends one frame if the socket is open; false when it is not. */
  write(frame) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a request that needs a live, greeted connection; throws the bridge's `not_connected` otherwise. */
  request(frame) {
    if (!this.online || !this.write(frame)) {
      throw { code: 'not_connected', message: 'Not connected to the server right now; try again when it is back.' };
    }
  }

  /**
   * Queues a message (sent at once when online, else after the reconnect) and returns its `client_id`. `poll`
   * (`{ options, multiple }`) makes it a poll whose question is `text`; `replyTo` is the `seq` it answers. A resend
   * repeats all of it with the same `client_id`.
   */
  send(room, text, { poll = null, replyTo = null } = {}) {
    const clientId = newClientId();
    const entry = { room, text, poll, replyTo: Number.isSafeInteger(replyTo) ? replyTo : null };
    this.pending.set(clientId, entry);
    const queued = { kind: 'queued', client_id: clientId, room, text };
    if (poll) queued.poll = poll;
    if (entry.replyTo != null) queued.reply_to = entry.replyTo;
    this.emit(queued);
    if (this.online) this.write(sendFrame(clientId, entry));
    return clientId;
  }

  join(room, password = '') {
    this.request(password ? { type: 'join', room, password } : { type: 'join', room });
    if (password) this.roomPasswords.set(room, password);
    else this.roomPasswords.delete(room);
    if (room.startsWith('@')) {
      if (!this.dms.has(room)) this.dms.set(room, null);
    } else if (!this.rooms.has(room)) {
      this.rooms.set(room, null);
    }
  }

  leave(room) {
    this.request({ type: 'leave', room });
    this.rooms.delete(room);
    this.roomPasswords.delete(room);
  }

  history(room, before, after) {
    const frame = { type: 'history', room };
    if (before != null) frame.before = before;
    if (after != null) frame.after = after;
    this.request(frame);
    if (before == null && after == null) this.newestAsked.add(room);
  }

  // --- Liveness ---------------------------------------------------------------------------------------------------

  heard() {
    this.lastHeard = Date.now();
    if (this.pingTimer) this.timers.clearTimeout(this.pingTimer);
    this.pingTimer = this.timers.setTimeout(() => this.checkAlive(), QUIET_MS);
  }

  /** After a quiet spell: a `ping`, and if nothing at all comes back in time the connection is given up. */
  checkAlive() {
    const ws = this.ws;
    if (!ws || !this.write({ type: 'ping', nonce: 'alive' })) return;
    this.pingTimer = this.timers.setTimeout(() => {
      if (this.ws !== ws) return;
      this.ws = null;
      ws.close(4000, 'no answer');
      this.lost('the server stopped answering');
    }, PING_TIMEOUT_MS);
  }

  // --- Connection lost, refused, reconnecting ---------------------------------------------------------------------

  lost(reason) {
    const wasOnline = this.online;
    this.online = false;
    if (this.stopped) return;
    if (wasOnline) this.attempt = 0;
    this.attempt += 1;
    const wait = backoffDelay(this.attempt, this.random());
    this.emit({ kind: 'state', state: 'reconnecting', attempt: this.attempt, retry_in_ms: wait, reason });
    if (this.retryTimer) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, wait);
  }

  /** A refusal nothing automatic can fix: say why and stop. */
  final(reason) {
    this.emit({ kind: 'state', state: 'offline', reason });
    this.stop();
  }

  /** Tries again now instead of waiting out the backoff (e.g. the browser says the network is back). */
  retryNow() {
    if (this.stopped || this.ws || !this.retryTimer) return;
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.open();
  }

  // --- Server events ----------------------------------------------------------------------------------------------

  receive(ev) {
    switch (ev.type) {
      case 'welcome':
        return this.welcome(ev);
      case 'error':
        return this.refused(ev);
      case 'joined':
        return this.joined(ev);
      case 'message':
        return this.message(ev);
      case 'message_updated':
        if (Number.isSafeInteger(ev.rev) && ev.rev > (this.revs.get(ev.room) || 0)) this.revs.set(ev.room, ev.rev);
        return this.emit({ kind: 'server', event: ev });
      case 'ack':
        this.pending.delete(ev.client_id);
        return this.emit({ kind: 'server', event: ev });
      case 'history':
        return this.historyPage(ev);
      case 'left':
        // Also sent unasked when a moderator removed this user: the room is not rejoined after a reconnect (the
        // server would refuse it with `removed_from_room`).
        this.rooms.delete(ev.room);
        return this.emit({ kind: 'server', event: ev });
      case 'registered': {
        // The token stays in the bridge: the page's scripts never see it.
        if (typeof ev.token === 'string') this.keepToken(ev.token);
        return this.emit({ kind: 'server', event: { type: 'registered', nick: ev.nick } });
      }
      case 'logged_out':
        // Every token is revoked, this one included: the next connection needs the password.
        this.keepToken('');
        return this.emit({ kind: 'server', event: ev });
      case 'pong':
        return undefined;
      default:
        return this.emit({ kind: 'server', event: ev });
    }
  }

  keepToken(token) {
    this.token = token;
    this.saveToken(token);
  }

  welcome(ev) {
    const { session_token: token, ...welcome } = ev;
    if (typeof token === 'string' && token) {
      this.keepToken(token);
      this.accountPassword = ''; // Traded for the token: not kept a moment longer.
    }
    const again = this.welcomed;
    this.welcomed = true;
    this.online = true;
    this.attempt = 0;
    this.emit({ kind: 'server', event: welcome });
    this.emit({ kind: 'state', state: 'online' });
    if (!again) return;
    // A reconnect: rejoin every room from what it holds, replay direct conversations that grew, then resend what
    // was never acknowledged (requests take effect in order, so each send follows its room's join).
    for (const [room, held] of this.rooms) this.write(held == null ? this.firstJoin(room) : this.resume(room, held));
    for (const dm of welcome.dms || []) {
      const held = this.dms.get(dm.room);
      // A conversation that did not grow may still hold messages that changed meanwhile.
      if (held != null && (dm.last_seq > held || this.revs.has(dm.room))) this.write(this.resume(dm.room, held));
    }
    this.resendPending();
  }

  /** The `join` of a room never entered on this session: with its password while that join is unanswered. */
  firstJoin(room) {
    const password = this.roomPasswords.get(room);
    return password ? { type: 'join', room, password } : { type: 'join', room };
  }

  /** The `join` that resumes `room` from `held`: its missed messages, and the held ones changed since. */
  resume(room, held) {
    const frame = { type: 'join', room, after: held };
    if (this.revs.has(room)) frame.after_rev = this.revs.get(room);
    return frame;
  }

  resendPending() {
    for (const [clientId, entry] of this.pending) {
      if (!this.write(sendFrame(clientId, entry))) return;
    }
  }

  refused(ev) {
    if (!this.welcomed || !this.online) {
      if (FINAL_HELLO_ERRORS.has(ev.code)) {
        if (ev.code === 'wrong_credentials') this.keepToken('');
        return this.final(ev.message || ev.code);
      }
      if (ev.code === 'nick_taken') {
        // After a drop the server may still hold the old connection for a while: retry with backoff. At the very
        // first connection the name simply belongs to someone else.
        if (!this.welcomed) return this.final(ev.message || ev.code);
        const ws = this.ws;
        this.ws = null;
        if (ws) ws.close(1000, 'retrying');
        return this.lost(ev.message || 'the nickname is still held by the previous connection');
      }
    }
    if (JOIN_REFUSALS.has(ev.code) && typeof ev.room === 'string') {
      // Not entered: forget the room (and a wrong password) so that no reconnect repeats the refused join.
      this.roomPasswords.delete(ev.room);
      if (this.rooms.get(ev.room) === null) this.rooms.delete(ev.room);
    }
    if (ev.client_id && this.pending.has(ev.client_id) && !RETRIED_SEND_ERRORS.has(ev.code)) {
      this.pending.delete(ev.client_id);
    }
    if (ev.code === 'rate_limited' || ev.code === 'storage_failed') this.scheduleResend(ev.retry_after_ms || 1000);
    this.emit({ kind: 'server', event: ev });
  }

  scheduleResend(ms) {
    if (this.resendTimer || !this.pending.size) return;
    this.resendTimer = this.timers.setTimeout(() => {
      this.resendTimer = null;
      if (this.online) this.resendPending();
    }, ms);
  }

  joined(ev) {
    const room = ev.room;
    this.roomPasswords.delete(room); // Entered: the server remembers this nickname from now on.
    const last = Number(ev.last_seq) || 0;
    if (room.startsWith('@')) {
      const held = this.dms.get(room);
      this.dms.set(room, held == null ? last : Math.min(held, last));
    } else {
      const held = this.rooms.get(room);
      // A first join holds nothing before `last_seq` (the UI pages it); a resume holds what it held, unless the
      // server's copy is behind (its data was reset); a gap's messages are skipped for good.
      let next = held == null ? last : Math.min(held, last);
      if (ev.gap) next = Math.max(next, Number(ev.gap.to) || 0);
      this.rooms.set(room, next);
      if (last < (held || 0)) this.delivered.delete(room);
    }
    // The room's newest revision: the changes up to it are in this reply (or in the history the UI reloads when
    // `updates_dropped` says they did not fit). A smaller one than held means the server's data was reset.
    if (Number.isSafeInteger(ev.last_rev)) this.revs.set(room, ev.last_rev);
    this.emit({ kind: 'server', event: ev });
  }

  message(ev) {
    const room = ev.room;
    let seen = this.delivered.get(room);
    if (!seen) {
      seen = new Set();
      this.delivered.set(room, seen);
    }
    if (seen.has(ev.seq)) return;
    seen.add(ev.seq);
    if (seen.size > 5000) seen.delete(seen.values().next().value); // Oldest first: Sets keep insertion order.
    const map = room.startsWith('@') ? this.dms : this.rooms;
    if (room.startsWith('@') || map.has(room)) map.set(room, Math.max(map.get(room) || 0, ev.seq));
    this.emit({ kind: 'server', event: ev });
  }

  historyPage(ev) {
    if (this.newestAsked.delete(ev.room) && ev.room.startsWith('@') && ev.messages && ev.messages.length) {
      const last = ev.messages[ev.messages.length - 1].seq;
      this.dms.set(ev.room, Math.max(this.dms.get(ev.room) || 0, last));
    }
    this.emit({ kind: 'server', event: ev });
  }
}
