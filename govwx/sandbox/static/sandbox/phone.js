// The sandbox phone page: a WeChat chat screen driven by the sandbox's JSON driver API.
// Everything shown comes from the conversation log, so a reload shows the same chat.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("sandbox-strings").textContent);
  var API = document.querySelector(".phone").dataset.api; // …/sandbox/api/accounts
  var $ = function (id) { return document.getElementById(id); };
  var accountSel = $("account"), followerSel = $("follower"), list = $("messages");
  var state = { appid: "", openid: "", followers: [], lastId: 0, pending: {}, rendered: {}, timer: null, busy: null, again: false };
  var MESSAGE_KINDS = ["text", "image", "voice", "location", "link"];

  function fmt(template, value) { return template.replace("%s", value); }

  function status(text) { $("status").textContent = text || ""; }

  function api(method, path, body) {
    var init = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || response.status); }
        return data;
      });
    });
  }

  function followerPath(suffix) {
    return "/" + encodeURIComponent(state.appid) + "/followers/" + encodeURIComponent(state.openid) + (suffix || "");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // ---------------------------------------------------------------- rendering

  function bubble(direction, payload, kind) {
    var row = el("div", "row " + direction);
    var b = el("div", "bubble " + direction);
    b.dataset.kind = kind;
    b.dataset.msgType = payload.msg_type;
    switch (payload.msg_type) {
      case "text": b.textContent = payload.content; break;
      case "image":
        if (payload.pic_url) { var img = el("img"); img.src = payload.pic_url; img.alt = S.image; b.appendChild(img); }
        else { b.textContent = S.image + " " + (payload.media_id || ""); }
        break;
      case "location": b.textContent = S.location + " " + (payload.label || (payload.x + ", " + payload.y)); break;
      case "link": b.textContent = payload.title + "\n" + payload.url; break;
      case "voice": b.textContent = S.voice + (payload.recognition ? " " + payload.recognition : ""); break;
      case "video": b.textContent = S.video + " " + (payload.title || payload.media_id || ""); break;
      case "music": b.textContent = S.music + " " + (payload.title || payload.music_url || ""); break;
      case "template":
        b.classList.add("template-card");
        b.appendChild(el("strong", "", S.template));
        Object.keys(payload.data || {}).forEach(function (k) { b.appendChild(el("div", "", payload.data[k])); });
        if (payload.url) { var a = el("a", "", S.details); a.href = payload.url; a.target = "_blank"; b.appendChild(a); }
        break;
      default: b.textContent = S.other + " " + payload.msg_type;
    }
    row.appendChild(b);
    return row;
  }

  function newsCards(payload, kind) {
    var frag = document.createDocumentFragment();
    (payload.articles || []).forEach(function (article) {
      var row = el("div", "row out");
      var card = el("a", "news-card");
      card.dataset.kind = kind;
      if (article.url) { card.href = article.url; card.target = "_blank"; card.rel = "noopener"; }
      if (article.pic_url) {
        var img = el("img");
        img.alt = "";
        img.addEventListener("error", function () { img.remove(); });
        img.src = article.pic_url;
        card.appendChild(img);
      }
      card.appendChild(el("div", "title", article.title));
      if (article.description) { card.appendChild(el("div", "desc", article.description)); }
      row.appendChild(card);
      frag.appendChild(row);
    });
    return frag;
  }

  function renderEntry(entry) {
    var box = el("div", "entry");
    box.dataset.id = entry.id;
    box.style.display = "contents";
    var p = entry.payload, d = entry.delivery || {};
    if (entry.kind === "inbound") {
      if (MESSAGE_KINDS.indexOf(entry.msg_type) >= 0) { box.appendChild(bubble("in", p, entry.kind)); }
      else if (entry.msg_type === "subscribe") { box.appendChild(el("div", "note", S.followed)); }
      else if (entry.msg_type === "unsubscribe") { box.appendChild(el("div", "note", S.unfollowed)); }
      else if (entry.msg_type === "view") { box.appendChild(el("div", "note", fmt(S.viewed, p.url))); }
      else { box.appendChild(el("div", "note", fmt(S.clicked, p.key))); }
      if (d.error && MESSAGE_KINDS.indexOf(entry.msg_type) >= 0) {
        var row = el("div", "row out");
        row.appendChild(el("div", "bubble out error", S.unavailable));
        box.appendChild(row);
      }
    } else if (p.msg_type === "news") {
      box.appendChild(newsCards(p, entry.kind));
    } else if (p.msg_type === "transfer_customer_service") {
      box.appendChild(el("div", "note", S.transfer));
    } else {
      box.appendChild(bubble("out", p, entry.kind));
    }
    return box;
  }

  function show(entries) {
    entries.forEach(function (entry) {
      var node = renderEntry(entry), old = state.rendered[entry.id];
      if (old) { list.replaceChild(node, old); } else { list.appendChild(node); }
      state.rendered[entry.id] = node;
      // An inbound entry is complete once its callback finished; until then poll it again.
      if (entry.kind === "inbound" && !(entry.delivery && "attempts" in entry.delivery)) { state.pending[entry.id] = true; }
      else { delete state.pending[entry.id]; }
      state.lastId = Math.max(state.lastId, entry.id);
    });
    if (entries.length) { list.scrollTop = list.scrollHeight; }
  }

  // One poll at a time; a poll asked for meanwhile runs right after, so nothing is missed.
  function poll() {
    if (!state.openid) { return Promise.resolve(); }
    if (state.busy) { state.again = true; return state.busy; }
    var pendingIds = Object.keys(state.pending).map(Number);
    var after = pendingIds.length ? Math.min.apply(null, pendingIds) - 1 : state.lastId;
    var openid = state.openid;
    state.busy = api("GET", followerPath("/conversation?after=" + after)).then(function (data) {
      if (openid === state.openid) { show(data.entries); }
    }).catch(function (err) { status(fmt(S.failed, err.message)); })
      .then(function () {
        state.busy = null;
        if (state.again) { state.again = false; return poll(); }
      });
    return state.busy;
  }

  // ---------------------------------------------------------------- menu

  function menuAction(button) {
    if (button.type === "view" || button.type === "miniprogram") {
      window.open(button.url, "_blank", "noopener");
      if (button.type === "view") { send({ type: "view", url: button.url }); }
    } else if (button.type === "click") {
      send({ type: "click", key: button.key });
    } else if (button.type === "scancode_push" || button.type === "scancode_waitmsg") {
      send({ type: button.type, key: button.key, scan_result: "" });
    }
    closeMenus();
  }

  function closeMenus() {
    document.querySelectorAll(".submenu.open").forEach(function (m) { m.classList.remove("open"); });
  }

  function renderMenu(menu) {
    var nav = $("menu");
    nav.textContent = "";
    ((menu && menu.button) || []).forEach(function (top) {
      var item = el("div", "menu-item");
      var btn = el("button", "menu-button", top.name);
      btn.type = "button";
      btn.dataset.testid = "menu-button";
      item.appendChild(btn);
      if (top.sub_button && top.sub_button.length) {
        var sub = el("div", "submenu");
        top.sub_button.forEach(function (child) {
          var c = el("button", "menu-button", child.name);
          c.type = "button";
          c.dataset.testid = "menu-button";
          c.dataset.type = child.type;
          c.addEventListener("click", function (e) { e.stopPropagation(); menuAction(child); });
          sub.appendChild(c);
        });
        item.appendChild(sub);
        btn.addEventListener("click", function (e) {
          e.stopPropagation();
          var open = sub.classList.contains("open");
          closeMenus();
          if (!open) { sub.classList.add("open"); }
        });
      } else {
        btn.dataset.type = top.type;
        btn.addEventListener("click", function () { menuAction(top); });
      }
      nav.appendChild(item);
    });
  }

  document.addEventListener("click", closeMenus);

  // ---------------------------------------------------------------- actions

  function current() {
    return state.followers.filter(function (f) { return f.openid === state.openid; })[0];
  }

  function updateButtons() {
    var f = current();
    $("follow").disabled = !f || f.subscribed;
    $("unfollow").disabled = !f || !f.subscribed;
  }

  function send(body) {
    if (!state.openid) { return Promise.resolve(); }
    status("");
    var f = current();
    if (f && !f.subscribed) { status(S.not_following); return Promise.resolve(); }
    var request = api("POST", followerPath("/messages"), body);
    poll();
    return request.catch(function (err) { status(fmt(S.failed, err.message)); }).then(poll);
  }

  function followAction(which) {
    status("");
    return api("POST", followerPath("/" + which), {})
      .catch(function (err) { status(fmt(S.failed, err.message)); })
      .then(function () { return loadFollowers(state.openid); })
      .then(poll);
  }

  function loadFollowers(select) {
    if (!state.appid) { return Promise.resolve(); }
    return api("GET", "/" + encodeURIComponent(state.appid) + "/followers").then(function (data) {
      state.followers = data.followers;
      followerSel.textContent = "";
      data.followers.forEach(function (f) {
        var option = el("option", "", f.nickname + (f.subscribed ? "" : " ×"));
        option.value = f.openid;
        followerSel.appendChild(option);
      });
      if (!data.followers.length) { status(S.no_follower); }
      var wanted = select || localStorage.getItem("sandbox.follower." + state.appid);
      if (data.followers.some(function (f) { return f.openid === wanted; })) { followerSel.value = wanted; }
      selectFollower(followerSel.value);
    });
  }

  function selectFollower(openid) {
    if (openid !== state.openid) {
      state.openid = openid || "";
      state.lastId = 0;
      state.pending = {};
      state.rendered = {};
      list.textContent = "";
      if (openid) { localStorage.setItem("sandbox.follower." + state.appid, openid); }
    }
    updateButtons();
    return poll();
  }

  function selectAccount(appid) {
    state.appid = appid;
    state.openid = "";
    list.textContent = "";
    localStorage.setItem("sandbox.account", appid);
    var option = accountSel.selectedOptions[0];
    $("account-name").textContent = option ? option.textContent : "";
    api("GET", "/" + encodeURIComponent(appid) + "/menu").then(function (data) { renderMenu(data.menu); });
    return loadFollowers();
  }

  accountSel.addEventListener("change", function () { selectAccount(accountSel.value); });
  followerSel.addEventListener("change", function () { selectFollower(followerSel.value); });
  $("new-follower").addEventListener("click", function () {
    if (!state.appid) { return; }
    status("");
    api("POST", "/" + encodeURIComponent(state.appid) + "/followers", {})
      .then(function (f) { return loadFollowers(f.openid); })
      .catch(function (err) { status(fmt(S.failed, err.message)); });
  });
  $("follow").addEventListener("click", function () { followAction("follow"); });
  $("unfollow").addEventListener("click", function () { followAction("unfollow"); });
  function sendText() {
    var text = $("text").value;
    if (!text.trim()) { return; }
    $("text").value = "";
    send({ type: "text", content: text });
  }
  $("send").addEventListener("click", sendText);
  $("text").addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.isComposing) { sendText(); } });

  api("GET", "").then(function (data) {
    data.accounts.forEach(function (a) {
      var option = el("option", "", a.name);
      option.value = a.appid;
      accountSel.appendChild(option);
    });
    if (!data.accounts.length) { status(S.no_account); updateButtons(); return; }
    var saved = localStorage.getItem("sandbox.account");
    if (data.accounts.some(function (a) { return a.appid === saved; })) { accountSel.value = saved; }
    return selectAccount(accountSel.value);
  }).catch(function (err) { status(fmt(S.failed, err.message)); });

  state.timer = setInterval(poll, 2000);
})();
