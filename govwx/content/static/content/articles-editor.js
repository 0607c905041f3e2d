/* The article editor: the body as a list of blocks (text in Quill, pictures, audio and
   video from the material library, links), the live checks and the phone preview (both
   from the server: articles.check and render), and the editor's lock, renewed while the
   page is open and released when it is left. The form posts as a normal form; this
   script only fills in the body (JSON) before it goes. */
(function () {
  "use strict";
  var setup = JSON.parse(document.getElementById("editor-setup").textContent);
  var S = JSON.parse(document.getElementById("editor-strings").textContent);
  var form = document.getElementById("article-form");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var bodyField = document.getElementById("body-field");
  var blocksEl = document.getElementById("blocks");
  var materials = setup.materials || {};
  var blocks = [];
  var submitting = false;
  var Quill = window.Quill;

  // Alignment as an inline style (WeChat keeps styles, not Quill's classes).
  Quill.register(Quill.import("attributors/style/align"), true);
  var TOOLBAR = [
    [{ header: [2, 3, false] }],
    ["bold", "italic", "underline", "strike"],
    [{ color: [] }, { background: [] }],
    [{ list: "ordered" }, { list: "bullet" }],
    [{ align: [] }],
    ["blockquote", "link"],
    ["clean"],
  ];
  var FORMATS = ["header", "bold", "italic", "underline", "strike", "color", "background",
    "list", "align", "blockquote", "link"];

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

  function chars(s) { return Array.from(s).length; }

  // Quill 2.0.3's getSemanticHTML writes every space as &nbsp;: keep single spaces
  // plain (lines wrap, and the body's length is counted as WeChat counts it).
  function semantic(quill) {
    if (quill.getLength() <= 1) return "";
    return quill.getSemanticHTML().replace(/(&nbsp;)+/g, function (m) {
      var n = m.length / 6;
      return n === 1 ? " " : " " + "&nbsp;".repeat(n - 1);
    });
  }

  // ------------------------------------------------------------ changes and checks
  var checkTimer = null;
  var checkSeq = 0;
  function changed() {
    document.getElementById("dirty-note").hidden = false;
    updatePhoneHead();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 700);
    // proofreading (articles-proofread.js) checks again once typing stops
    document.dispatchEvent(new Event("article-change"));
  }

  function collect() {
    return blocks.map(function (b) { return b.read(); });
  }

  function fillBody() {
    bodyField.value = JSON.stringify(collect());
  }

  function check() {
    clearTimeout(checkTimer);
    fillBody();
    var seq = ++checkSeq;
    var wait = document.getElementById("checks-wait");
    wait.textContent = S.checking;
    wait.hidden = false;
    var data = new FormData(form);
    return fetch(setup.urls.check, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (res) {
      if (seq !== checkSeq) return;
      showProblems(res.problems || []);
      var body = document.getElementById("pv-body");
      if (res.html) body.innerHTML = res.html;  // sanitised by the server (nh3)
      else body.replaceChildren(el("p", { class: "wx-empty", text: S.empty_body }));
      var count = document.getElementById("body-count");
      count.textContent = S.chars.replace("{n}", res.chars).replace("{max}", setup.limits.chars);
      count.classList.toggle("over", res.chars >= setup.limits.chars);
      wait.hidden = true;
    }).catch(function () {
      if (seq !== checkSeq) return;
      wait.textContent = S.check_failed;
      wait.hidden = false;
    });
  }

  function showProblems(list) {
    var ul = document.getElementById("live-problems");
    ul.replaceChildren();
    list.forEach(function (p) { ul.append(el("li", { class: "problem", text: p })); });
    document.getElementById("checks-ok").hidden = list.length > 0;
    blocks.forEach(function (b, i) {
      var mark = "第 " + (i + 1) + " 段";
      b.root.classList.toggle("has-problem", list.some(function (p) { return p.indexOf(mark) === 0; }));
    });
  }

  // ------------------------------------------------------------ counters, phone head
  function counter(inputId, countId, max) {
    var input = document.getElementById(inputId);
    var out = document.getElementById(countId);
    function update() {
      var n = chars(input.value.trim());
      out.textContent = n + " / " + max;
      out.classList.toggle("over", n > max);
    }
    input.addEventListener("input", function () { update(); changed(); });
    update();
  }

  function updatePhoneHead() {
    var title = document.getElementById("id_title").value.trim();
    document.getElementById("pv-title").textContent = title;
    document.getElementById("pv-author").textContent = document.getElementById("id_author").value.trim();
    var original = document.getElementById("original-yes").checked;
    document.getElementById("pv-original").hidden = !original;
    document.getElementById("pv-repost").hidden = original;
    var source = document.getElementById("id_source_name").value.trim();
    document.getElementById("pv-source").hidden = original || !source;
    document.getElementById("pv-source-name").textContent = source;
  }

  // ------------------------------------------------------------ the picker
  var picker = document.getElementById("picker");
  var pickerQ = document.getElementById("picker-q");
  var pickerItems = document.getElementById("picker-items");
  var pickerState = null;
  var pickerTimer = null;

  function openPicker(title, load, onPick) {
    pickerState = { load: load, onPick: onPick };
    document.getElementById("picker-title").textContent = title;
    pickerQ.value = "";
    picker.showModal();
    pickerQ.focus();
    refreshPicker();
  }

  function refreshPicker() {
    if (!pickerState) return;
    var state = pickerState;
    pickerItems.replaceChildren(el("p", { class: "muted", text: S.loading }));
    document.getElementById("picker-empty").hidden = true;
    state.load(pickerQ.value.trim()).then(function (render) {
      if (state !== pickerState) return;
      pickerItems.replaceChildren(render);
      document.getElementById("picker-empty").hidden = render.childElementCount > 0;
    }).catch(function () {
      pickerItems.replaceChildren(el("p", { class: "error", text: S.failed }));
    });
  }

  pickerQ.addEventListener("input", function () {
    clearTimeout(pickerTimer);
    pickerTimer = setTimeout(refreshPicker, 300);
  });
  pickerQ.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {  // search, not close the dialog (its form's submit)
      e.preventDefault();
      clearTimeout(pickerTimer);
      refreshPicker();
    }
  });
  picker.addEventListener("close", function () { pickerState = null; });

  function getJSON(url, params) {
    var q = new URLSearchParams(params).toString();
    return fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + q, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    });
  }

  function choose(item) {
    var state = pickerState;
    picker.close();
    if (state) state.onPick(item);
  }

  function pickMaterial(kind, title, onPick) {
    openPicker(title, function (q) {
      return getJSON(setup.urls.materials, { kind: kind, q: q }).then(function (res) {
        var grid = el("div", { class: kind === "image" ? "picker-grid" : "picker-list" });
        res.items.forEach(function (m) {
          materials[String(m.id)] = m;
          var b = el("button", { type: "button", class: "picker-item", "data-material": m.id },
            kind === "image" ? el("img", { src: m.thumb || m.url, alt: "", loading: "lazy" }) : null,
            el("span", { text: m.title }),
            m.caption ? el("small", { text: m.caption }) : null);
          b.addEventListener("click", function () { choose(m); });
          grid.append(b);
        });
        return grid;
      });
    }, onPick);
  }

  function pickLink(url, title, onPick) {
    openPicker(title, function (q) {
      return getJSON(url, { q: q }).then(function (res) {
        var list = el("div", { class: "picker-list" });
        res.items.forEach(function (it) {
          var b = el("button", { type: "button", class: "picker-item" },
            el("span", { text: it.title }), el("small", { text: it.published_at || it.code || "" }));
          b.addEventListener("click", function () { choose(it); });
          list.append(b);
        });
        return list;
      });
    }, onPick);
  }

  // ------------------------------------------------------------ blocks
  function input(label, value, attrs) {
    var field = el("input", Object.assign({ type: "text", value: value || "" }, attrs || {}));
    field.addEventListener("input", changed);
    return { label: el("label", null, el("span", { text: label }), field), field: field };
  }

  function materialView(kind, id) {
    var m = id ? materials[String(id)] : null;
    if (!m) return el("span", { class: "none", text: S.none });
    if (kind === "image") return el("span", null, el("img", { src: m.url, alt: m.caption || m.title }), " ", el("span", { text: m.title }));
    if (kind === "voice") return el("span", null, el("audio", { controls: true, src: m.url, preload: "none" }), " ", el("span", { text: m.title }));
    return el("span", { text: S.video + "：" + m.title });
  }

  function materialPicker(kind, id, onChange) {
    var state = { id: id || null };
    var view = el("span");
    var button = el("button", { type: "button", class: "btn btn-small pick-material" });
    function show() {
      view.replaceChildren(materialView(kind, state.id));
      button.textContent = state.id ? S.change : S.pick;
    }
    button.addEventListener("click", function () {
      pickMaterial(kind, S["pick_" + kind], function (m) {
        state.id = m.id;
        show();
        if (onChange) onChange(m);
        changed();
      });
    });
    show();
    return { root: el("div", { class: "ab-pick" }, view, button), state: state };
  }

  var BUILD = {
    text: function (data, body, head) {
      var holder = el("div");
      var wrap = el("div", null, holder);
      var src = el("textarea", { class: "ab-source", hidden: true, "aria-label": S.source, spellcheck: "false" });
      var help = el("p", { class: "help", text: S.source_help, hidden: true });
      body.append(wrap, help, src);
      var quill = new Quill(holder, {
        theme: "snow",
        modules: { toolbar: TOOLBAR },
        formats: FORMATS,
        placeholder: S.placeholder,
      });
      var source = !!data.source;
      if (source) src.value = data.html || "";
      else if (data.html) quill.setContents(quill.clipboard.convert({ html: data.html }), "silent");
      var toggle = el("button", { type: "button", class: "btn btn-small ab-toggle" });
      head.insertBefore(toggle, head.querySelector(".ab-tools"));
      function show() {
        wrap.hidden = source;
        src.hidden = !source;
        help.hidden = !source;
        toggle.textContent = source ? S.visual : S.source;
      }
      toggle.addEventListener("click", function () {
        if (source) quill.setContents(quill.clipboard.convert({ html: src.value }), "silent");
        else src.value = semantic(quill);
        source = !source;
        show();
        changed();
      });
      quill.on("text-change", function (delta, old, origin) { if (origin !== "silent") changed(); });
      src.addEventListener("input", changed);
      show();
      return {
        quill: quill,
        read: function () {
          var out = { type: "text", html: source ? src.value : semantic(quill) };
          if (source) out.source = true;
          return out;
        },
      };
    },
    image: function (data, body) {
      var caption = input(S.caption, data.caption, { class: "ab-caption" });
      var pick = materialPicker("image", data.material, function (m) {
        if (!caption.field.value && m.caption) caption.field.value = m.caption;
      });
      body.append(pick.root, caption.label);
      return {
        read: function () {
          var out = { type: "image", material: pick.state.id };
          if (caption.field.value.trim()) out.caption = caption.field.value.trim();
          return out;
        },
      };
    },
    audio: function (data, body) {
      var pick = materialPicker("voice", data.material);
      body.append(pick.root);
      return { read: function () { return { type: "audio", material: pick.state.id }; } };
    },
    video: function (data, body, head, index) {
      var name = "video-mode-" + index + "-" + Math.random().toString(36).slice(2, 7);
      var byUrl = !!data.url && !data.material;
      var lib = el("input", { type: "radio", name: name, value: "library", checked: !byUrl });
      var web = el("input", { type: "radio", name: name, value: "url", checked: byUrl });
      var pick = materialPicker("video", data.material);
      var url = input(S.video_url_label, data.url, { type: "url", class: "ab-url", placeholder: "https://v.qq.com/x/page/….html" });
      var modes = el("div", { class: "ae-choice" },
        el("label", null, lib, " " + S.video_library), el("label", null, web, " " + S.video_url));
      function show() {
        pick.root.hidden = web.checked;
        url.label.hidden = !web.checked;
      }
      [lib, web].forEach(function (r) { r.addEventListener("change", function () { show(); changed(); }); });
      body.append(modes, pick.root, url.label);
      show();
      return {
        read: function () {
          if (web.checked) return { type: "video", url: url.field.value.trim() };
          return { type: "video", material: pick.state.id };
        },
      };
    },
    h5: function (data, body) {
      var title = input(S.link_title, data.title, { class: "ab-title" });
      var url = input(S.url, data.url, { type: "url", class: "ab-url", placeholder: "https://" });
      body.append(title.label, url.label);
      return {
        read: function () {
          return { type: "h5", title: title.field.value.trim(), url: url.field.value.trim() };
        },
      };
    },
    service: function (data, body) {
      return linkBlock("service", "guide", setup.urls.guides, S.pick_guide, data, body, function (it) { return it.code; });
    },
    article: function (data, body) {
      return linkBlock("article", "article", setup.urls.articles, S.pick_article, data, body, function (it) { return it.id; });
    },
  };

  function linkBlock(type, key, pickUrl, pickTitle, data, body, keyOf) {
    var ref = data[key] || null;
    var title = input(S.link_title, data.title, { class: "ab-title" });
    var url = input(S.url, data.url, { type: "url", class: "ab-url", placeholder: "https://" });
    if (pickUrl) {
      var button = el("button", { type: "button", class: "btn btn-small pick-link", text: pickTitle });
      button.addEventListener("click", function () {
        pickLink(pickUrl, pickTitle, function (it) {
          ref = keyOf(it);
          title.field.value = it.title;
          url.field.value = it.url;
          changed();
        });
      });
      body.append(el("div", { class: "ab-pick" }, button));
    }
    body.append(title.label, url.label);
    return {
      read: function () {
        var out = { type: type, title: title.field.value.trim(), url: url.field.value.trim() };
        if (ref) out[key] = ref;
        return out;
      },
    };
  }

  function renumber() {
    blocks.forEach(function (b, i) {
      b.root.querySelector(".ab-n").textContent = "#" + (i + 1);
      b.root.dataset.index = String(i + 1);
    });
  }

  function addBlock(data, at, focus) {
    var type = data.type in BUILD ? data.type : "text";
    var tools = el("span", { class: "ab-tools" });
    var head = el("div", { class: "ab-head" },
      el("span", { class: "ab-kind", text: S[type] }), el("span", { class: "ab-n" }), tools);
    var body = el("div", { class: "ab-body" });
    var root = el("section", { class: "ab-block", "data-type": type }, head, body);
    if (at === undefined || at >= blocks.length) blocksEl.append(root);
    else blocksEl.insertBefore(root, blocks[at].root);
    var built = BUILD[type](data, body, head, blocks.length);
    var block = { type: type, root: root, read: built.read, quill: built.quill };
    [["up", -1], ["down", 1]].forEach(function (pair) {
      var b = el("button", { type: "button", class: "btn ab-" + pair[0], title: S[pair[0]], "aria-label": S[pair[0]], text: pair[1] < 0 ? "↑" : "↓" });
      b.addEventListener("click", function () { move(block, pair[1]); });
      tools.append(b);
    });
    var del = el("button", { type: "button", class: "btn ab-remove", text: S.remove });
    del.addEventListener("click", function () { remove(block); });
    tools.append(del);
    if (at === undefined || at >= blocks.length) blocks.push(block);
    else blocks.splice(at, 0, block);
    renumber();
    if (focus) {
      root.scrollIntoView({ block: "nearest" });
      if (block.quill) block.quill.focus();
    }
    return block;
  }

  function move(block, by) {
    var i = blocks.indexOf(block);
    var j = i + by;
    if (j < 0 || j >= blocks.length) return;
    blocks.splice(i, 1);
    blocks.splice(j, 0, block);
    if (by < 0) blocksEl.insertBefore(block.root, blocks[j + 1].root);
    else blocksEl.insertBefore(block.root, blocks[j - 1].root.nextSibling);
    renumber();
    changed();
  }

  function remove(block) {
    var i = blocks.indexOf(block);
    if (i < 0) return;
    blocks.splice(i, 1);
    block.root.remove();
    renumber();
    changed();
  }

  document.querySelectorAll("#add-bar [data-add]").forEach(function (b) {
    b.addEventListener("click", function () {
      addBlock({ type: b.dataset.add }, undefined, true);
      changed();
    });
  });

  // ------------------------------------------------------------ fields
  counter("id_title", "title-count", setup.limits.title);
  counter("id_author", "author-count", setup.limits.author);
  counter("id_digest", "digest-count", setup.limits.digest);
  ["id_source_name", "id_source_url", "id_source_department", "id_category"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", changed);
  });
  form.querySelectorAll("input[name=locality], input[name=original]").forEach(function (r) {
    r.addEventListener("change", function () {
      document.getElementById("repost-fields").hidden = document.getElementById("original-yes").checked;
      changed();
    });
  });

  var cover = document.getElementById("id_cover");
  document.getElementById("cover-pick").addEventListener("click", function () {
    pickMaterial("image", S.pick_cover, function (m) {
      cover.value = m.id;
      document.getElementById("cover-thumb").replaceChildren(el("img", { src: m.thumb || m.url, alt: m.title }));
      document.getElementById("cover-title").textContent = m.title;
      document.getElementById("cover-clear").hidden = false;
      changed();
    });
  });
  document.getElementById("cover-clear").addEventListener("click", function () {
    cover.value = "";
    document.getElementById("cover-thumb").replaceChildren(el("span", { class: "empty-thumb", text: S.none }));
    document.getElementById("cover-title").textContent = "";
    this.hidden = true;
    changed();
  });

  document.getElementById("check-now").addEventListener("click", check);
  form.addEventListener("submit", function () {
    fillBody();
    submitting = true;
  });
  var over = document.getElementById("save-over");
  if (over) {
    over.addEventListener("click", function () {
      document.getElementById("revision-field").value = over.dataset.revision;
      form.requestSubmit(document.getElementById("save"));
    });
  }

  // ------------------------------------------------------------ the lock
  function lockForm() {
    var fd = new FormData();
    fd.append("csrfmiddlewaretoken", csrf);
    return fd;
  }

  function renew() {
    if (!setup.urls.lock) return;
    fetch(setup.urls.lock, {
      method: "POST",
      body: lockForm(),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
    }).then(function (r) {
      return r.json().then(function (res) { return { status: r.status, res: res }; });
    }).then(function (out) {
      var banner = document.getElementById("lock-lost");
      if (out.status === 423) {
        banner.querySelector("p").textContent = S.lock_lost + out.res.error;
        banner.hidden = false;
      } else if (out.status === 200) {
        banner.hidden = true;
      }
    }).catch(function () { /* offline: the next renewal tries again */ });
  }

  if (setup.urls.lock) {
    setInterval(renew, setup.renew_seconds * 1000);
    window.addEventListener("pagehide", function () {
      if (!submitting && setup.urls.release) navigator.sendBeacon(setup.urls.release, lockForm());
    });
    window.addEventListener("pageshow", function (e) { if (e.persisted) renew(); });
  }

  // ------------------------------------------------------------ start
  (setup.body || []).forEach(function (data) { addBlock(data); });
  if (!blocks.length) addBlock({ type: "text" });
  fillBody();
  updatePhoneHead();
  check();
  window.articleEditor = { blocks: blocks, collect: collect, check: check };
})();
