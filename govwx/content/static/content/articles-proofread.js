/* Proofreading as you type, in the article editor (after articles-editor.js, whose
   `window.articleEditor` it reads and whose "article-change" event it listens to).

   600 ms after the last change the fields are sent (JSON) to the server's checker; its
   findings come back with offsets in characters (code points) of one field: the title,
   the author, the digest, or one block of the body (a text block's text as Quill holds
   it, an embed one character U+FFFC; a caption; a link's title). A text block's
   findings are underlined in Quill (the CSS Custom Highlight API: nothing is written
   into the text), kept in place while the text around them changes (Quill's deltas
   move them) and dropped when their own words change. The side list names each, with
   one click to accept a suggestion (it replaces the words found) and, for those who may,
   to dismiss it with a reason, remembered for its paragraph. */
(function () {
  "use strict";
  var editor = window.articleEditor;
  var setupEl = document.getElementById("editor-setup");
  var stringsEl = document.getElementById("proofread-strings");
  var Quill = window.Quill;
  if (!editor || !setupEl || !stringsEl || !Quill) return;
  var setup = JSON.parse(setupEl.textContent);
  var S = JSON.parse(stringsEl.textContent);
  var P = setup.proofread || {};
  if (!setup.urls.proofread) return;
  var Delta = Quill.import("delta");
  var form = document.getElementById("article-form");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var listEl = document.getElementById("proof-list");
  var stateEl = document.getElementById("proof-state");
  var countEl = document.getElementById("proof-count");
  var DELAY = P.delay || 600;
  var INLINE = ["bold", "italic", "underline", "strike", "color", "background", "link"];
  var FIELD_IDS = { title: "id_title", author: "id_author", digest: "id_digest" };
  var highlightsOk = !!(window.CSS && CSS.highlights && window.Highlight);
  var timer = null;
  var seq = 0;
  var findings = [];
  var at = [];  // the blocks as they were when the findings were asked for

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "hidden") node.hidden = true;
      else node.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c !== null && c !== undefined) node.append(c);
    }
    return node;
  }

  // ------------------------------------------------------------ positions
  // A Quill block's text as the server reads its HTML: every string as it is, every
  // embed one character (Quill's getText leaves embeds out, but each is one index).
  function quillText(quill) {
    return quill.getContents().ops.map(function (op) {
      return typeof op.insert === "string" ? op.insert : "\ufffc";
    }).join("");
  }

  // The UTF-16 index (Quill's, a JS string's) of the code point `cp` of `s`: the
  // server counts characters as Python does, one for 𠀀 or an emoji, where JS counts two.
  function utf16At(s, cp) {
    var i = 0;
    for (var n = 0; n < cp && i < s.length; n++) {
      var c = s.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    }
    return i;
  }

  // Where the finding is in `s`: [index, length] in UTF-16, or null. Where the server's
  // reading of the HTML and Quill's text differ (white space), the occurrence of the
  // words nearest to where they should be.
  function spanIn(s, f) {
    var a = utf16At(s, f.start);
    var b = utf16At(s, f.end);
    if (s.slice(a, b) === f.text) return [a, b - a];
    if (!f.text) return null;
    var best = -1;
    for (var from = 0, i; (i = s.indexOf(f.text, from)) >= 0; from = i + 1) {
      if (best < 0 || Math.abs(i - a) < Math.abs(best - a)) best = i;
    }
    return best < 0 ? null : [best, f.text.length];
  }

  function sourceMode(block) {
    var src = block.root.querySelector(".ab-source");
    return !!src && !src.hidden;
  }

  function locate(f) {
    if (FIELD_IDS[f.part]) {
      var input = document.getElementById(FIELD_IDS[f.part]);
      var span = spanIn(input.value, f);
      return span ? { input: input, index: span[0], length: span[1] } : null;
    }
    var m = /^body\.(\d+)\.(\w+)$/.exec(f.part || "");
    var block = m ? at[Number(m[1])] : null;
    if (!block || !block.root.isConnected) return null;
    if (m[2] === "html") {
      if (!block.quill || sourceMode(block)) return null;
      var found = spanIn(quillText(block.quill), f);
      return found ? { block: block, quill: block.quill, index: found[0], length: found[1] } : null;
    }
    var field = block.root.querySelector(m[2] === "caption" ? ".ab-caption" : ".ab-title");
    if (!field) return null;
    var inField = spanIn(field.value, f);
    return inField ? { input: field, index: inField[0], length: inField[1] } : null;
  }

  // ------------------------------------------------------------ underlines
  function nativeRange(quill, index, length) {
    try {
      var n = quill.selection.rangeToNative({ index: index, length: length });
      if (!n[0] || !n[2]) return null;
      var r = document.createRange();
      r.setStart(n[0], n[1]);
      r.setEnd(n[2], n[3]);
      return r;
    } catch (e) {
      return null;
    }
  }

  function underline() {
    var bySeverity = { veto: [], error: [], warning: [] };
    var active = [];
    document.querySelectorAll(".proof-flagged").forEach(function (n) {
      n.classList.remove("proof-flagged", "proof-flagged-veto", "proof-flagged-error", "proof-flagged-warning");
    });
    findings.forEach(function (f) {
      var loc = f.loc;
      if (!loc || f.stale || f.dismissed) return;
      if (loc.input) {
        loc.input.classList.add("proof-flagged", "proof-flagged-" + f.severity);
        return;
      }
      var r = nativeRange(loc.quill, loc.index, loc.length);
      if (!r) return;
      (bySeverity[f.severity] || bySeverity.warning).push(r);
      if (f.active) active.push(r.cloneRange());
    });
    if (!highlightsOk) return;
    Object.keys(bySeverity).forEach(function (sev) {
      CSS.highlights.set("proof-" + sev, new Highlight(...bySeverity[sev]));
    });
    CSS.highlights.set("proof-active", new Highlight(...active));
  }

  // Quill changed a block: move its findings with the change; a finding whose own words
  // changed is dropped until the next check. Returns whether one was dropped.
  function moved(block, delta) {
    var text = null;
    var dropped = false;
    findings.forEach(function (f) {
      var loc = f.loc;
      if (!loc || loc.quill !== block.quill || f.stale) return;
      text = text === null ? quillText(block.quill) : text;
      var index = delta.transformPosition(loc.index);
      if (text.slice(index, index + loc.length) === f.seen) {
        loc.index = index;
      } else {
        f.stale = true;
        dropped = true;
      }
    });
    return dropped;
  }

  function hook(block) {
    if (!block.quill || block.proofHooked) return;
    block.proofHooked = true;
    block.quill.on("text-change", function (delta) {
      var dropped = moved(block, delta);
      underline();
      if (dropped) render();
    });
  }

  // ------------------------------------------------------------ asking the server
  function fields() {
    return {
      title: document.getElementById("id_title").value,
      author: document.getElementById("id_author").value,
      digest: document.getElementById("id_digest").value,
      body: editor.collect(),
    };
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      body: JSON.stringify(data),
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (res) {
        if (!r.ok) throw new Error(res.error || S.failed);
        return res;
      });
    });
  }

  function show(res) {
    var fresh = res.findings || [];
    fresh.forEach(function (f) {
      f.loc = locate(f);
      if (f.loc) {
        var holder = f.loc.quill ? quillText(f.loc.quill) : f.loc.input.value;
        f.seen = holder.slice(f.loc.index, f.loc.index + f.loc.length);
      }
    });
    findings = fresh;
    P.can_dismiss = res.can_dismiss;
    P.dismiss_why = res.dismiss_why || P.dismiss_why;
    underline();
    render();
  }

  function check() {
    clearTimeout(timer);
    var mine = ++seq;
    at = editor.blocks.slice();
    at.forEach(hook);
    stateEl.textContent = S.checking;
    stateEl.hidden = false;
    return post(setup.urls.proofread, fields()).then(function (res) {
      if (mine !== seq) return;
      stateEl.hidden = true;
      show(res);
    }).catch(function (e) {
      if (mine !== seq) return;
      stateEl.textContent = S.failed;
      stateEl.hidden = false;
    });
  }

  function schedule() {
    seq++;  // what is under way answers for a text that is gone
    clearTimeout(timer);
    editor.blocks.forEach(hook);
    timer = setTimeout(check, DELAY);
  }

  // ------------------------------------------------------------ the list
  function select(f) {
    findings.forEach(function (g) { g.active = g === f; });
    var loc = f.loc;
    if (loc && !f.stale) {
      if (loc.quill) {
        loc.quill.setSelection(loc.index, loc.length, "user");
        loc.block.root.scrollIntoView({ block: "nearest" });
      } else {
        loc.input.focus();
        loc.input.setSelectionRange(loc.index, loc.index + loc.length);
      }
    }
    underline();
    render();
  }

  function accept(f) {
    var loc = f.loc;
    if (!loc || f.stale || !f.suggestion) return;
    if (loc.quill) {
      var all = loc.quill.getFormat(loc.index, loc.length);
      var inline = {};
      INLINE.forEach(function (k) { if (k in all) inline[k] = all[k]; });
      f.stale = true;
      loc.quill.updateContents(
        new Delta().retain(loc.index).delete(loc.length).insert(f.suggestion, inline), "user");
      loc.quill.setSelection(loc.index + f.suggestion.length, 0, "silent");
    } else {
      f.stale = true;
      loc.input.setRangeText(f.suggestion, loc.index, loc.index + loc.length, "end");
      loc.input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    findings = findings.filter(function (g) { return g !== f; });
    underline();
    render();
  }

  function dismissForm(f, item) {
    var reason = el("input", { type: "text", class: "proof-reason-input", maxlength: "500",
      placeholder: S.reason, "aria-label": S.reason, required: true });
    var error = el("p", { class: "error", hidden: true });
    var ok = el("button", { type: "submit", class: "btn btn-small btn-primary proof-confirm", text: S.confirm });
    var cancel = el("button", { type: "button", class: "btn btn-small proof-cancel", text: S.cancel });
    var box = el("form", { class: "proof-reason", novalidate: true }, reason, ok, cancel, error);
    cancel.addEventListener("click", function () { box.remove(); });
    reason.addEventListener("input", function () { error.hidden = true; });
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!reason.value.trim()) {
        error.textContent = S.reason_required;
        error.hidden = false;
        reason.focus();
        return;
      }
      ok.disabled = true;
      var data = fields();
      Object.assign(data, { part: f.part, start: f.start, end: f.end, key: f.key, reason: reason.value });
      seq++;
      post(setup.urls.proofread_dismiss, data).then(function (res) {
        show(res);
      }).catch(function (err) {
        ok.disabled = false;
        error.textContent = err.message;
        error.hidden = false;
      });
    });
    item.append(box);
    reason.focus();
  }

  function item(f) {
    var found = el("button", { type: "button", class: "proof-found", title: S.show },
      "「", el("mark", { class: "proof-mark-" + f.severity, text: f.text }), "」");
    found.addEventListener("click", function () { select(f); });
    var li = el("li", {
      class: "proof-item proof-" + f.severity + (f.dismissed ? " dismissed" : "") +
        (f.stale ? " stale" : "") + (f.active ? " active" : ""),
      "data-severity": f.severity, "data-family": f.family, "data-part": f.part,
    },
      el("div", { class: "proof-head" },
        el("span", { class: "tag proof-tag-" + f.severity, text: f.severity_label }), " ",
        el("span", { class: "tag", text: f.family_label }), " ",
        el("span", { class: "proof-where", text: f.where })),
      el("p", null, found, " ", el("span", { class: "proof-message", text: f.message })));
    if (f.dismissed) {
      li.append(el("p", { class: "muted proof-dismissed",
        text: S.dismissed.replace("{by}", f.dismissed.by || "—").replace("{reason}", f.dismissed.reason) }));
      return li;
    }
    var actions = el("div", { class: "proof-actions" });
    if (f.suggestion) {
      var use = el("button", { type: "button", class: "btn btn-small proof-accept",
        text: S.accept.replace("{s}", f.suggestion), disabled: !f.loc || f.stale });
      use.addEventListener("click", function () { accept(f); });
      actions.append(use);
    }
    if (f.severity === "veto") {
      actions.append(el("span", { class: "help proof-veto-note", text: S.veto }));
    } else {
      var can = !!P.can_dismiss;
      var dismiss = el("button", { type: "button", class: "btn btn-small proof-dismiss",
        text: S.dismiss, disabled: !can || f.stale, title: can ? S.dismiss_help : P.dismiss_why });
      dismiss.addEventListener("click", function () {
        if (!li.querySelector(".proof-reason")) dismissForm(f, li);
      });
      actions.append(dismiss);
      if (!can) actions.append(el("span", { class: "help proof-why", text: P.dismiss_why }));
    }
    li.append(actions);
    return li;
  }

  function render() {
    var open = findings.filter(function (f) { return !f.dismissed; });
    var shown = open.concat(findings.filter(function (f) { return f.dismissed; }));
    var typing = listEl.querySelector(".proof-reason");
    if (typing && typing.contains(document.activeElement)) return;  // a reason half written
    listEl.replaceChildren.apply(listEl, shown.map(item));
    var n = { veto: 0, error: 0, warning: 0 };
    open.forEach(function (f) { n[f.severity] = (n[f.severity] || 0) + 1; });
    countEl.textContent = open.length ? S.count.replace("{n}", open.length) : "";
    countEl.classList.toggle("over", n.veto + n.error > 0);
    document.getElementById("proof-ok").hidden = open.length > 0;
  }

  // ------------------------------------------------------------ start
  document.addEventListener("article-change", schedule);
  window.articleProofread = {
    check: check, quillText: quillText, utf16At: utf16At, spanIn: spanIn,
    findings: function () { return findings; },
  };
  check();
})();
