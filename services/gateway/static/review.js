/* The reviewer's workbench, enhanced: zoom and rotate each photo (CSS transforms), the keyboard
   shortcuts the page lists (read from the page, one list), "通过" by keyboard only after a second
   press. site.js keeps each form to one submission (data-busy). Without this file every page still
   works: the images open full size, the forms post. No inline script anywhere (CSP: script-src 'self'). */
(function () {
  "use strict";

  var ZOOMS = [1, 1.5, 2, 3, 4];
  var viewers = [];
  var active = 0;

  // --- photos ------------------------------------------------------------------------------
  function Viewer(figure, index) {
    var box = figure.querySelector(".viewer");
    var img = box && box.querySelector("img");
    this.figure = figure;
    this.index = index;
    this.zoom = 0; // index into ZOOMS
    this.rotate = 0; // degrees, a multiple of 90
    if (!img) return;
    var link = img.parentNode;
    var stage = document.createElement("div");
    stage.className = "stage";
    link.parentNode.replaceChild(stage, link); // the "查看原图" link below stays for full size
    stage.appendChild(img);
    box.classList.add("js");
    // A zoomed photo scrolls: keyboard users scroll it with the arrow keys once it has focus.
    box.tabIndex = 0;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", img.alt + "，可用方向键滚动");
    this.box = box;
    this.stage = stage;
    this.img = img;
    this.level = document.createElement("span");
    this.level.className = "level";
    this.level.setAttribute("aria-live", "polite");
    var tools = figure.querySelector(".tools");
    if (tools) {
      tools.hidden = false;
      tools.appendChild(this.level);
      var self = this;
      tools.addEventListener("click", function (e) {
        var button = e.target.closest("button[data-act]");
        if (button) {
          select(self.index);
          self.act(button.getAttribute("data-act"));
        }
      });
    }
    var me = this;
    if (img.complete && img.naturalWidth) this.layout();
    else img.addEventListener("load", function () { me.layout(); });
  }

  Viewer.prototype.act = function (what) {
    if (!this.img) return;
    if (what === "zoom-in") this.zoom = Math.min(this.zoom + 1, ZOOMS.length - 1);
    else if (what === "zoom-out") this.zoom = Math.max(this.zoom - 1, 0);
    else if (what === "rotate-left") this.rotate = (this.rotate + 270) % 360;
    else if (what === "rotate-right") this.rotate = (this.rotate + 90) % 360;
    else if (what === "reset") { this.zoom = 0; this.rotate = 0; }
    this.layout();
  };

  Viewer.prototype.layout = function () {
    var img = this.img;
    if (!img || !img.naturalWidth) return;
    var nw = img.naturalWidth, nh = img.naturalHeight;
    var cw = this.box.clientWidth, ch = this.box.clientHeight;
    var turned = this.rotate % 180 !== 0;
    var bw = turned ? nh : nw, bh = turned ? nw : nh;
    var scale = Math.min(cw / bw, ch / bh) * ZOOMS[this.zoom];
    img.style.width = nw * scale + "px";
    img.style.height = nh * scale + "px";
    img.style.transform = "translate(-50%, -50%) rotate(" + this.rotate + "deg)";
    this.stage.style.width = bw * scale + "px";
    this.stage.style.height = bh * scale + "px";
    this.box.scrollLeft = Math.max(0, (bw * scale - cw) / 2);
    this.box.scrollTop = Math.max(0, (bh * scale - ch) / 2);
    this.box.classList.toggle("zoomed", this.zoom > 0);
    this.box.classList.add("ready");
    this.figure.setAttribute("data-zoom", String(ZOOMS[this.zoom]));
    this.figure.setAttribute("data-rotate", String(this.rotate));
    this.level.textContent = Math.round(ZOOMS[this.zoom] * 100) + "% · " + this.rotate + "°";
  };

  function select(index) {
    if (!viewers.length) return;
    active = Math.max(0, Math.min(index, viewers.length - 1));
    viewers.forEach(function (v, i) { v.figure.classList.toggle("active", i === active); });
  }

  // --- saying things without a dialog ---------------------------------------------------------
  function note(text) {
    var out = document.getElementById("confirm-note");
    if (out) out.textContent = text;
  }

  // --- approve (twice by keyboard), reject, next, claim -------------------------------------
  var armed = null;

  function disarm() {
    var approve = document.getElementById("approve");
    if (armed) clearTimeout(armed);
    armed = null;
    if (approve) approve.classList.remove("armed");
    note("");
  }

  function submit(form, button) {
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit(button || undefined);
    else if (button) button.click();
    else form.submit();
  }

  var actions = {
    approve: function () {
      var approve = document.getElementById("approve");
      if (!approve) { note("请先领取任务"); return; }
      if (armed) { disarm(); submit(approve.form, approve); return; }
      approve.classList.add("armed");
      approve.scrollIntoView({block: "nearest"});
      note("再按一次 A 确认“通过”；按 Esc 取消");
      armed = setTimeout(disarm, 5000);
    },
    reject: function () {
      var figure = viewers[active] && viewers[active].figure;
      var box = (figure && figure.querySelector("[data-reasons-box]")) || document.querySelector("[data-reasons-box]");
      if (!box) { note("请先领取任务"); return; }
      box.open = true;
      var first = box.querySelector("input");
      first.scrollIntoView({block: "center"});
      first.focus();
    },
    next: function () { submit(document.querySelector("form[data-review-next]")); },
    claim: function () { submit(document.getElementById("claim-form")); },
    select: function (key) { select(Number(key) - 1); var v = viewers[active]; if (v) v.figure.scrollIntoView({block: "nearest"}); },
    escape: disarm
  };
  ["zoom-in", "zoom-out", "rotate-left", "rotate-right", "reset"].forEach(function (what) {
    actions[what] = function () { if (viewers[active]) viewers[active].act(what); };
  });

  function shortcuts() {
    var map = {};
    document.querySelectorAll("[data-shortcuts] [data-keys]").forEach(function (el) {
      el.getAttribute("data-keys").split(" ").forEach(function (key) { map[key] = el.getAttribute("data-action"); });
    });
    return map;
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    if (target.closest("textarea, select, [contenteditable]")) return true;
    var input = target.closest("input");
    return !!input && !/^(checkbox|radio|button|submit|reset)$/.test(input.type);
  }

  function chosen(root) {
    var n = root.querySelectorAll("input[type=checkbox]:checked").length;
    root.querySelectorAll("input[type=text]").forEach(function (el) { if (el.value.trim()) n += 1; });
    return n;
  }

  function picked() {
    document.querySelectorAll("[data-reasons-box]").forEach(function (box) {
      var n = chosen(box), out = box.querySelector("[data-chosen]");
      if (out) out.textContent = n ? "已选" + n + "项" : "";
    });
    var out = document.getElementById("picked");
    if (!out) return;
    var total = 0;
    document.querySelectorAll("[data-reasons-box]").forEach(function (box) { total += chosen(box); });
    out.textContent = total ? "已选择" + total + "项不通过原因" : "";
  }

  function start() {
    document.querySelectorAll("[data-photo]").forEach(function (figure, i) {
      var v = new Viewer(figure, i);
      viewers.push(v);
      figure.addEventListener("click", function () { select(i); });
      figure.addEventListener("focusin", function () { select(i); });
    });
    select(0);
    document.querySelectorAll("[data-js-hint]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-reasons]").forEach(function (set) {
      set.addEventListener("input", picked);
      set.addEventListener("change", picked);
    });
    picked();
    var map = shortcuts();
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (typing(e.target)) {
        if (e.key === "Escape") { e.target.blur(); disarm(); }
        return;
      }
      var action = map[e.key];
      if (!action || !actions[action]) return;
      if (action !== "approve" && armed) disarm();
      e.preventDefault();
      actions[action](e.key);
    });
    window.addEventListener("resize", function () { viewers.forEach(function (v) { v.layout(); }); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
