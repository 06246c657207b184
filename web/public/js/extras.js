/*
 * Page extras, kept apart from app.js:
 * - editorSignals: how the code arrived in the editor (paste sizes and times, typing time, edit
 *   count), sent with a submission. Only events of the editor itself; never the pasted text, never
 *   other tabs or the clipboard.
 * - githubPanel: the GitHub link's state and, after an AC, the commit URL.
 * - staffPanel: for staff only, a submission's paste signals and closest matches, and the selected
 *   problem's clusters. Everything from the API is set as text (fragments are other users' code).
 * Requests carry window.authHeaders() when the page's authentication provides it.
 */
(function () {
  'use strict';
  var MAX_PASTES = 100;
  var TYPING_GAP_MS = 5000;

  function authHeaders() {
    return typeof window.authHeaders === 'function' ? window.authHeaders() : {};
  }

  // ---- paste signals ------------------------------------------------------------------------------
  function createSignals(editor) {
    var openedAt = Date.now();
    var s = { pastes: [], droppedPastes: 0, typingMs: 0, edits: 0, lastKeyAt: 0 };
    editor.addEventListener('paste', function (event) {
      var text = (event.clipboardData && event.clipboardData.getData('text')) || '';
      if (s.pastes.length >= MAX_PASTES) {
        s.droppedPastes++;
        return;
      }
      // Only sizes are kept: the text itself never leaves this function.
      s.pastes.push({ at: Date.now() - openedAt, chars: text.length, lines: text ? text.split('\n').length : 0 });
    });
    editor.addEventListener('keydown', function () {
      var now = Date.now();
      if (s.lastKeyAt && now - s.lastKeyAt <= TYPING_GAP_MS) s.typingMs += now - s.lastKeyAt;
      s.lastKeyAt = now;
    });
    editor.addEventListener('input', function () {
      s.edits++;
    });
    return {
      snapshot: function () {
        var out = { pastes: s.pastes.slice(), typingMs: Math.min(Math.round(s.typingMs), 604800000), edits: Math.min(s.edits, 10000000) };
        if (s.droppedPastes) out.droppedPastes = s.droppedPastes;
        return out;
      },
    };
  }

  // ---- GitHub link panel --------------------------------------------------------------------------
  function createGithubPanel() {
    var el = function (id) {
      return document.getElementById(id);
    };
    var panel = el('github-panel');
    if (!panel) return undefined;

    async function call(method, body) {
      var headers = Object.assign({ accept: 'application/json' }, authHeaders());
      if (body) headers['content-type'] = 'application/json';
      var response = await fetch('/api/github/link', { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined });
      var json =
        response.status === 204
          ? {}
          : await response.json().catch(function () {
              return {};
            });
      if (!response.ok) {
        var details = (json.errors || [])
          .map(function (e) {
            return e.field + ' ' + e.message;
          })
          .join('; ');
        var error = new Error(details || json.message || 'GitHub link request failed (' + response.status + ')');
        error.status = response.status;
        throw error;
      }
      return json;
    }

    function show(state) {
      el('github-state').textContent = !state.linked
        ? 'Not linked.'
        : 'Linked to ' +
          state.repository +
          ' (' +
          state.pathTemplate +
          ')' +
          (state.status === 'invalid' ? ': not working, ' + (state.invalidReason || 'link again') : '.');
      el('github-unlink').hidden = !state.linked;
      el('github-form').hidden = !!state.linked && state.status === 'active';
      return state;
    }

    async function refresh() {
      // The link is per signed-in user: without the page's authentication there is nothing to ask.
      if (typeof window.authHeaders !== 'function') {
        el('github-state').textContent = 'Sign in to link a GitHub repository.';
        el('github-form').hidden = true;
        return undefined;
      }
      try {
        return show(await call('GET'));
      } catch (error) {
        el('github-state').textContent = error.status === 401 ? 'Sign in to link a GitHub repository.' : error.message;
        return undefined;
      }
    }

    el('github-form').addEventListener('submit', async function (event) {
      event.preventDefault();
      el('github-error').textContent = '';
      var token = el('github-token');
      try {
        var body = { repository: el('github-repository').value.trim(), token: token.value.trim() };
        var template = el('github-template').value.trim();
        if (template) body.pathTemplate = template;
        show(await call('POST', body));
      } catch (error) {
        el('github-error').textContent = error.message;
      } finally {
        token.value = ''; // never kept in the page
      }
    });
    el('github-unlink').addEventListener('click', async function () {
      try {
        await call('DELETE');
      } catch (error) {
        el('github-error').textContent = error.message;
      }
      refresh();
    });

    // After an AC: poll briefly for the commit the accepted-solutions process makes.
    async function onAccepted(requestId, linkEl) {
      linkEl.hidden = true;
      for (var i = 0; i < 15; i++) {
        var state = await refresh();
        if (!state || !state.linked) return;
        var commit = (state.commits || []).find(function (c) {
          return c.requestId === requestId;
        });
        if (commit && commit.status === 'committed' && commit.url) {
          linkEl.href = commit.url;
          linkEl.textContent = 'Committed to GitHub: ' + (commit.path || commit.url);
          linkEl.hidden = false;
          return;
        }
        if (commit && commit.status === 'failed' && state.status === 'invalid') return;
        await new Promise(function (resolve) {
          setTimeout(resolve, 2000);
        });
      }
    }

    // A new submission hides the previous one's commit link.
    var submitButton = el('submit-button');
    if (submitButton)
      submitButton.addEventListener('click', function () {
        el('github-commit').hidden = true;
      });

    refresh();
    return { refresh: refresh, onAccepted: onAccepted };
  }

  // ---- staff panel: signals, matches, clusters ----------------------------------------------------
  function createStaffPanel() {
    var el = function (id) {
      return document.getElementById(id);
    };
    var panel = el('staff-panel');
    if (!panel) return undefined;
    var isStaff = false;
    var shownRequest = null;

    async function getStaff(path) {
      var response = await fetch(path, { headers: Object.assign({ accept: 'application/json' }, authHeaders()) });
      var json = await response.json().catch(function () {
        return {};
      });
      if (!response.ok) throw new Error(json.message || 'staff request failed (' + response.status + ')');
      return json;
    }

    function node(tag, text) {
      var n = document.createElement(tag);
      if (text !== undefined) n.textContent = String(text);
      return n;
    }
    function percent(x) {
      return typeof x === 'number' ? Math.round(x * 100) + '%' : '-';
    }
    function range(r) {
      return Array.isArray(r) ? 'lines ' + r[0] + '-' + r[1] : '-';
    }

    function renderSignals(body) {
      var box = el('staff-signals');
      box.textContent = '';
      box.appendChild(
        node('p', 'Submission ' + body.requestId + (body.fingerprinted ? '' : ' (not fingerprinted: only accepted submissions are)')),
      );
      var s = body.signals;
      if (!s) {
        box.appendChild(node('p', 'No paste signals were sent with this submission.'));
      } else {
        var sum = s.summary || {};
        box.appendChild(
          node(
            'p',
            'Pastes: ' +
              (sum.pasteCount || 0) +
              ', pasted ' +
              (sum.pastedChars || 0) +
              ' chars (largest ' +
              (sum.largestPaste || 0) +
              ', ' +
              percent(sum.pastedShare) +
              ' of the source), typing ' +
              Math.round((s.typingMs || 0) / 1000) +
              ' s, ' +
              (s.edits || 0) +
              ' edits',
          ),
        );
        var sizes = (s.pastes || []).map(function (p) {
          return p.chars + ' chars/' + p.lines + ' lines at ' + Math.round(p.at / 1000) + ' s';
        });
        if (sizes.length) box.appendChild(node('p', 'Paste sizes: ' + sizes.join('; ')));
      }
      var list = el('staff-matches');
      list.textContent = '';
      (body.matches || []).forEach(function (m) {
        var item = node(
          'li',
          m.userId +
            ' (' +
            m.requestId +
            ', ' +
            m.language +
            '): similarity ' +
            percent(m.similarity) +
            ', containment ' +
            percent(m.containment),
        );
        (m.fragments || []).forEach(function (f) {
          item.appendChild(
            node('pre', 'this ' + range(f.lines) + ' ~ theirs ' + range(f.matchLines) + ' (' + f.fingerprints + ' fingerprints)'),
          );
        });
        list.appendChild(item);
      });
      if (!(body.matches || []).length) list.appendChild(node('li', 'No similar earlier submissions of other users.'));
    }

    async function showSubmission(requestId) {
      if (!isStaff || !requestId) return;
      shownRequest = requestId;
      el('staff-error').textContent = '';
      try {
        var body = await getStaff('/api/staff/submissions/' + encodeURIComponent(requestId) + '/signals');
        if (shownRequest === requestId) renderSignals(body);
      } catch (error) {
        if (shownRequest !== requestId) return;
        el('staff-signals').textContent = '';
        el('staff-matches').textContent = '';
        el('staff-error').textContent = error.message;
      }
    }

    async function showClusters(problemId) {
      if (!isStaff || !problemId) return;
      el('staff-problem').textContent = problemId;
      var list = el('staff-clusters');
      try {
        var body = await getStaff('/api/staff/problems/' + encodeURIComponent(problemId) + '/clusters');
        if (el('staff-problem').textContent !== problemId) return;
        list.textContent = '';
        (body.clusters || []).forEach(function (c) {
          var members = (c.members || []).map(function (m) {
            return m.userId + ' (' + m.requestId + ', ' + m.language + ')';
          });
          list.appendChild(node('li', 'max similarity ' + percent(c.maxSimilarity) + ': ' + members.join(', ')));
        });
        if (!(body.clusters || []).length)
          list.appendChild(node('li', 'No clusters at or above ' + percent(body.threshold) + ' among ' + body.compared + ' submissions.'));
      } catch (error) {
        list.textContent = '';
        list.appendChild(node('li', error.message));
      }
    }

    el('staff-form').addEventListener('submit', function (event) {
      event.preventDefault();
      showSubmission(el('staff-request').value.trim());
    });

    function setStaff(value) {
      isStaff = value;
      panel.hidden = !value;
      if (!value)
        ['staff-signals', 'staff-matches', 'staff-clusters', 'staff-error'].forEach(function (id) {
          el(id).textContent = '';
        });
    }

    return { setStaff: setStaff, showSubmission: showSubmission, showClusters: showClusters };
  }

  var editor = document.getElementById('source-code');
  if (editor) window.editorSignals = createSignals(editor);
  window.githubPanel = createGithubPanel();
  window.staffPanel = createStaffPanel();
})();
