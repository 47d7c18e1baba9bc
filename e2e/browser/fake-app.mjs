// The desktop app's moderator, in a browser page: a stand-in for the Tauri shell (`window.__TAURI__.core` with
// `invoke` and `Channel`, docs/APP-BRIDGE.md) that speaks the protocol over the page's own `/ws` and, like the app
// that hosts a server, sends the server's moderator token after `welcome`. The UI then runs as it does in the app
// (`features.moderate`), so the moderator's controls — Announce, Pin, Mute, Remove, Let back in, Unpin, Set room
// password — can be clicked in a test, and so can what only the app does: exporting a transcript (a made-up path,
// or the app's refusal when `window.__fakeApp.exportFails` is set), opening links (recorded in
// `window.__fakeApp.opened`, never navigated to) and hosting (`host_status` answers `options.host`). Only the
// commands those need are here; reconnecting and the outbox are the real app's.

import { serveUiDir } from './harness.mjs';

/** Runs in the page before its scripts (Playwright's init scripts are not subject to the page's CSP). */
function installShell({ moderatorToken, host }) {
  let ws = null;
  let channel = null;
  const write = (frame) => {
    if (!ws || ws.readyState !== 1) throw { code: 'not_connected', message: 'Not connected.' };
    ws.send(JSON.stringify(frame));
  };
  const emit = (event) => channel && channel.onmessage && channel.onmessage(event);
  const queue = (room, text, extra) => {
    const clientId = crypto.randomUUID();
    emit({ kind: 'queued', client_id: clientId, room, text, ...extra });
    write({ type: 'send', room, text, client_id: clientId, ...(extra.announce ? { announce: true } : {}), ...(extra.reply_to != null ? { reply_to: extra.reply_to } : {}) });
    return clientId;
  };
  const commands = {
    app_info: () => ({ version: 'test', profiles: [] }),
    auto_connect: () => null,
    host_status: () => host || null,
    connect: ({ nick, onEvent }) =>
      new Promise((resolve, reject) => {
        channel = onEvent;
        ws = new WebSocket(`ws://${location.host}/ws`);
        emit({ kind: 'state', state: 'connecting' });
        ws.onerror = () => reject({ code: 'internal', message: 'the socket failed' });
        ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, nick, client: 'fake-app' }));
        ws.onmessage = (e) => {
          const ev = JSON.parse(e.data);
          emit({ kind: 'server', event: ev });
          if (ev.type === 'welcome') {
            emit({ kind: 'state', state: 'online' });
            ws.send(JSON.stringify({ type: 'moderate', token: moderatorToken }));
            resolve({ url: location.host, nick: ev.nick });
          }
        };
      }),
    disconnect: () => ws && ws.close(),
    join_room: ({ room, password }) => write(password ? { type: 'join', room, password } : { type: 'join', room }),
    leave_room: ({ room }) => write({ type: 'leave', room }),
    create_room: ({ room, topic, password }) =>
      write({ type: 'create_room', room, ...(topic ? { topic } : {}), ...(password ? { password } : {}) }),
    set_room_password: ({ room, password }) =>
      write(password ? { type: 'set_room_password', room, password } : { type: 'set_room_password', room }),
    search_room: ({ room, query, before }) => write({ type: 'search', room, query, ...(before != null ? { before } : {}) }),
    export_room: ({ room, format }) => {
      if (window.__fakeApp.exportFails) {
        throw { code: 'invalid_input', message: `no room ${JSON.stringify(room)} in this computer's history; only rooms this computer hosted can be exported` };
      }
      return `/home/teacher/Downloads/parlor-${room}-20261122-0900.${format}`;
    },
    open_link: ({ url }) => {
      window.__fakeApp.opened.push(url);
    },
    load_history: ({ room, before, after }) =>
      write({ type: 'history', room, ...(before != null ? { before } : {}), ...(after != null ? { after } : {}) }),
    set_typing: ({ room, typing }) => write({ type: 'typing', room, typing }),
    send_message: ({ room, text, replyTo }) => queue(room, text, replyTo != null ? { reply_to: replyTo } : {}),
    send_announcement: ({ room, text }) => queue(room, text, { announce: true }),
    acknowledge: ({ room, seq }) => write({ type: 'acknowledge', room, seq }),
    mute_member: ({ room, nick, muted }) => write({ type: muted ? 'mute' : 'unmute', room, nick }),
    remove_member: ({ room, nick, removed }) => write({ type: removed ? 'remove' : 'readmit', room, nick }),
    pin_message: ({ room, seq }) => write(seq == null ? { type: 'unpin', room } : { type: 'pin', room, seq }),
  };
  window.__fakeApp = { calls: [], opened: [], exportFails: false };
  window.__TAURI__ = {
    core: {
      Channel: class {
        constructor() {
          this.onmessage = null;
        }
      },
      invoke: async (command, args = {}) => {
        window.__fakeApp.calls.push(command);
        const run = commands[command];
        const result = run ? await run(args) : null; // Preferences, unread counts, the active room: nothing to do.
        return result === undefined ? null : result;
      },
    },
  };
}

/**
 * A page of its own context running the UI as the desktop app of the host (a moderator once signed in), recording
 * page errors and CSP reports like openClient. `host`: what `hostStatus` answers (default: not hosting). Resolves
 * with `{ context, page, seen }`.
 */
export async function openApp(browser, server, { host = null } = {}) {
  const context = await browser.newContext();
  await serveUiDir(context);
  const page = await context.newPage();
  const seen = { errors: [] };
  page.on('pageerror', (err) => seen.errors.push(String(err)));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.addInitScript(installShell, { moderatorToken: server.moderatorToken(), host });
  await page.goto(server.url);
  return { context, page, seen };
}
