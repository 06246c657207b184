/*
 * A deliberately small Markdown renderer for problem statements: headings, paragraphs, fenced
 * and indented code, bullet and numbered lists, inline code, bold and italics. Everything is
 * HTML-escaped first, so a statement can never inject markup into the page.
 */
(function () {
  'use strict';

  function escapeHtml(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  function inline(text) {
    // Split out code spans first so their contents are not formatted.
    return text
      .split(/(`[^`]+`)/)
      .map(function (part) {
        if (/^`[^`]+`$/.test(part)) return '<code>' + escapeHtml(part.slice(1, -1)) + '</code>';
        return escapeHtml(part)
          .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
          .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\w)/g, '$1<em>$2</em>')
          .replace(/(^|[^_\w])_([^_\s][^_]*)_(?!\w)/g, '$1<em>$2</em>');
      })
      .join('');
  }

  function render(markdown) {
    var lines = String(markdown || '')
      .replace(/\r\n?/g, '\n')
      .split('\n');
    var html = [];
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      var fence = /^\s*(```|~~~)/.exec(line);
      if (fence) {
        var code = [];
        i++;
        while (i < lines.length && lines[i].trim().indexOf(fence[1]) !== 0) code.push(lines[i++]);
        i++; // closing fence
        html.push('<pre><code>' + escapeHtml(code.join('\n')) + '</code></pre>');
        continue;
      }
      if (/^( {4}|\t)/.test(line)) {
        var indented = [];
        while (i < lines.length && (/^( {4}|\t)/.test(lines[i]) || (lines[i].trim() === '' && /^( {4}|\t)/.test(lines[i + 1] || '')))) {
          indented.push(lines[i++].replace(/^( {4}|\t)/, ''));
        }
        html.push('<pre><code>' + escapeHtml(indented.join('\n')) + '</code></pre>');
        continue;
      }
      var heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
      if (heading) {
        var level = heading[1].length;
        html.push('<h' + level + '>' + inline(heading[2]) + '</h' + level + '>');
        i++;
        continue;
      }
      var listMatch = /^\s*([-*+]|\d+[.)])\s+/.exec(line);
      if (listMatch) {
        var ordered = /\d/.test(listMatch[1]);
        var items = [];
        while (i < lines.length) {
          var item = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i]);
          if (item && /\d/.test(item[1]) === ordered) items.push(item[2]);
          else if (lines[i].trim() !== '' && /^\s{2,}\S/.test(lines[i]) && items.length) items[items.length - 1] += ' ' + lines[i].trim();
          else break;
          i++;
        }
        var tag = ordered ? 'ol' : 'ul';
        html.push(
          '<' +
            tag +
            '>' +
            items
              .map(function (text) {
                return '<li>' + inline(text) + '</li>';
              })
              .join('') +
            '</' +
            tag +
            '>',
        );
        continue;
      }
      if (line.trim() === '') {
        i++;
        continue;
      }
      var paragraph = [];
      while (i < lines.length && lines[i].trim() !== '' && !/^\s*(```|~~~|#{1,6}\s|([-*+]|\d+[.)])\s+)/.test(lines[i]))
        paragraph.push(lines[i++]);
      // Two trailing spaces or a trailing backslash end a line with a hard break.
      html.push(
        '<p>' +
          paragraph
            .map(function (text, k) {
              var hard = k < paragraph.length - 1 && /( {2,}|\\)$/.test(text);
              return inline(text.trim().replace(/\\$/, '')) + (hard ? '<br>' : '');
            })
            .join('\n') +
          '</p>',
      );
    }
    return html.join('\n');
  }

  window.renderMarkdown = render;
})();
