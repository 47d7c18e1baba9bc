// Accounts and certificates: "Register this nickname…", "Log out everywhere", and the dialog shown when a server's
// certificate changed.
//
// Secrets only ever go one way: the UI hands the shell a password the user typed, and clears the field. Session
// tokens stay in the shell (and the OS keyring); no event brings one here.

import { sentence } from './connect.js';
import { setText, show, openModal, closeModal } from './view/dom.js';

const $ = (id) => document.getElementById(id);

/** The shortest account password the server accepts (PROTOCOL.md, `register`). */
export const MIN_PASSWORD_CHARS = 8;

/** What is wrong with a new password typed twice, as a sentence with what to do, or '' when it is fine. */
export function passwordProblem(password, again) {
  if (!password) return 'Type a password for your nickname.';
  if ([...password].length < MIN_PASSWORD_CHARS) {
    return `Use at least ${MIN_PASSWORD_CHARS} characters: a longer password is harder to guess.`;
  }
  if (password !== again) return 'The two passwords are not the same. Type the same password twice.';
  return '';
}

export function setupAccount(app) {
  const { bridge } = app;
  const registerBtn = $('register-btn');
  const logoutBtn = $('logout-everywhere-btn');
  const registerDialog = $('register-dialog');
  const registerForm = $('register-form');
  const password = $('register-password');
  const again = $('register-password2');
  const registerError = $('register-error');
  const registerSubmit = $('register-submit-btn');
  const trustDialog = $('trust-dialog');
  const trustError = $('trust-error');
  const trustAccept = $('trust-accept-btn');
  /** The fingerprint the trust dialog shows: exactly what "Trust" trusts. */
  let shownFingerprint = '';

  // --- Register ---------------------------------------------------------------------------------------------------

  function registerFail(message, focus = password) {
    setText(registerError, sentence(message));
    show(registerError, Boolean(message));
    if (message && focus) focus.focus();
  }

  registerBtn.addEventListener('click', () => {
    setText($('register-nick'), app.state.me || (app.state.session && app.state.session.nick) || '');
    password.value = '';
    again.value = '';
    registerFail('', null);
    registerSubmit.disabled = false;
    app.state.account = { pending: false, error: '' };
    openModal(registerDialog);
    password.focus();
  });

  $('register-cancel-btn').addEventListener('click', () => closeModal(registerDialog));

  registerForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const problem = passwordProblem(password.value, again.value);
    if (problem) {
      registerFail(problem, password.value && [...password.value].length >= MIN_PASSWORD_CHARS ? again : password);
      return;
    }
    const typed = password.value;
    // The password is on its way: it does not stay in the page.
    password.value = '';
    again.value = '';
    registerFail('', null);
    registerSubmit.disabled = true;
    app.state.account = { pending: true, error: '' };
    try {
      await bridge.register({ password: typed });
    } catch (err) {
      app.state.account = { pending: false, error: err.message };
    }
    app.render(true);
  });

  // --- Log out everywhere -----------------------------------------------------------------------------------------

  logoutBtn.addEventListener('click', async () => {
    try {
      await bridge.logoutEverywhere();
    } catch (err) {
      app.note(err.message);
    }
  });

  // --- Changed certificate ----------------------------------------------------------------------------------------

  trustAccept.addEventListener('click', async () => {
    trustAccept.disabled = true;
    show(trustError, false);
    // The shell starts a new connection, which knows none of the rooms: the UI starts over as for a new connect
    // (reopening the saved conversations), before the new connection's first event can arrive.
    const untrusted = app.state.conn;
    app.restartSession();
    let result;
    try {
      result = await bridge.trustCertificate({ fingerprint: shownFingerprint });
    } catch (err) {
      app.state.conn = untrusted;
      app.render();
      trustAccept.disabled = false;
      setText(trustError, sentence(err.message));
      show(trustError, true);
      return;
    }
    closeModal(trustDialog);
    app.trusted(result);
  });

  $('trust-disconnect-btn').addEventListener('click', () => {
    closeModal(trustDialog);
    app.disconnect('You did not trust the new certificate, so Parlor is not connected to that server.', true);
  });

  return {
    /** Shows the changed-certificate dialog for the `untrusted` state `conn`. */
    showTrust(conn) {
      shownFingerprint = conn.presented || '';
      setText($('trust-reason'), sentence(conn.reason));
      setText($('trust-expected'), conn.expected || '');
      setText($('trust-presented'), conn.presented || '');
      show(trustError, false);
      trustAccept.disabled = !shownFingerprint;
      openModal(trustDialog);
      $('trust-disconnect-btn').focus();
    },
    /** Closes the certificate dialog (the user went back to the connect screen). */
    hideTrust() {
      closeModal(trustDialog);
    },
    /** Brings the register dialog up to date with the server's answer. */
    render() {
      const s = app.state;
      if (!registerDialog.open) return;
      if (s.account.pending && s.conn.state !== 'online') {
        s.account = { pending: false, error: 'The connection dropped before the server answered. Try again once it is back.' };
      }
      if (!s.account.pending && s.identity === 'account') {
        closeModal(registerDialog);
        return;
      }
      registerSubmit.disabled = s.account.pending;
      if (s.account.error && registerError.hidden) registerFail(s.account.error);
    },
  };
}
