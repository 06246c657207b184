/*
 * Beside the submission page (app.js), two things of the caller's own:
 * - runWithInput: "Run" compiles and runs the editor's program once on the custom input box
 *   (POST /api/runs, then GET /api/runs/:id?wait=20 until it finished), not graded, not a
 *   submission, and shows what the program printed. Output is the user's own program's; it is set
 *   as text, never as markup.
 * - submissionHistory: the caller's recent submissions (GET /api/submissions), so a reload shows
 *   them; choosing one shows its result again (app.js gradingPage.follow).
 * Requests carry window.authHeaders() (app.js sets it while a user is signed in).
 */
(function () {
  'use strict';

  var RUN_STATUS_NAMES = {
    OK: 'Ran to the end',
    CE: 'Compilation Error',
    RE: 'Runtime Error',
    TLE: 'Time Limit Exceeded',
    MLE: 'Memory Limit Exceeded',
    OLE: 'Output Limit Exceeded',
    IE: 'Could not run',
  };

  var $ = function (id) {
    return document.getElementById(id);
  };

  function authHeaders() {
    return typeof window.authHeaders === 'function' ? window.authHeaders() : {};
  }

  async function call(method, url, body) {
    var headers = Object.assign({ accept: 'application/json' }, authHeaders());
    if (body !== undefined) headers['content-type'] = 'application/json';
    var response = await fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
    var data = await response.json().catch(function () {
      return {};
    });
    if (response.status === 401) throw new Error('Please log in again.');
    if (response.status === 429) throw new Error((data.message || 'Too many runs') + '.');
    if (!response.ok) {
      var details = (data.errors || [])
        .map(function (e) {
          return e.field + ' ' + e.message;
        })
        .join('; ');
      throw new Error(details || data.message || data.error || 'request failed (' + response.status + ')');
    }
    return data;
  }

  // ---- Run with custom input -------------------------------------------------------------------

  var run = { current: null };

  function setRunText(id, blockId, text) {
    $(id).textContent = text || '';
    if (blockId) $(blockId).hidden = !text;
  }

  function showRun(view) {
    var result = view.result || {};
    var status = view.state === 'expired' ? 'IE' : result.status;
    $('run-output').hidden = false;
    var verdict = $('run-verdict');
    verdict.dataset.status = status || '';
    verdict.className = 'verdict ' + (status === 'OK' ? 'verdict-ok' : status === 'IE' ? 'verdict-warn' : 'verdict-bad');
    verdict.textContent = status + ' · ' + (RUN_STATUS_NAMES[status] || status);
    var facts = [];
    if (view.state === 'expired') facts.push(view.message || 'no worker ran it in time');
    if (result.message) facts.push(result.message);
    if (status !== 'CE' && status !== 'IE') facts.push(result.time + ' ms', result.memory + ' MB');
    if (result.stdoutTruncated) facts.push('output cut to its first ' + result.stdout.length + ' of ' + result.stdoutBytes + ' bytes');
    $('run-detail').textContent = facts.join(' · ');
    setRunText('run-stdout', null, result.stdout || (status === 'CE' ? '' : '(no output)'));
    setRunText('run-stderr', 'run-stderr-block', result.stderr);
    setRunText('run-compile', 'run-compile-block', result.compileOutput);
    $('run-status').textContent = '';
  }

  async function startRun() {
    var button = $('run-button');
    var runStatus = $('run-status');
    button.disabled = true;
    $('run-output').hidden = true;
    runStatus.textContent = 'Running your program on the custom input...';
    var token = {};
    run.current = token;
    try {
      var started = await call('POST', '/api/runs', {
        problemId: $('problem-select').value,
        language: $('language-select').value,
        sourceCode: $('source-code').value,
        stdin: $('run-stdin').value,
      });
      var view = started;
      for (var i = 0; view.state === 'pending' && i < 30; i++) {
        view = await call('GET', '/api/runs/' + encodeURIComponent(started.runId) + '?wait=20');
        if (run.current !== token) return;
        if (view.state === 'pending') runStatus.textContent = 'Still waiting for a worker to run it...';
      }
      if (view.state === 'pending') throw new Error('No result yet: try again later.');
      showRun(view);
    } catch (error) {
      if (run.current === token) runStatus.textContent = 'Run failed: ' + error.message;
    } finally {
      if (run.current === token) button.disabled = false;
    }
  }

  // ---- the caller's recent submissions ---------------------------------------------------------

  function historyItem(s) {
    var li = document.createElement('li');
    var button = document.createElement('button');
    button.type = 'button';
    button.dataset.requestId = s.requestId;
    var verdict = s.status === 'pending' ? 'pending' : s.status === 'failed' ? 'failed' : s.verdict || s.status;
    var parts = [
      ['history-verdict', verdict + (typeof s.score === 'number' && s.status === 'completed' ? ' ' + s.score : '')],
      ['history-problem', s.problemId],
      ['history-language', s.language],
      ['history-when', new Date(s.createdAt).toLocaleString()],
    ];
    parts.forEach(function (part) {
      var span = document.createElement('span');
      span.className = part[0];
      span.textContent = part[1];
      button.appendChild(span);
    });
    button.addEventListener('click', function () {
      if (window.gradingPage) window.gradingPage.follow(s.requestId, s.problemId);
    });
    li.appendChild(button);
    return li;
  }

  async function refreshHistory() {
    var list = $('history-list');
    var stateLine = $('history-state');
    try {
      var page = await call('GET', '/api/submissions?limit=10');
      list.innerHTML = '';
      page.submissions.forEach(function (s) {
        list.appendChild(historyItem(s));
      });
      stateLine.textContent = page.submissions.length ? '' : 'No submissions yet.';
    } catch (error) {
      stateLine.textContent = 'Could not load your submissions: ' + error.message;
    }
  }

  $('run-button').addEventListener('click', startRun);
  window.submissionHistory = { refresh: refreshHistory };
})();
