// The sandbox phone page: a WeChat chat screen driven by the sandbox's JSON driver API.
// Everything shown comes from the conversation log, so a reload shows the same chat.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("sandbox-strings").textContent);
  var PHONE = document.querySelector(".phone");
  var API = PHONE.dataset.api; // …/sandbox/api/accounts
  // The page's own strings, from data-s-* attributes: data-s-bad-location → S.bad_location
  Object.keys(PHONE.dataset).forEach(function (k) {
    if (/^s[A-Z]/.test(k)) { S[k.charAt(1).toLowerCase() + k.slice(2).replace(/[A-Z]/g, function (c) { return "_" + c.toLowerCase(); })] = PHONE.dataset[k]; }
  });
  // Places in the demo city for the location picker (WGS-84: Location_X is the latitude).
  var PLACES = [
    { label: "示例市政务服务中心", poiname: "政务服务中心", x: 34.3416, y: 108.9398 },
    { label: "钟楼广场", poiname: "钟楼", x: 34.2611, y: 108.9423 },
    { label: "示例市火车站", poiname: "火车站", x: 34.2787, y: 108.9618 },
    { label: "大雁塔北广场", poiname: "大雁塔", x: 34.2195, y: 108.9645 },
    { label: "高新区软件园", poiname: "软件园", x: 34.2069, y: 108.8845 }
  ];
  var $ = function (id) { return document.getElementById(id); };
  var accountSel = $("account"), followerSel = $("follower"), list = $("messages");
  var state = { appid: "", openid: "", followers: [], lastId: 0, pending: {}, rendered: {}, timer: null, busy: null, again: false, menu: null, menuid: "", menuFor: null, modeChosen: false, picking: null };
  var MESSAGE_KINDS = ["text", "image", "voice", "video", "shortvideo", "location", "link"];
  var MEDIA = PHONE.dataset.media.replace(/ID$/, ""); // + media_id: a media file as the phone shows it

  function fmt(template, value) { return template.replace("%s", value); }

  function status(text) { $("status").textContent = text || ""; }

  function api(method, path, body) {
    var init = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data;
        try { data = JSON.parse(text); } catch (e) { throw new Error(response.status + " " + response.statusText); }
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
      case "text": richText(b, payload.content || ""); break;
      case "image":
        // a follower's picture by its PicUrl; the account's (customer-service or passive
        // reply) by its media_id, as WeChat shows the temporary media it keeps
        var src = payload.pic_url || (payload.media_id ? MEDIA + encodeURIComponent(payload.media_id) : "");
        if (src) {
          var img = el("img"); img.src = src; img.alt = S.image;
          if (payload.media_id) { img.dataset.mediaId = payload.media_id; }
          img.addEventListener("error", function () { img.remove(); b.textContent = S.image + " " + (payload.media_id || ""); });
          b.appendChild(img);
        } else { b.textContent = S.image; }
        break;
      case "location": b.textContent = S.location + " " + (payload.label || (payload.x + ", " + payload.y)); break;
      case "link": b.textContent = payload.title + "\n" + payload.url; break;
      case "voice": b.textContent = S.voice + (payload.recognition ? " " + payload.recognition : ""); break;
      case "video": case "shortvideo": b.textContent = S.video + " " + (payload.title || ""); break;
      case "music": b.textContent = S.music + " " + (payload.title || payload.music_url || ""); break;
      case "template":
        b.classList.add("template-card");
        b.appendChild(el("strong", "", S.template));
        Object.keys(payload.data || {}).forEach(function (k) { b.appendChild(el("div", "", payload.data[k])); });
        if (payload.url) { var a = el("a", "", S.details); a.href = payload.url; inPhone(a, payload.url, S.template); b.appendChild(a); }
        break;
      default: b.textContent = S.other + " " + payload.msg_type;
    }
    row.appendChild(b);
    return row;
  }

  // WeChat shows <a href="…">…</a> in a text message as a link, and everything else as
  // text: build exactly that (never innerHTML), links opening in the in-phone browser.
  var ANCHOR = /<a\s+href="([^"]*)"\s*>([\s\S]*?)<\/a>/g;
  function richText(node, content) {
    var last = 0, m;
    ANCHOR.lastIndex = 0;
    while ((m = ANCHOR.exec(content)) !== null) {
      node.appendChild(document.createTextNode(content.slice(last, m.index)));
      var a = el("a", "text-link", m[2]);
      var url = m[1];
      if (/^https?:\/\//i.test(url)) {
        a.href = url;
        a.addEventListener("click", function (u, t) {
          return function (e) { e.preventDefault(); openBrowser(u, t); };
        }(url, m[2]));
      }
      node.appendChild(a);
      last = ANCHOR.lastIndex;
    }
    node.appendChild(document.createTextNode(content.slice(last)));
  }

  function newsCards(payload, kind) {
    var frag = document.createDocumentFragment();
    (payload.articles || []).forEach(function (article) {
      var row = el("div", "row out");
      var card = el("a", "news-card");
      card.dataset.kind = kind;
      if (article.url) { card.href = article.url; inPhone(card, article.url, article.title); }
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

  // A mass-sent or previewed article message: its cards open the article as WeChat shows
  // it (a read of this follower), not a web page.
  function articleCards(payload, kind) {
    var frag = document.createDocumentFragment();
    (payload.articles || []).forEach(function (article) {
      var row = el("div", "row out");
      var card = el("a", "news-card");
      card.href = article.url || "#";
      card.dataset.kind = kind;
      card.dataset.testid = "article-card";
      card.dataset.articleId = payload.article_id;
      card.dataset.idx = article.idx;
      card.addEventListener("click", function (e) {
        if (e.ctrlKey || e.metaKey || e.shiftKey) { return; }
        e.preventDefault();
        openArticle(payload.article_id, article.idx, article.url);
      });
      if (article.pic_url) {
        var img = el("img");
        img.alt = "";
        img.addEventListener("error", function () { img.remove(); });
        img.src = article.pic_url;
        card.appendChild(img);
      }
      card.appendChild(el("div", "title", article.title));
      if (article.description) { card.appendChild(el("div", "desc", article.description)); }
      if (kind === "preview") { card.appendChild(el("span", "mark", S.preview)); }
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
      else if (entry.msg_type === "view_miniprogram") { box.appendChild(el("div", "note", fmt(S.program_opened, p.pagepath))); }
      else if (entry.msg_type === "location_select") { box.appendChild(el("div", "note", fmt(S.location_selected, p.label || (p.x + ", " + p.y)))); }
      else { box.appendChild(el("div", "note", fmt(S.clicked, p.key))); }
      if (d.error && MESSAGE_KINDS.indexOf(entry.msg_type) >= 0) {
        var row = el("div", "row out");
        row.appendChild(el("div", "bubble out error", S.unavailable));
        box.appendChild(row);
      }
    } else if (p.msg_type === "news") {
      box.appendChild(newsCards(p, entry.kind));
    } else if (p.msg_type === "mpnews") {
      box.appendChild(articleCards(p, entry.kind));
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

  // ---------------------------------------------------------------- in-phone browser

  // Pages govwx serves (same origin) load inside the phone; another site's address is
  // shown with a link to open it in a new tab, as the sandbox must not fetch it itself.
  function openBrowser(url, title, note) {
    var same = false;
    try { same = new URL(url, location.href).origin === location.origin; } catch (e) { same = false; }
    var frame = $("browser-frame");
    $("browser-title").textContent = title || url;
    $("browser-note").textContent = note || "";
    if (same) {
      frame.hidden = false;
      $("browser-external").hidden = true;
      frame.src = url;
    } else {
      frame.hidden = true;
      frame.removeAttribute("src");
      $("browser-url").textContent = url;
      $("browser-open").href = url;
      $("browser-external").hidden = false;
    }
    $("browser").hidden = false;
  }

  function closeBrowser() {
    $("browser").hidden = true;
    $("browser-frame").removeAttribute("src");
  }

  function inPhone(link, url, title) {
    link.addEventListener("click", function (e) {
      if (e.ctrlKey || e.metaKey || e.shiftKey) { return; } // a new tab, as asked
      e.preventDefault();
      openBrowser(url, title);
    });
  }

  $("browser-close").addEventListener("click", closeBrowser);

  // ---------------------------------------------------------------- articles

  var shownArticle = null; // {article_id, idx} of the open article

  function articlePath(articleId, idx, action) {
    return followerPath("/articles/" + encodeURIComponent(articleId) + "/" + idx + "/" + action);
  }

  function showArticle(a) {
    shownArticle = { article_id: a.article_id, idx: a.idx };
    $("article-bar-title").textContent = a.account_name;
    $("article-title").textContent = a.deleted ? "" : a.title;
    $("article-author").textContent = a.deleted ? "" : a.author;
    $("article-account").textContent = a.deleted ? "" : a.account_name;
    $("article-date").textContent = a.deleted ? "" : a.date;
    $("article-deleted").hidden = !a.deleted;
    $("article-deleted").textContent = a.deleted ? S.deleted : "";
    var frame = $("article-body");
    frame.hidden = a.deleted;
    if (a.deleted) { frame.removeAttribute("src"); }
    else if (frame.getAttribute("src") !== a.content_url) { frame.setAttribute("src", a.content_url); }
    $("article-source").hidden = a.deleted || !a.source_url;
    if (a.source_url) { $("article-source").href = a.source_url; }
    $("article-reads").textContent = fmt(S.reads, a.read_count);
    $("article-like").textContent = S.like + " " + a.like_count;
    $("article-like").setAttribute("aria-pressed", a.liked ? "true" : "false");
    $("article-like").disabled = a.deleted;
    $("article-wow").textContent = S.wow + " " + a.wow_count;
    $("article-wow").setAttribute("aria-pressed", a.wowed ? "true" : "false");
    $("article-wow").disabled = a.deleted;
    $("article").hidden = false;
  }

  // Opening an article is one read by the selected follower; without one, the article's
  // permanent page opens in the in-phone browser.
  function openArticle(articleId, idx, url) {
    if (!state.openid) { openBrowser(url, ""); return Promise.resolve(); }
    status("");
    return api("POST", articlePath(articleId, idx, "open"), {})
      .then(showArticle)
      .catch(function (err) { status(fmt(S.failed, err.message)); });
  }

  function react(action) {
    if (!shownArticle || !state.openid) { return; }
    api("POST", articlePath(shownArticle.article_id, shownArticle.idx, action), {})
      .then(showArticle)
      .catch(function (err) { status(fmt(S.failed, err.message)); });
  }

  function closeArticle() {
    $("article").hidden = true;
    $("article-body").removeAttribute("src");
    shownArticle = null;
  }

  function openHistory() {
    if (!state.appid) { return; }
    status("");
    api("GET", "/" + encodeURIComponent(state.appid) + "/articles").then(function (data) {
      var list = $("history-list");
      list.textContent = "";
      if (!data.articles.length) { list.appendChild(el("li", "empty", S.no_articles)); }
      data.articles.forEach(function (publication) {
        var li = el("li");
        var cards = articleCards({
          article_id: publication.article_id,
          articles: publication.items.filter(function (i) { return !i.deleted; }).map(function (i) {
            return { idx: i.idx, title: i.title, description: i.digest, pic_url: i.thumb_url, url: i.url };
          })
        }, publication.origin);
        li.appendChild(cards);
        li.appendChild(el("div", "note", publication.date));
        list.appendChild(li);
      });
      $("history").hidden = false;
    }).catch(function (err) { status(fmt(S.failed, err.message)); });
  }

  $("article-close").addEventListener("click", closeArticle);
  $("article-like").addEventListener("click", function () { react("like"); });
  $("article-wow").addEventListener("click", function () { react("wow"); });
  $("open-history").addEventListener("click", openHistory);
  $("history-close").addEventListener("click", function () { $("history").hidden = true; });

  // ---------------------------------------------------------------- location picker

  // mode "select": the menu's location_select button (an event with its key);
  // mode "message": the composer's button (an ordinary location message).
  function openPicker(mode, key) {
    state.picking = { mode: mode, key: key || "" };
    $("location-x").value = "";
    $("location-y").value = "";
    $("location-label").value = "";
    $("location-picker").hidden = false;
  }

  function closePicker() {
    state.picking = null;
    $("location-picker").hidden = true;
  }

  function sendLocation(place) {
    var picking = state.picking;
    if (!picking) { return; }
    var x = Number(place.x), y = Number(place.y);
    if (!isFinite(x) || !isFinite(y) || x < -90 || x > 90 || y < -180 || y > 180 || place.x === "" || place.y === "") {
      status(S.bad_location);
      return;
    }
    closePicker();
    if (picking.mode === "select") {
      send({ type: "location_select", key: picking.key, x: x, y: y, scale: 15, label: place.label || "", poiname: place.poiname || place.label || "" });
    } else {
      send({ type: "location", x: x, y: y, scale: 15, label: place.label || "" });
    }
  }

  PLACES.forEach(function (place) {
    var li = el("li");
    var b = el("button", "", place.label);
    b.type = "button";
    b.dataset.testid = "place";
    b.appendChild(el("small", "", place.x.toFixed(4) + ", " + place.y.toFixed(4)));
    b.addEventListener("click", function () { sendLocation(place); });
    li.appendChild(b);
    $("places").appendChild(li);
  });
  $("location-cancel").addEventListener("click", closePicker);
  $("location-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var label = $("location-label").value.trim();
    sendLocation({ x: $("location-x").value, y: $("location-y").value, label: label, poiname: label });
  });
  $("send-location").addEventListener("click", function () { openPicker("message"); });

  // ---------------------------------------------------------------- menu

  function withMenuId(body) {
    if (state.menuid) { body.menu_id = state.menuid; } // only a conditional menu has one
    return body;
  }

  function menuAction(button) {
    closeMenus();
    switch (button.type) {
      case "click":
        send({ type: "click", key: button.key });
        break;
      case "view":
        send(withMenuId({ type: "view", url: button.url }));
        openBrowser(button.url, button.name);
        break;
      case "miniprogram":
        send(withMenuId({ type: "view_miniprogram", pagepath: button.pagepath }));
        openBrowser(button.url, button.name, fmt(S.miniprogram, button.appid + " " + button.pagepath));
        break;
      case "location_select":
        openPicker("select", button.key);
        break;
      case "scancode_push":
      case "scancode_waitmsg":
        var result = window.prompt(S.scan_prompt, "");
        if (result !== null) { send({ type: button.type, key: button.key, scan_result: result }); }
        break;
      default:
        status(fmt(S.unsupported, button.type));
    }
  }

  function closeMenus() {
    document.querySelectorAll(".submenu.open").forEach(function (m) { m.classList.remove("open"); });
  }

  function menuButton(button) {
    var b = el("button", "menu-button", button.name);
    b.type = "button";
    b.dataset.testid = "menu-button";
    if (button.type) { b.dataset.type = button.type; }
    return b;
  }

  function renderMenu(menu) {
    var nav = $("menu");
    nav.textContent = "";
    closeMenus();
    var buttons = ((menu && menu.button) || []).slice(0, 3);
    buttons.forEach(function (top) {
      var item = el("div", "menu-item");
      var btn = menuButton(top);
      item.appendChild(btn);
      var subs = top.sub_button && top.sub_button.list ? top.sub_button.list : top.sub_button;
      if (subs && subs.length) {
        item.classList.add("has-sub");
        var sub = el("div", "submenu");
        sub.setAttribute("role", "menu");
        subs.slice(0, 5).forEach(function (child) {
          var c = menuButton(child);
          c.setAttribute("role", "menuitem");
          c.addEventListener("click", function (e) { e.stopPropagation(); menuAction(child); });
          sub.appendChild(c);
        });
        item.appendChild(sub);
        btn.setAttribute("aria-haspopup", "menu");
        btn.addEventListener("click", function (e) {
          e.stopPropagation();
          var open = sub.classList.contains("open");
          closeMenus();
          if (!open) { sub.classList.add("open"); }
        });
      } else {
        btn.addEventListener("click", function (e) { e.stopPropagation(); menuAction(top); });
      }
      nav.appendChild(item);
    });
    $("to-menu").hidden = !buttons.length;
    // a chat opens on its menu until the follower picks the keyboard or the menu themselves
    if (!buttons.length) { setMode("keyboard"); } else if (!state.modeChosen) { setMode("menu"); }
  }

  // WeChat opens a chat with a menu on the menu bar; ⌨ switches to the composer and ≡ back.
  function setMode(mode) {
    $("bottom").dataset.mode = mode;
    closeMenus();
    if (mode === "keyboard" && state.menu) { $("text").focus(); }
  }

  $("to-keyboard").addEventListener("click", function (e) { e.stopPropagation(); state.modeChosen = true; setMode("keyboard"); });
  $("to-menu").addEventListener("click", function (e) { e.stopPropagation(); state.modeChosen = true; setMode("menu"); });

  // The menu this follower sees: a conditional menu matching their tags, or the default.
  // Only the newest request's answer is shown, as with the followers.
  var menuAsked = 0;
  function loadMenu() {
    var appid = state.appid, openid = state.openid;
    var key = appid + " " + openid;
    if (!appid || state.menuFor === key) { return Promise.resolve(); }
    state.menuFor = key;
    var asked = ++menuAsked;
    var query = openid ? "?openid=" + encodeURIComponent(openid) : "";
    return api("GET", "/" + encodeURIComponent(appid) + "/menu" + query).then(function (data) {
      if (asked !== menuAsked || state.menuFor !== key) { return; }
      state.menu = data.menu || null;
      state.menuid = data.menuid ? String(data.menuid) : "";
      PHONE.dataset.menuid = state.menuid;
      renderMenu(state.menu);
    }).catch(function (err) { state.menuFor = null; status(fmt(S.failed, err.message)); });
  }

  document.addEventListener("click", function (e) {
    if (!e.target.closest || !e.target.closest(".submenu")) { closeMenus(); }
  });

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
    if (!state.openid) { return Promise.resolve(); }
    status("");
    return api("POST", followerPath("/" + which), {})
      .catch(function (err) { status(fmt(S.failed, err.message)); })
      .then(function () { state.menuFor = null; return loadFollowers(state.openid); })
      .then(poll);
  }

  // Answers may come back out of order (a slow first load after a new follower's):
  // only the newest request's answer is shown.
  var followersAsked = 0;
  function loadFollowers(select) {
    if (!state.appid) { return Promise.resolve(); }
    var asked = ++followersAsked;
    return api("GET", "/" + encodeURIComponent(state.appid) + "/followers").then(function (data) {
      if (asked !== followersAsked) { return; }
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
      state.modeChosen = false;
      list.textContent = "";
      if (openid) { localStorage.setItem("sandbox.follower." + state.appid, openid); }
    }
    updateButtons();
    loadMenu();
    return poll();
  }

  function selectAccount(appid) {
    state.appid = appid;
    // a follower is created for an account: not before the accounts are loaded
    $("new-follower").disabled = !appid;
    state.openid = "";
    list.textContent = "";
    localStorage.setItem("sandbox.account", appid);
    var option = accountSel.selectedOptions[0];
    $("account-name").textContent = option ? option.textContent : "";
    state.menuFor = null;
    return loadFollowers().then(function () { return loadMenu(); });
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
  // a picture, voice or video from the phone: stored as the account's temporary media
  // by WeChat's rules (the driver API), then sent as the message carrying its media_id
  $("send-media").addEventListener("click", function () { $("media-file").click(); });
  $("media-file").addEventListener("change", function () {
    var file = $("media-file").files[0];
    $("media-file").value = "";
    if (!file || !state.openid) { return; }
    var f = current();
    if (f && !f.subscribed) { status(S.not_following); return; }
    status("");
    var form = new FormData();
    form.append("file", file);
    fetch(API + followerPath("/media"), { method: "POST", body: form, headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error(data.error || response.status); }
          return data;
        });
      })
      .then(function (m) {
        var body = { type: m.type, media_id: m.media_id };
        if (m.pic_url) { body.pic_url = m.pic_url; }
        if (m.format) { body.format = m.format; }
        return send(body);
      })
      .catch(function (err) { status(fmt(S.failed, err.message)); });
  });
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
