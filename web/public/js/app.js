/*
 * The submission page: pick a problem, write code, submit, watch each test case turn green or red
 * as the worker finishes it (Server-Sent Events), then the final verdict, time and memory.
 * Plain browser JavaScript against the gateway's HTTP API (docs/web-integration.md).
 *
 * Every API call carries the user's bearer token. A site that embeds the page hands it over in
 * the URL fragment (#access_token=..., never sent to a server); on the local stack the login form
 * asks the gateway's local issuer for one. A 401 forgets the token and asks to log in again.
 */
(function () {
  'use strict';

  var VERDICT_NAMES = {
    AC: 'Accepted',
    WA: 'Wrong Answer',
    TLE: 'Time Limit Exceeded',
    MLE: 'Memory Limit Exceeded',
    RE: 'Runtime Error',
    CE: 'Compilation Error',
    OLE: 'Output Limit Exceeded',
    IE: 'Internal Error',
  };

  // Starter programs: read the whole input, leave the solving to the user.
  var STARTERS = {
    python: 'import sys\n\n\ndef main():\n    data = sys.stdin.read().split()\n    # solve here\n    print(data)\n\n\nmain()\n',
    javascript: "const data = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/);\n// solve here\nconsole.log(data.join(' '));\n",
    c: '#include <stdio.h>\n\nint main(void) {\n    long long x;\n    while (scanf("%lld", &x) == 1) {\n        /* solve here */\n    }\n    return 0;\n}\n',
    cpp: '#include <bits/stdc++.h>\nusing namespace std;\n\nint main() {\n    ios::sync_with_stdio(false);\n    cin.tie(nullptr);\n    // solve here\n    return 0;\n}\n',
    java: 'import java.util.*;\nimport java.io.*;\n\npublic class Main {\n    public static void main(String[] args) throws IOException {\n        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));\n        // solve here\n    }\n}\n',
    go: 'package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n)\n\nfunc main() {\n\tin := bufio.NewReader(os.Stdin)\n\tout := bufio.NewWriter(os.Stdout)\n\tdefer out.Flush()\n\tvar x int64\n\tfor {\n\t\tif _, err := fmt.Fscan(in, &x); err != nil {\n\t\t\tbreak\n\t\t}\n\t\t// solve here\n\t}\n\tfmt.Fprintln(out)\n}\n',
    rust: 'use std::io::{self, Read, Write};\n\nfn main() {\n    let mut input = String::new();\n    io::stdin().read_to_string(&mut input).unwrap();\n    let mut tokens = input.split_ascii_whitespace();\n    let out = io::stdout();\n    let mut out = io::BufWriter::new(out.lock());\n    // solve here, e.g. let n: i64 = tokens.next().unwrap().parse().unwrap();\n    let _ = tokens.next();\n    writeln!(out).unwrap();\n}\n',
  };

  var $ = function (id) {
    return document.getElementById(id);
  };
  var els = {
    app: $('app'),
    session: $('session'),
    who: $('who'),
    logout: $('logout-button'),
    loginPanel: $('login-panel'),
    loginMessage: $('login-message'),
    loginForm: $('login-form'),
    loginUser: $('login-user'),
    loginStaff: $('login-staff'),
    loginError: $('login-error'),
    problem: $('problem-select'),
    limits: $('problem-limits'),
    description: $('problem-description'),
    language: $('language-select'),
    source: $('source-code'),
    size: $('source-size'),
    submit: $('submit-button'),
    formError: $('form-error'),
    result: $('result'),
    verdict: $('verdict'),
    verdictDetail: $('verdict-detail'),
    score: $('metric-score'),
    time: $('metric-time'),
    memory: $('metric-memory'),
    cases: $('cases'),
    requestId: $('request-id'),
    reviewPanel: $('review-panel'),
    reviewButton: $('review-button'),
    reviewStatus: $('review-status'),
    reviewText: $('review-text'),
  };

  var state = {
    problem: null,
    stream: null,
    poller: null,
    workerWatch: null,
    lastStarter: '',
    requestId: null,
    token: null,
    queuedAt: 0,
    running: false,
  };
  // A submission no worker has started after this long says so ("still waiting for a worker").
  // A site embedding the page may set window.gradingWaitNoticeMs before app.js loads.
  var WAIT_NOTICE_MS = Number(window.gradingWaitNoticeMs) || 15000;

  function store(key, value) {
    try {
      localStorage.setItem('grading.' + key, value);
    } catch {
      /* private mode */
    }
  }
  function load(key) {
    try {
      return localStorage.getItem('grading.' + key);
    } catch {
      return null;
    }
  }

  // ---- the session (bearer token) ---------------------------------------------------------------

  // sessionStorage: the token lives as long as the tab, and is never sent anywhere but the gateway.
  function token() {
    try {
      return sessionStorage.getItem('grading.token');
    } catch {
      return null;
    }
  }
  function setToken(value) {
    try {
      if (value) sessionStorage.setItem('grading.token', value);
      else sessionStorage.removeItem('grading.token');
    } catch {
      /* private mode: the token lives in this page only */
    }
    state.token = value;
    // The GitHub panel (extras.js) calls the API only while a user is signed in.
    if (value)
      window.authHeaders = function () {
        return { authorization: 'Bearer ' + state.token };
      };
    else delete window.authHeaders;
    if (!value && window.staffPanel) window.staffPanel.setStaff(false);
  }

  function SessionExpired(message) {
    this.message = message;
  }

  // fetch with the bearer token; a 401 ends the session and shows the login panel.
  async function api(url, options) {
    options = options || {};
    var headers = Object.assign({ accept: 'application/json' }, options.headers || {});
    if (state.token) headers.authorization = 'Bearer ' + state.token;
    var response = await fetch(url, Object.assign({}, options, { headers: headers }));
    if (response.status === 401) {
      var body = await response.json().catch(function () {
        return {};
      });
      loggedOut(
        body.error === 'token_expired'
          ? 'Your session has expired: log in again.'
          : 'Please log in again (' + (body.message || 'not signed in') + ').',
      );
      throw new SessionExpired('not signed in');
    }
    return response;
  }

  async function getJson(url) {
    var response = await api(url);
    var body = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) throw new Error(body.message || body.error || response.status + ' ' + response.statusText);
    return body;
  }

  // Whether this gateway has a reviewer: "Review my code" stays hidden when it has none.
  var reviewEnabled = false;
  fetch('/api/auth', { headers: { accept: 'application/json' } })
    .then(function (r) {
      return r.json();
    })
    .then(function (info) {
      reviewEnabled = Boolean(info.review);
    })
    .catch(function () {
      reviewEnabled = false;
    });

  async function showLogin(message) {
    els.app.hidden = true;
    els.session.hidden = true;
    els.loginPanel.hidden = false;
    els.loginMessage.textContent = message || '';
    var info = await fetch('/api/auth', { headers: { accept: 'application/json' } })
      .then(function (r) {
        return r.json();
      })
      .catch(function () {
        return {};
      });
    els.loginForm.hidden = !info.devLogin;
    if (!info.devLogin && !message) els.loginMessage.textContent = 'Open this page from your site to sign in.';
    if (info.devLogin) els.loginUser.focus();
  }

  function loggedOut(message) {
    stopFollowing();
    setToken(null);
    showLogin(message);
  }

  async function devLogin(event) {
    event.preventDefault();
    els.loginError.textContent = '';
    try {
      var response = await fetch('/api/dev/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ userId: els.loginUser.value.trim(), roles: els.loginStaff.checked ? ['staff'] : [] }),
      });
      var body = await response.json().catch(function () {
        return {};
      });
      if (!response.ok)
        throw new Error(
          (body.errors || [])
            .map(function (e) {
              return e.field + ' ' + e.message;
            })
            .join('; ') ||
            body.message ||
            'login failed',
        );
      setToken(body.token);
      await start();
    } catch (error) {
      els.loginError.textContent = error.message;
    }
  }

  // Signed in: who am I (from the token), then the problems and languages.
  async function start() {
    try {
      var me = await getJson('/api/me');
      els.who.textContent = me.userId + (me.staff ? ' (staff)' : '');
      els.loginPanel.hidden = true;
      els.session.hidden = false;
      els.app.hidden = false;
      if (state.token && !window.authHeaders) setToken(state.token);
      // The staff panel is shown, and calls /api/staff, only for a staff user.
      if (window.staffPanel) window.staffPanel.setStaff(!!me.staff);
      await Promise.all([loadLanguages(), loadProblems()]);
      if (window.githubPanel) window.githubPanel.refresh();
      // After a reload: the caller's recent submissions, each one click away from its result.
      if (window.submissionHistory) window.submissionHistory.refresh();
    } catch (error) {
      if (error instanceof SessionExpired) return;
      els.formError.textContent = 'Could not reach the gateway: ' + error.message;
    }
  }

  // ---- problems and languages ----------------------------------------------------------------

  async function loadLanguages() {
    var body = await getJson('/api/languages');
    els.language.innerHTML = '';
    body.languages.forEach(function (lang) {
      var option = document.createElement('option');
      option.value = lang.id;
      option.textContent = lang.label;
      els.language.appendChild(option);
    });
    var saved = load('language');
    if (
      saved &&
      body.languages.some(function (l) {
        return l.id === saved;
      })
    )
      els.language.value = saved;
    setStarter();
  }

  async function loadProblems() {
    var body = await getJson('/api/problems');
    els.problem.innerHTML = '';
    if (!body.problems.length) {
      els.problem.innerHTML = '<option>No problems yet</option>';
      return;
    }
    body.problems.forEach(function (p) {
      var option = document.createElement('option');
      option.value = p.id;
      option.textContent = p.title ? p.title + ' (' + p.id + ')' : p.id;
      els.problem.appendChild(option);
    });
    els.problem.disabled = false;
    var wanted = decodeURIComponent((location.hash.match(/problem=([^&]+)/) || [])[1] || '') || load('problem');
    if (
      wanted &&
      body.problems.some(function (p) {
        return p.id === wanted;
      })
    )
      els.problem.value = wanted;
    await showProblem(els.problem.value);
  }

  async function showProblem(id) {
    store('problem', id);
    els.description.innerHTML = '<p class="muted">Loading...</p>';
    try {
      var problem = await getJson('/api/problems/' + encodeURIComponent(id));
      state.problem = problem;
      if (window.staffPanel) window.staffPanel.showClusters(problem.id);
      els.description.innerHTML = window.renderMarkdown(problem.description);
      els.description.dataset.problem = problem.id;
      var limits = [];
      if (problem.timeLimit) limits.push('<span>Time limit: ' + problem.timeLimit + ' ms</span>');
      if (problem.memoryLimit) limits.push('<span>Memory limit: ' + problem.memoryLimit + ' MB</span>');
      if (problem.testCaseCount) limits.push('<span>' + problem.testCaseCount + ' test cases</span>');
      els.limits.innerHTML = limits.join('');
    } catch (error) {
      els.description.innerHTML = '';
      els.description.textContent = 'Could not load the problem: ' + error.message;
    }
  }

  // Swap in the new language's starter unless the user has written something of their own.
  function setStarter() {
    var current = els.source.value;
    if (current.trim() !== '' && current !== state.lastStarter) return;
    state.lastStarter = STARTERS[els.language.value] || '';
    els.source.value = state.lastStarter;
    updateSize();
  }

  function updateSize() {
    var bytes = new TextEncoder().encode(els.source.value).length;
    els.size.textContent = bytes > 1024 ? (bytes / 1024).toFixed(1) + ' KB' : bytes + ' bytes';
  }

  // ---- submitting and following ----------------------------------------------------------------

  async function submit() {
    els.formError.textContent = '';
    els.submit.disabled = true;
    try {
      var response = await api('/api/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          problemId: els.problem.value,
          language: els.language.value,
          sourceCode: els.source.value,
          signals: window.editorSignals ? window.editorSignals.snapshot() : undefined,
        }),
      });
      var body = await response.json().catch(function () {
        return {};
      });
      if (response.status === 429) {
        throw new Error('Too many submissions: try again in ' + (response.headers.get('retry-after') || 'a few') + ' s.');
      }
      if (!response.ok) {
        var details = (body.errors || [])
          .map(function (e) {
            return e.field + ' ' + e.message;
          })
          .join('; ');
        throw new Error(details || body.message || body.error || 'submission failed (' + response.status + ')');
      }
      follow(body.requestId);
      if (window.submissionHistory) window.submissionHistory.refresh();
    } catch (error) {
      if (!(error instanceof SessionExpired)) els.formError.textContent = error.message;
    } finally {
      // Debounced: a second click within a few seconds maps to the same request anyway.
      setTimeout(function () {
        els.submit.disabled = false;
      }, 800);
    }
  }

  // `problemId`: the submission's problem when it may not be the one shown (the recent submissions list).
  function follow(requestId, problemId) {
    stopFollowing();
    els.result.hidden = false;
    els.requestId.textContent = requestId;
    state.requestId = requestId;
    state.queuedAt = Date.now();
    state.running = false;
    resetReview();
    setVerdict(null);
    els.verdictDetail.textContent = 'Waiting for a worker...';
    watchWorkers();
    els.score.textContent = els.time.textContent = els.memory.textContent = '-';
    els.cases.innerHTML = '';
    var sameProblem = !problemId || (state.problem && state.problem.id === problemId);
    var count = (sameProblem && state.problem && state.problem.testCaseCount) || 0;
    for (var n = 1; n <= count; n++) caseChip(n);

    openStream(requestId).catch(function (error) {
      // No stream (no ticket): poll the status instead; a 401 has already asked to log in again.
      if (!(error instanceof SessionExpired) && state.requestId === requestId) poll(requestId);
    });
  }

  // EventSource cannot send an Authorization header, and a token in a URL ends up in access logs:
  // ask (with the token) for a short-lived ticket good for this submission's events only.
  async function openStream(requestId) {
    var response = await api('/api/submissions/' + encodeURIComponent(requestId) + '/stream-ticket', { method: 'POST' });
    if (!response.ok) throw new Error('no stream ticket (' + response.status + ')');
    var ticket = await response.json();
    if (state.requestId !== requestId) return;
    var stream = new EventSource(ticket.eventsUrl);
    state.stream = stream;
    stream.addEventListener('case', function (event) {
      var data = JSON.parse(event.data);
      stopWatchingWorkers();
      state.running = true;
      els.verdictDetail.textContent = 'Running test cases...';
      showCase(data);
    });
    stream.addEventListener('final', function (event) {
      stream.close();
      stopWatchingWorkers();
      showFinal(JSON.parse(event.data));
    });
    stream.addEventListener('error', function () {
      // EventSource reconnects by itself (with Last-Event-ID); if it gave up (e.g. the ticket expired
      // during a long outage: 401), poll with the token instead, whose own 401 asks to log in again.
      if (stream.readyState === EventSource.CLOSED && state.stream === stream) poll(requestId);
    });
  }

  function poll(requestId) {
    state.poller = setInterval(async function () {
      try {
        var body = await getJson('/api/submissions/' + encodeURIComponent(requestId));
        if (body.status !== 'pending') {
          stopFollowing();
          showFinal(body);
        }
      } catch (error) {
        if (error instanceof SessionExpired) stopFollowing(); // else keep trying
      }
    }, 2000);
  }

  function stopFollowing() {
    if (state.stream) state.stream.close();
    if (state.poller) clearInterval(state.poller);
    state.stream = state.poller = null;
    stopWatchingWorkers();
  }

  // While a submission waits, say so when no worker is taking submissions (workers' heartbeats),
  // and when it has waited longer than WAIT_NOTICE_MS although workers are up (they are all busy).
  function watchWorkers() {
    stopWatchingWorkers();
    var check = async function () {
      try {
        var presence = await getJson('/api/workers');
        if (!state.workerWatch) return;
        var waited = Math.round((Date.now() - state.queuedAt) / 1000);
        if (presence.status === 'none' || presence.status === 'degraded') {
          els.verdictDetail.textContent =
            presence.status === 'none'
              ? 'No worker is taking submissions right now: yours is queued and will be graded when one is back.'
              : 'Workers are up but cannot run code right now (' + presence.message + ').';
          els.verdictDetail.dataset.workers = presence.status;
        } else if (Date.now() - state.queuedAt >= WAIT_NOTICE_MS && !state.running) {
          els.verdictDetail.textContent =
            'Still waiting for a worker (queued for ' + waited + ' s): ' + 'every worker is busy; yours is graded as soon as one is free.';
          els.verdictDetail.dataset.workers = 'busy';
        } else if (els.verdictDetail.dataset.workers) {
          els.verdictDetail.textContent = 'Waiting for a worker...';
          delete els.verdictDetail.dataset.workers;
        }
      } catch {
        /* the next check tries again */
      }
    };
    state.workerWatch = setInterval(check, 5000);
    check();
  }

  function stopWatchingWorkers() {
    if (state.workerWatch) clearInterval(state.workerWatch);
    state.workerWatch = null;
    delete els.verdictDetail.dataset.workers;
  }

  function caseChip(n) {
    var id = 'case-' + n;
    var chip = document.getElementById(id);
    if (chip) return chip;
    // Keep chips in case order even when results arrive out of order.
    chip = document.createElement('li');
    chip.id = id;
    chip.className = 'case';
    chip.dataset.case = String(n);
    chip.innerHTML =
      '<div class="case-title"><span>#' + n + '</span><span class="case-status">...</span></div><div class="case-stats">&nbsp;</div>';
    var next = Array.prototype.find.call(els.cases.children, function (c) {
      return Number(c.dataset.case) > n;
    });
    els.cases.insertBefore(chip, next || null);
    return chip;
  }

  function showCase(testResult) {
    var chip = caseChip(testResult.case);
    var status = testResult.status;
    chip.dataset.status = status;
    chip.className = 'case ' + (status === 'AC' ? 'case-ok' : status === 'SKIPPED' ? 'case-skip' : 'case-bad');
    chip.title = (VERDICT_NAMES[status] || status) + (testResult.message ? ': ' + testResult.message : '');
    chip.querySelector('.case-status').textContent = status;
    var stats = [];
    if (typeof testResult.time === 'number') stats.push(testResult.time + ' ms');
    if (typeof testResult.memory === 'number') stats.push(formatMb(testResult.memory));
    chip.querySelector('.case-stats').textContent = stats.join(' · ') || '\u00a0';
    // The reason in plain view, not only in the tooltip: touch screens cannot hover.
    var detail = chip.querySelector('.case-message');
    if (status !== 'AC' && status !== 'SKIPPED') {
      if (!detail) {
        detail = document.createElement('div');
        detail.className = 'case-message';
        chip.appendChild(detail);
      }
      detail.textContent = chip.title;
    } else if (detail) {
      detail.remove();
    }
  }

  function showFinal(doc) {
    var result = doc.result || {};
    (result.testResults || []).forEach(showCase);
    if (doc.status === 'failed') {
      setVerdict('IE');
      els.verdictDetail.textContent = 'System error' + (doc.reason || doc.error ? ': ' + (doc.reason || doc.error) : '');
      return;
    }
    setVerdict(result.verdict);
    if (window.submissionHistory) window.submissionHistory.refresh();
    if (window.staffPanel) window.staffPanel.showSubmission(doc.requestId);
    if (result.verdict === 'AC' && window.githubPanel) window.githubPanel.onAccepted(doc.requestId, $('github-commit'));
    // Review is on request only, once there is a verdict to talk about, and only when the gateway has a reviewer.
    els.reviewPanel.hidden = !reviewEnabled;
    var cases = result.testResults || [];
    var passed = cases.filter(function (c) {
      return c.status === 'AC';
    }).length;
    els.verdictDetail.textContent = cases.length ? passed + ' / ' + cases.length + ' test cases passed' : result.message || '';
    els.score.textContent = typeof result.score === 'number' ? String(result.score) : '-';
    els.time.textContent = typeof result.executionTime === 'number' ? result.executionTime + ' ms' : '-';
    els.memory.textContent = typeof result.memoryUsage === 'number' ? formatMb(result.memoryUsage) : '-';
    var compileOutput = result.compileOutput || result.message;
    if (result.verdict === 'CE' && compileOutput) {
      var pre = document.createElement('pre');
      pre.className = 'compile-output';
      pre.textContent = compileOutput;
      els.cases.insertAdjacentElement('afterend', pre);
    }
  }

  // ---- code review on request ------------------------------------------------------------------

  function resetReview() {
    els.reviewPanel.hidden = true;
    els.reviewText.hidden = true;
    els.reviewText.innerHTML = '';
    els.reviewStatus.textContent = '';
    els.reviewButton.disabled = false;
    els.reviewButton.textContent = 'Review my code';
  }

  function showReview(review) {
    els.reviewText.innerHTML = window.renderMarkdown(review.text);
    els.reviewText.hidden = false;
    els.reviewStatus.textContent = 'Reviewed by ' + review.model;
    els.reviewButton.textContent = 'Review again';
  }

  async function requestReview() {
    var requestId = state.requestId;
    if (!requestId) return;
    var regenerate = !els.reviewText.hidden;
    els.reviewButton.disabled = true;
    els.reviewStatus.textContent = 'Reviewing your code...';
    try {
      var response = await api('/api/submissions/' + encodeURIComponent(requestId) + '/review', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ regenerate: regenerate }),
      });
      var body = await response.json().catch(function () {
        return {};
      });
      if (!response.ok) throw new Error(body.message || body.error || 'review failed (' + response.status + ')');
      if (state.requestId === requestId) showReview(body);
    } catch (error) {
      if (!(error instanceof SessionExpired)) els.reviewStatus.textContent = error.message;
    } finally {
      els.reviewButton.disabled = false;
    }
  }

  function setVerdict(verdict) {
    var old = els.result.querySelector('.compile-output');
    if (old && !verdict) old.remove();
    els.verdict.dataset.verdict = verdict || '';
    if (!verdict) {
      els.verdict.className = 'verdict verdict-pending';
      els.verdict.textContent = 'Grading...';
      return;
    }
    els.verdict.className = 'verdict ' + (verdict === 'AC' ? 'verdict-ok' : verdict === 'IE' ? 'verdict-warn' : 'verdict-bad');
    els.verdict.textContent = verdict + ' · ' + (VERDICT_NAMES[verdict] || verdict);
  }

  function formatMb(mb) {
    return (mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10) + ' MB';
  }

  // ---- wiring ----------------------------------------------------------------------------------

  els.loginForm.addEventListener('submit', devLogin);
  els.logout.addEventListener('click', function () {
    loggedOut('Logged out.');
  });
  els.problem.addEventListener('change', function () {
    showProblem(els.problem.value);
  });
  els.language.addEventListener('change', function () {
    store('language', els.language.value);
    setStarter();
  });
  els.source.addEventListener('input', updateSize);
  els.source.addEventListener('keydown', function (event) {
    if (event.key !== 'Tab' || event.shiftKey) return;
    event.preventDefault();
    var start = els.source.selectionStart;
    var end = els.source.selectionEnd;
    els.source.setRangeText('    ', start, end, 'end');
    updateSize();
  });
  els.submit.addEventListener('click', submit);
  els.reviewButton.addEventListener('click', requestReview);
  els.source.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit();
  });

  // A site hands the token over in the fragment, which browsers never send to a server.
  var handedOver = (location.hash.match(/access_token=([^&]+)/) || [])[1];
  if (handedOver) {
    setToken(decodeURIComponent(handedOver));
    history.replaceState(
      null,
      '',
      location.pathname + location.search + location.hash.replace(/&?access_token=[^&]+/, '').replace(/^#$/, ''),
    );
  } else {
    if (token()) setToken(token());
  }
  // The recent submissions list (runs.js) opens a submission's result here.
  window.gradingPage = { follow: follow };

  if (state.token) start();
  else showLogin();
})();
