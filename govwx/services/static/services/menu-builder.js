/* The custom-menu builder: the tree edited in place, a phone preview redrawn on every
   keystroke with each name's byte count and the rule an item breaks. The server judges
   again on save (govwx.services.menu.validate_tree); these checks only show it early. */
(function () {
  "use strict";
  var setup = JSON.parse(document.getElementById("menu-setup").textContent);
  var T = JSON.parse(document.getElementById("menu-strings").textContent);
  var L = setup.limits;
  var state = {
    tree: normalise(setup.tree),
    conditional: (setup.conditional || []).map(function (c) {
      return { tag_id: c.tag_id, tag_name: c.tag_name || "", button: normalise(c).button };
    }),
  };
  var tags = setup.tags || [];
  var current = -1; // -1: the default menu; n: conditional menu n
  var dirty = false;
  var openSub = -1;

  function normalise(tree) {
    return { button: ((tree && tree.button) || []).map(function (b) { return JSON.parse(JSON.stringify(b)); }) };
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function bytes(s) { return new TextEncoder().encode(s || "").length; }
  function menuNow() { return current < 0 ? state.tree : state.conditional[current]; }

  // ------------------------------------------------------------------ rules

  function leafProblem(item) {
    var kind = item.kind;
    if (!kind) return T.r_kind;
    if (kind === "service") return setup.services.some(function (s) { return s.code === item.service; }) ? "" : T.r_service;
    if (kind === "category") return setup.categories.some(function (c) { return c.value === item.category; }) ? "" : T.r_category;
    if (kind === "url") return goodUrl(item.url) ? "" : T.r_url;
    if (kind === "article") return (item.article_id || "").trim() ? "" : T.r_article;
    if (kind === "click" || kind === "location_select") {
      var k = (item.key || "").trim();
      return k && bytes(k) <= L.key_bytes ? "" : T.r_key;
    }
    if (kind === "miniprogram") {
      if (!/^wx[0-9a-f]{16}$/.test((item.appid || "").trim()) || !(item.pagepath || "").trim()) return T.r_mp;
      return goodUrl(item.url) ? "" : T.r_url;
    }
    if (kind === "hub") return "";
    return T.r_kind;
  }
  function goodUrl(u) {
    u = (u || "").trim();
    return /^https?:\/\/[^\/\s]+/.test(u) && bytes(u) <= L.url_bytes;
  }
  function nameProblem(item, top) {
    var n = item.name || "";
    if (!n.trim()) return T.r_name;
    if (top && bytes(n) > L.top_bytes) return T.r_top_bytes;
    if (!top && bytes(n) > L.sub_bytes) return T.r_sub_bytes;
    return "";
  }
  // Problems of one menu: [{path: [i] or [i, j], rule}]
  function problems(menu) {
    var found = [];
    if (!menu.button.length) found.push({ path: [], rule: T.empty_menu });
    if (menu.button.length > L.top) found.push({ path: [L.top], rule: T.r_top_count });
    menu.button.forEach(function (b, i) {
      var p = nameProblem(b, true);
      if (p) found.push({ path: [i], rule: p });
      if (b.sub_button) {
        if (!b.sub_button.length) found.push({ path: [i], rule: T.r_empty_parent });
        if (b.sub_button.length > L.sub) found.push({ path: [i, L.sub], rule: T.r_sub_count });
        b.sub_button.forEach(function (s, j) {
          var q = nameProblem(s, false) || leafProblem(s);
          if (q) found.push({ path: [i, j], rule: q });
        });
      } else {
        var r = leafProblem(b);
        if (r) found.push({ path: [i], rule: r });
      }
    });
    return found;
  }
  function problemAt(list, path) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].path.join(".") === path.join(".")) return list[i].rule;
    }
    return "";
  }
  function allProblems() {
    var out = problems(state.tree).map(function (p) { return { menu: -1, path: p.path, rule: p.rule }; });
    var seen = {};
    state.conditional.forEach(function (c, n) {
      if (!c.tag_id) out.push({ menu: n, path: [], rule: T.r_tag });
      else if (seen[c.tag_id]) out.push({ menu: n, path: [], rule: T.r_tag_twice });
      seen[c.tag_id] = true;
      problems(c).forEach(function (p) { out.push({ menu: n, path: p.path, rule: p.rule }); });
    });
    return out;
  }

  // ------------------------------------------------------------------ editor

  function changed() {
    dirty = true;
    $("dirty-note").hidden = false;
    var pub = $("publish");
    if (pub) pub.disabled = true;
    drawPreview();
  }

  function input(label, value, onInput, attrs) {
    var wrap = el("label", "mb-field");
    wrap.appendChild(el("span", "mb-label", label));
    var i = el("input");
    i.value = value || "";
    Object.keys(attrs || {}).forEach(function (k) { i.setAttribute(k, attrs[k]); });
    i.addEventListener("input", function () { onInput(i.value); changed(); });
    wrap.appendChild(i);
    return wrap;
  }
  function select(label, options, value, onChange, cls) {
    var wrap = el("label", "mb-field");
    wrap.appendChild(el("span", "mb-label", label));
    var s = el("select", cls);
    var blank = el("option", "", T.choose);
    blank.value = "";
    s.appendChild(blank);
    options.forEach(function (o) {
      var opt = el("option", "", o.label);
      opt.value = o.value;
      if (String(o.value) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onChange(s.value); changed(); });
    wrap.appendChild(s);
    return wrap;
  }

  function kindFields(item, box) {
    var k = item.kind;
    function set(key) { return function (v) { item[key] = v; }; }
    if (k === "service") {
      box.appendChild(select(T.service, setup.services.map(function (s) { return { value: s.code, label: s.name + "（" + s.code + "）" }; }), item.service, set("service"), "item-service"));
    } else if (k === "category") {
      box.appendChild(select(T.category, setup.categories, item.category, set("category"), "item-category"));
    } else if (k === "url") {
      box.appendChild(input(T.url, item.url, set("url"), { class: "item-url", placeholder: "https://" }));
    } else if (k === "article") {
      box.appendChild(input(T.article_id, item.article_id, set("article_id"), { class: "item-article" }));
    } else if (k === "click") {
      // what answers the key: a menu-click reply, 转人工, or nothing (said, not refused)
      var hint = el("span", "mb-hint item-answer");
      var answer = function (v) {
        var a = setup.click_answers[(v || "").trim()];
        hint.textContent = a ? T.answered_by + a : (v || "").trim() ? T.no_answer : "";
        hint.classList.toggle("mb-warn", !a && !!(v || "").trim());
      };
      box.appendChild(input(T.key, item.key, function (v) { item.key = v; answer(v); },
        { class: "item-key", list: "click-keys" }));
      box.appendChild(hint);
      answer(item.key);
    } else if (k === "location_select") {
      box.appendChild(input(T.location_key, item.key, set("key"), { class: "item-key" }));
    } else if (k === "miniprogram") {
      box.appendChild(input(T.mp_appid, item.appid, set("appid"), { class: "item-appid" }));
      box.appendChild(input(T.mp_pagepath, item.pagepath, set("pagepath"), { class: "item-pagepath" }));
      box.appendChild(input(T.mp_url, item.url, set("url"), { class: "item-url", placeholder: "https://" }));
    }
  }

  function moveTools(list, index, redraw) {
    var tools = el("span", "mb-tools");
    [["up", T.up, -1], ["down", T.down, 1]].forEach(function (m) {
      var b = el("button", "btn btn-small item-" + m[0], m[1]);
      b.type = "button";
      b.disabled = index + m[2] < 0 || index + m[2] >= list.length;
      b.addEventListener("click", function () {
        var t = list[index];
        list[index] = list[index + m[2]];
        list[index + m[2]] = t;
        changed();
        redraw();
      });
      tools.appendChild(b);
    });
    var rm = el("button", "btn btn-small btn-danger item-remove", T.remove);
    rm.type = "button";
    rm.addEventListener("click", function () { list.splice(index, 1); changed(); redraw(); });
    tools.appendChild(rm);
    return tools;
  }

  function itemEditor(list, index, top, path) {
    var item = list[index];
    var box = el("div", "mb-item " + (top ? "mb-top" : "mb-sub"));
    box.dataset.path = path.join(".");
    var head = el("div", "mb-item-head");
    var nameWrap = input(T.name, item.name, function (v) { item.name = v; }, { class: "item-name" });
    var count = el("span", "mb-bytes");
    function recount() {
      var limit = top ? L.top_bytes : L.sub_bytes;
      count.textContent = bytes(item.name) + " / " + limit + " " + T.bytes;
      count.classList.toggle("mb-over", bytes(item.name) > limit);
    }
    nameWrap.querySelector("input").addEventListener("input", recount);
    recount();
    nameWrap.appendChild(count);
    head.appendChild(nameWrap);
    var kinds = setup.kinds.slice();
    if (top) kinds = [{ value: "parent", label: T.parent }].concat(kinds);
    var kindValue = item.sub_button ? "parent" : item.kind;
    head.appendChild(select(T.kind, kinds, kindValue, function (v) {
      if (v === "parent") {
        delete item.kind;
        item.sub_button = item.sub_button || [];
      } else {
        delete item.sub_button;
        item.kind = v;
      }
      drawEditor();
    }, "item-kind"));
    head.appendChild(moveTools(list, index, drawEditor));
    box.appendChild(head);
    var fields = el("div", "mb-fields");
    if (item.sub_button) {
      var subs = el("div", "mb-subs");
      item.sub_button.forEach(function (s, j) { subs.appendChild(itemEditor(item.sub_button, j, false, path.concat([j]))); });
      fields.appendChild(subs);
      var add = el("button", "btn btn-small add-sub", T.add_sub);
      add.type = "button";
      add.disabled = item.sub_button.length >= L.sub;
      add.addEventListener("click", function () {
        item.sub_button.push({ name: "", kind: "click", key: "" });
        openSub = index;
        changed();
        drawEditor();
      });
      fields.appendChild(add);
    } else {
      kindFields(item, fields);
    }
    box.appendChild(fields);
    return box;
  }

  function drawTabs() {
    var tabs = $("mb-tabs");
    tabs.textContent = "";
    function tab(label, n) {
      var b = el("button", "mb-tab", label);
      b.type = "button";
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", String(current === n));
      b.dataset.menu = String(n);
      b.addEventListener("click", function () { current = n; openSub = -1; drawAll(); });
      tabs.appendChild(b);
    }
    tab(T.default, -1);
    state.conditional.forEach(function (c, n) { tab(T.conditional + "：" + (c.tag_name || c.tag_id || "?"), n); });
    var add = el("button", "mb-tab mb-tab-add", T.add_conditional);
    add.type = "button";
    add.id = "add-conditional";
    add.disabled = state.conditional.length >= L.conditional;
    add.addEventListener("click", function () {
      state.conditional.push({ tag_id: null, tag_name: "", button: JSON.parse(JSON.stringify(state.tree.button)) });
      current = state.conditional.length - 1;
      changed();
      drawAll();
    });
    tabs.appendChild(add);

    var tools = $("mb-tab-tools");
    tools.textContent = "";
    if (current < 0) return;
    var c = state.conditional[current];
    tools.appendChild(el("p", "help", T.conditional_help));
    var options = tags.map(function (t) { return { value: t.id, label: t.name + "（" + t.id + "）" }; });
    if (c.tag_id && !tags.some(function (t) { return t.id === c.tag_id; })) {
      options.push({ value: c.tag_id, label: (c.tag_name || "") + "（" + c.tag_id + "）" });
    }
    tools.appendChild(select(T.choose_tag, options, c.tag_id || "", function (v) {
      c.tag_id = v ? parseInt(v, 10) : null;
      var t = tags.filter(function (x) { return String(x.id) === v; })[0];
      c.tag_name = t ? t.name : c.tag_name;
      drawTabs();
    }, "conditional-tag"));
    var refresh = el("button", "btn btn-small", T.refresh_tags);
    refresh.type = "button";
    refresh.id = "refresh-tags";
    var note = el("span", "muted", tags.length ? "" : T.no_tags);
    refresh.addEventListener("click", function () {
      // Queued on the server; ask for the tags until a reading made since is there.
      refresh.disabled = true;
      note.textContent = T.reading_tags;
      var csrf = document.querySelector("#menu-form input[name=csrfmiddlewaretoken]").value;
      fetch(setup.tags_refresh_url, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        credentials: "same-origin",
      })
        .then(function (r) { return r.json(); })
        .then(function (queued) {
          var tries = 0;
          function ask() {
            fetch(queued.tags_url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
              .then(function (r) { return r.json(); })
              .then(function (data) {
                if (data.read_at && data.read_at >= queued.requested_at) {
                  tags = data.tags || [];
                  drawTabs();
                  if (data.error) $("mb-tab-tools").appendChild(el("p", "error", data.error));
                } else if (++tries < 20) {
                  setTimeout(ask, 1000);
                } else {
                  refresh.disabled = false;
                  note.textContent = T.tags_late;
                }
              });
          }
          ask();
        });
    });
    tools.appendChild(refresh);
    tools.appendChild(note);
    var rm = el("button", "btn btn-small btn-danger", T.remove_conditional);
    rm.type = "button";
    rm.id = "remove-conditional";
    rm.addEventListener("click", function () {
      state.conditional.splice(current, 1);
      current = -1;
      changed();
      drawAll();
    });
    tools.appendChild(rm);
  }

  function drawEditor() {
    var box = $("mb-editor");
    box.textContent = "";
    var menu = menuNow();
    menu.button.forEach(function (b, i) { box.appendChild(itemEditor(menu.button, i, true, [i])); });
    var add = el("button", "btn btn-small", T.add_top);
    add.type = "button";
    add.id = "add-top";
    add.disabled = menu.button.length >= L.top;
    add.addEventListener("click", function () {
      menu.button.push({ name: "", kind: "click", key: "" });
      changed();
      drawEditor();
    });
    box.appendChild(add);
    drawPreview();
  }

  // ------------------------------------------------------------------ preview

  function describe(item) {
    if (item.sub_button) return "";
    var k = item.kind;
    if (k === "service") {
      var s = setup.services.filter(function (x) { return x.code === item.service; })[0];
      return s ? s.name : "";
    }
    if (k === "category") {
      var c = setup.categories.filter(function (x) { return x.value === item.category; })[0];
      return c ? c.label : "";
    }
    if (k === "url" || k === "miniprogram") return item.url || "";
    if (k === "click" || k === "location_select") return "key " + (item.key || "");
    if (k === "article") return "article " + (item.article_id || "");
    if (k === "hub") return setup.hub_url;
    return "";
  }

  function previewButton(item, top, list, path) {
    var b = el("button", top ? "pv-top" : "pv-sub");
    b.type = "button";
    b.dataset.path = path.join(".");
    var rule = problemAt(list, path);
    if (rule) b.classList.add("pv-bad");
    b.appendChild(el("span", "pv-name", item.name || "—"));
    var limit = top ? L.top_bytes : L.sub_bytes;
    var count = el("span", "pv-bytes", bytes(item.name) + "/" + limit);
    if (bytes(item.name) > limit) count.classList.add("mb-over");
    b.appendChild(count);
    if (rule) b.appendChild(el("span", "pv-error", rule));
    b.title = rule || T.opens + describe(item);
    return b;
  }

  function drawPreview() {
    var menu = menuNow();
    var list = problems(menu);
    var bar = $("pv-menu");
    bar.textContent = "";
    menu.button.forEach(function (b, i) {
      var cell = el("div", "pv-cell");
      var top = previewButton(b, true, list, [i]);
      if (b.sub_button) {
        top.classList.add("pv-parent");
        var pop = el("div", "pv-pop");
        pop.hidden = openSub !== i;
        b.sub_button.forEach(function (s, j) { pop.appendChild(previewButton(s, false, list, [i, j])); });
        cell.appendChild(pop);
        top.addEventListener("click", function () { openSub = openSub === i ? -1 : i; drawPreview(); });
      } else {
        top.addEventListener("click", function () { $("pv-note").textContent = T.opens + describe(b); });
      }
      cell.insertBefore(top, cell.firstChild);
      bar.appendChild(cell);
    });
    var c = current >= 0 ? state.conditional[current] : null;
    $("pv-title").textContent = c ? T.conditional + "：" + (c.tag_name || c.tag_id || "?") : T.default;

    var all = allProblems();
    var ul = $("pv-problems");
    ul.textContent = "";
    if (!all.length) {
      ul.appendChild(el("li", "pv-ok", "✓ " + T.ok));
    }
    all.forEach(function (p) {
      var where = p.menu < 0 ? T.default : T.conditional + "：" + (state.conditional[p.menu].tag_name || "?");
      var m = p.menu < 0 ? state.tree : state.conditional[p.menu];
      var names = [];
      if (p.path.length) {
        var top = m.button[p.path[0]];
        if (top) names.push(top.name || "#" + (p.path[0] + 1));
        if (p.path.length > 1 && top && top.sub_button && top.sub_button[p.path[1]]) {
          names.push(top.sub_button[p.path[1]].name || "#" + (p.path[1] + 1));
        }
      }
      ul.appendChild(el("li", "error", where + (names.length ? " › 「" + names.join(" › ") + "」" : "") + "：" + p.rule));
    });
  }

  function drawAll() {
    drawTabs();
    drawEditor();
  }

  $("menu-form").addEventListener("submit", function () {
    $("tree-field").value = JSON.stringify(state.tree);
    $("conditional-field").value = JSON.stringify(state.conditional);
  });
  drawAll();
})();
