// The bridge of docs/APP-BRIDGE.md for the browser: the same object the desktop app's bridge exports, over a
// WebSocket to `/ws` on the page's own origin (the server that served this page). bridge.js picks it when the page
// runs outside the app.
//
// What only the desktop app can do (hosting a server, recent servers in the OS keyring, certificate pinning,
// moderating with the host's token, exporting a transcript, opening links in the system browser) is switched off in
// `features`, and the UI hides those controls. Notifications
// use the browser's Notification API when the user allows it. The session token of a registered nickname lives in
// this tab's sessionStorage (gone when the tab closes), never in localStorage or a URL, and never reaches the rest
// of the UI.

import { WebSession } from './web-session.js';
import { mentions, sameNick } from './names.js';

/** Where this tab keeps the session token for a nickname on this server (sessionStorage is per tab and origin). */
const TOKEN_KEY = 'parlor.session.';

const unsupported = (what) => ({ code: 'invalid_input', message: `${what} is only possible in the Parlor desktop app.` });

function storage() {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // Storage disabled: the token stays in memory only.
  }
}

/** The `ws:`/`wss:` URL of the chat on the server that served `location`. */
export function socketUrl(location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/** Creates the bridge for a page at `location` (window.location). `env` lets tests replace the browser's APIs. */
export function createWebBridge(location, env = {}) {
  const openSocket = env.openSocket || ((url) => new WebSocket(url));
  const NotificationApi = env.Notification !== undefined ? env.Notification : globalThis.Notification;
  const address = location.host;
  const canNotify = Boolean(NotificationApi) && globalThis.isSecureContext !== false;
  let session = null;
  let version = '';
  const notify = { dnd: false, muted: new Set(), active: '' };

  const tokenKey = (nick) => TOKEN_KEY + nick.toLowerCase();
  const readToken = (nick) => {
    try {
      return (storage() && storage().getItem(tokenKey(nick))) || '';
    } catch {
      return '';
    }
  };
  const saveToken = (nick) => (token) => {
    try {
      const s = storage();
      if (s && token) s.setItem(tokenKey(nick), token);
      else if (s) s.removeItem(tokenKey(nick));
    } catch {
      // Storage full or disabled: the token lives in the session object only.
    }
  };

  // The browser says the network is back: reconnect now rather than at the end of the backoff.
  if (typeof window !== 'undefined' && window.addEventListener) {
    window.addEventListener('online', () => session && session.retryNow());
  }

  function current() {
    if (!session) throw { code: 'not_connected', message: 'Not connected to a server.' };
    return session;
  }

  async function attempt(fn) {
    try {
      return fn();
    } catch (err) {
      if (err && typeof err.code === 'string') throw err;
      throw { code: 'internal', message: String((err && err.message) || err || 'Something went wrong.') };
    }
  }

  /** Notifications the desktop app raises natively: DMs from others and @mentions, unless watched or silenced. */
  function maybeNotify(event, me) {
    if (!canNotify || NotificationApi.permission !== 'granted' || notify.dnd) return;
    if (event.kind !== 'server' || !event.event || event.event.type !== 'message') return;
    const m = event.event;
    if (sameNick(m.from, me) || notify.muted.has(m.room)) return;
    const dm = m.room.startsWith('@');
    if (!dm && !mentions(m.text, me)) return;
    const watching = typeof document !== 'undefined' && document.hasFocus() && notify.active === m.room;
    if (watching) return;
    try {
      const title = dm ? `${m.from} (direct message)` : `${m.from} in ${m.room}`;
      const note = new NotificationApi(title, { body: String(m.text).slice(0, 200), tag: `${m.room}:${m.seq}` });
      note.onclick = () => {
        if (typeof window !== 'undefined') window.focus();
        note.close();
      };
    } catch {
      // Some browsers only allow notifications from a service worker: then there are none.
    }
  }

  function connect({ nick, password, accountPassword }, onEvent) {
    if (session) session.stop();
    // Asked while the click on Connect still counts as the user's gesture; the answer only matters later.
    if (canNotify && NotificationApi.permission === 'default' && typeof NotificationApi.requestPermission === 'function') {
      Promise.resolve(NotificationApi.requestPermission()).catch(() => {});
    }
    let me = nick;
    const mine = new WebSession({
      url: socketUrl(location),
      nick,
      credentials: { password, accountPassword, token: accountPassword ? '' : readToken(nick) },
      onEvent: (event) => {
        if (session !== mine) return; // An older connection still winding down.
        if (event.kind === 'server' && event.event && event.event.type === 'welcome') me = event.event.nick || me;
        onEvent(event);
        maybeNotify(event, me);
      },
      options: { openSocket, saveToken: saveToken(nick), clientName: `parlor-web/${version || '0'}` },
    });
    session = mine;
    mine.start();
    return { url: address, nick };
  }

  return Object.freeze({
    /** Always true: the browser has everything the chat needs. */
    available: true,
    /**
     * What this bridge can do beyond chatting, so the UI shows only controls that work: `host` (run a server),
     * `profiles` (recent servers with secrets in the OS keyring), `trust` (certificate pinning), `address` (connect
     * to any server rather than the page's own), `notifications` (the browser offers them at all), `moderate` (the
     * moderator's requests), `links` (links go through `openLink`).
     */
    features: Object.freeze({
      host: false,
      profiles: false,
      trust: false,
      address: false,
      // Browsers offer notifications to secure pages only (https, or a page from this computer).
      notifications: canNotify,
      // Moderating takes the server's moderator token, which only the host's app can read.
      moderate: false,
      // Links in messages open in a new tab by themselves (`target="_blank"`): there is no `openLink`.
      links: false,
    }),
    /** The server this page came from: the only one a browser page may talk to. */
    serverAddress: address,

    appInfo: () =>
      attempt(async () => {
        try {
          const health = await (env.fetch || fetch)('/health').then((r) => r.json());
          version = String(health.server || '').replace(/^parlor-server\//, '');
        } catch {
          version = '';
        }
        return { version, profiles: [] };
      }),
    autoConnect: async () => null,
    connect: (args, onEvent) => attempt(() => connect(args, onEvent)),
    disconnect: () =>
      attempt(() => {
        if (session) session.stop();
        session = null;
        return null;
      }),
    forgetProfile: async () => null,
    trustCertificate: () => Promise.reject(unsupported('Trusting a certificate')),
    register: ({ password }) => attempt(() => current().request({ type: 'register', password }) ?? null),
    logoutEverywhere: () => attempt(() => current().request({ type: 'logout_everywhere' }) ?? null),
    send: ({ room, text, replyTo }) => attempt(() => current().send(room, text, { replyTo })),
    sendPoll: ({ room, question, options, multiple }) =>
      attempt(() => current().send(room, question, { poll: { options: [...options], multiple: Boolean(multiple) } })),
    sendAnnouncement: () => Promise.reject(unsupported('Sending an announcement')),
    acknowledge: ({ room, seq }) => attempt(() => current().request({ type: 'acknowledge', room, seq }) ?? null),
    muteMember: () => Promise.reject(unsupported('Muting someone')),
    removeMember: () => Promise.reject(unsupported('Removing someone')),
    pinMessage: () => Promise.reject(unsupported('Pinning a message')),
    vote: ({ room, seq, choices }) => attempt(() => current().request({ type: 'vote', room, seq, choices: [...choices] }) ?? null),
    closePoll: ({ room, seq }) => attempt(() => current().request({ type: 'close_poll', room, seq }) ?? null),
    react: ({ room, seq, emoji, on }) =>
      attempt(() => current().request({ type: 'react', room, seq, emoji, on: Boolean(on) }) ?? null),
    editMessage: ({ room, seq, text }) => attempt(() => current().request({ type: 'edit', room, seq, text }) ?? null),
    deleteMessage: ({ room, seq }) => attempt(() => current().request({ type: 'delete', room, seq }) ?? null),
    // `password`: only on the join that answers `room_password_required` (the server remembers who entered).
    join: ({ room, password }) => attempt(() => current().join(room, password) ?? null),
    leave: ({ room }) => attempt(() => current().leave(room) ?? null),
    createRoom: ({ room, topic, password }) =>
      attempt(() => {
        const frame = { type: 'create_room', room };
        if (topic) frame.topic = topic;
        if (password) frame.password = password;
        return current().request(frame) ?? null;
      }),
    setRoomPassword: () => Promise.reject(unsupported('Setting a room password')),
    search: ({ room, query, before }) =>
      attempt(() => current().request(before != null ? { type: 'search', room, query, before } : { type: 'search', room, query }) ?? null),
    exportRoom: () => Promise.reject(unsupported('Exporting a transcript')),
    setTopic: ({ room, topic }) => attempt(() => current().request({ type: 'set_topic', room, topic }) ?? null),
    typing: ({ room, typing }) => attempt(() => current().request({ type: 'typing', room, typing: Boolean(typing) }) ?? null),
    raiseHand: ({ room, raised }) =>
      attempt(() => current().request({ type: 'raise_hand', room, raised: Boolean(raised) }) ?? null),
    history: ({ room, before, after }) => attempt(() => current().history(room, before, after) ?? null),
    hostStart: () => Promise.reject(unsupported('Hosting a room')),
    hostStop: () => Promise.reject(unsupported('Hosting a room')),
    hostStatus: async () => null,
    setNotifyPrefs: ({ dnd, muted }) =>
      attempt(() => {
        notify.dnd = Boolean(dnd);
        notify.muted = new Set(muted || []);
        return null;
      }),
    setActiveRoom: ({ room }) =>
      attempt(() => {
        notify.active = room || '';
        return null;
      }),
    setUnread: ({ total }) =>
      attempt(() => {
        if (typeof document !== 'undefined') document.title = total > 0 ? `(${total}) Parlor` : 'Parlor';
        return null;
      }),
  });
}
